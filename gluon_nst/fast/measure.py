"""Measure the fast method's content survival over strengths, its automatic strength, and
int8 against float activations (the figures behind the defaults in fast/schema.py).

    python -m gluon_nst.fast.measure strength --styles A.jpg B.bmp --strip docs/img/fast_strength.png
    python -m gluon_nst.fast.measure precision --size 1200x800 --repeats 5 --threads 2

`strength`: for each style, the content measure (engine.content_correlation) and the
PSNR against the content at strengths 0, 0.1, ..., 1, the strength `auto` picks, and
optionally a strip (rows: styles, columns: the strengths in --strip-strengths).
`precision`: one process, both models loaded, transformer passes alternated int8 /
float after a warm-up (median seconds each), and the picture difference between them.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np

from ..benchmark import parse_size
from ..image_io import read_rgb
from ..imaging import fit_size, to_uint8
from ..models import magenta
from . import engine, schema

SHARED = os.environ.get('GLUON_NST_SHARED', os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), '..', 'shared'))
STRENGTHS = [round(0.1 * i, 1) for i in range(11)]


def psnr(a, b):
    err = np.mean((to_uint8(magenta.to_float01(a), 1.0).astype(np.float64)
                   - to_uint8(magenta.to_float01(b), 1.0).astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / err)) if err > 0 else float('inf')


def strength_table(model, content, styles, size, threshold, strengths=STRENGTHS):
    """{style path: dict(rows=[(strength, measure, psnr)], auto=(strength, measure))}."""
    x = magenta.resize(content, *size)
    own = model.style_vector(content)
    out = {}
    for path in styles:
        vector = model.style_vector(read_rgb(path, 'style image'))
        rows = []
        for s in strengths:
            y = model.transform(x, engine.interpolate(vector, own, s))
            rows.append((s, round(engine.content_correlation(y, x), 3), round(psnr(y, x), 2)))
        chosen, measure, _ = engine.auto_strength(model, content, vector, own, threshold)
        out[path] = dict(rows=rows, auto=(round(chosen, 4), measure))
    return out


def strip(model, content, styles, strengths, side, path):
    """A grid: one row per style (its 256x256 square first), one column per strength."""
    from PIL import Image
    h, w = content.shape[:2]
    width, height = fit_size((w, h), side)
    x = magenta.resize(content, width, height)
    own = model.style_vector(content)
    gap = 4
    sheet = Image.new('RGB', (height + len(strengths) * (width + gap), len(styles) * (height + gap) - gap),
                      'white')
    for r, style_path in enumerate(styles):
        style = read_rgb(style_path, 'style image')
        vector = model.style_vector(style)
        square = to_uint8(magenta.square_image(style, height - gap), 1.0)
        sheet.paste(Image.fromarray(square), (0, r * (height + gap)))
        for c, s in enumerate(strengths):
            y = to_uint8(model.transform(x, engine.interpolate(vector, own, s)), 1.0)
            sheet.paste(Image.fromarray(y), (height + c * (width + gap), r * (height + gap)))
    # 256 colours: a docs-sized PNG (a third of the RGB file's bytes).
    sheet.quantize(colors=256, method=Image.MEDIANCUT).save(path, optimize=True)
    return sheet.size


def precision_compare(weights, content, style, size, repeats, threads):
    """Median transformer seconds for int8 and float activations (alternated in one process)
    and their picture difference (mean and max absolute, 0..1; PSNR)."""
    models = {p: magenta.load(weights, threads, precision=p) for p in magenta.PRECISIONS}
    x = magenta.resize(content, *size)
    vector = models['int8'].style_vector(style)
    outs = {p: m.transform(x, vector) for p, m in models.items()}      # warm-up
    times = {p: [] for p in models}
    for _ in range(repeats):
        for p, m in models.items():
            t = time.perf_counter()
            m.transform(x, vector)
            times[p].append(time.perf_counter() - t)
    diff = np.abs(outs['int8'] - outs['float'])
    return dict(width=size[0], height=size[1], threads=models['int8'].threads,
                seconds={p: round(statistics.median(t), 4) for p, t in times.items()},
                mean_abs_diff=round(float(diff.mean()), 4), max_abs_diff=round(float(diff.max()), 4),
                psnr_db=round(psnr(outs['int8'], outs['float']), 2),
                content_measure={p: round(engine.content_correlation(o, x), 3)
                                 for p, o in outs.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m gluon_nst.fast.measure', description=__doc__.split('\n')[0])
    ap.add_argument('what', choices=['strength', 'precision'])
    ap.add_argument('--content', default=os.path.join(SHARED, 'd2l', 'rainier.jpg'))
    ap.add_argument('--styles', nargs='+', default=[os.path.join(SHARED, 'd2l', 'autumn_oak.jpg')])
    ap.add_argument('--weights', default=os.path.join(SHARED, 'weights'))
    ap.add_argument('--size', default='384x256', help='WxH of the measured pass')
    ap.add_argument('--threshold', type=float,
                    default=schema.SCHEMA['auto_threshold'].default, help='for the automatic strength')
    ap.add_argument('--precision', choices=magenta.PRECISIONS, default=schema.SCHEMA['precision'].default)
    ap.add_argument('--strip', help='strength: also write a strip image here')
    ap.add_argument('--strip-strengths', default='0,0.25,0.5,0.75,1')
    ap.add_argument('--strip-side', type=int, default=150, help='each picture\'s longest side')
    ap.add_argument('--repeats', type=int, default=5, help='precision: timed passes each')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args(argv)
    content = read_rgb(args.content, 'content image')
    size = parse_size(args.size)
    if args.what == 'precision':
        style = read_rgb(args.styles[0], 'style image')
        print(json.dumps(precision_compare(args.weights, content, style, size, args.repeats,
                                           args.threads), indent=2))
        return
    model = magenta.load(args.weights, args.threads, precision=args.precision)
    table = strength_table(model, content, args.styles, size, args.threshold)
    print(f'content measure (luminance correlation at {engine.CONTENT_MEASURE_SIDE} px) / PSNR dB '
          f'at {size[0]}x{size[1]}, {args.precision} activations; auto: threshold {args.threshold}')
    print(f'{"style":24s} ' + ' '.join(f'{s:>10g}' for s in STRENGTHS) + '   auto')
    for path, t in table.items():
        cells = ' '.join(f'{f"{m:.2f}/{p:.1f}":>10s}' for _, m, p in t['rows'])
        print(f'{os.path.basename(path):24s} {cells}   {t["auto"][0]:.3f} ({t["auto"][1]:.2f})')
    if args.strip:
        strengths = [float(s) for s in args.strip_strengths.split(',')]
        w, h = strip(model, content, args.styles, strengths, args.strip_side, args.strip)
        print(f'wrote {args.strip} ({w}x{h}, {os.path.getsize(args.strip) // 1024} KB)')


if __name__ == '__main__':
    main()
