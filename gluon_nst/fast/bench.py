"""Benchmark the fast method: seconds per image and peak memory at several sizes.

    gluon-nst bench fast                          # 384x384, 1200x800, 1920x1080
    gluon-nst bench fast --sizes 600x400 --repeats 10 --threads 1
    gluon-nst bench fast --gatys                  # + the D2L recipe's time for the same size
    gluon-nst bench fast --json
(`python scripts/bench.py fast ...` is the same.)

Every size runs in its own process (fresh memory: its peak RSS is the size's).
An image's time is the transformer's forward pass (median of --repeats after one
warm-up); the style vector (once per style) and the content's own vector (only
for strength < 1) are timed apart.  --gatys runs `gluon-nst bench style` in a
child process for the recipe's two stages (a quarter of the size, then the size:
the book's 300x200 -> 1200x800) and reports 500 x step(quarter) + 300 x step(size),
the D2L recipe's optimisation time for that output, beside the fast time.
"""
import argparse
import json
import os

from ..benchmark import print_header, ENV_SHARED, measure_peak_gflops, parse_size, run_module, shared_folder
from ..errors import UserError
from .schema import SCHEMA

DEFAULT_SIZES = '384x384,1200x800,1920x1080'
RECIPE_STEPS = (500, 300)        # the D2L recipe: steps at a quarter of the size, then at it


def measure(args, w, h, threads):
    r = run_module(f'{__package__}.bench_pass',
                   ['--width', w, '--height', h, '--repeats', args.repeats, '--threads', threads,
                    '--precision', args.precision,
                    '--content', args.content, '--style', args.style]
                   + (['--weights', args.weights] if args.weights else []), threads, timeout=1800)
    return dict(width=w, height=h, seconds_per_image=r['median_step_s'], min_seconds=r['min_s'],
                style_vector_s=r['style_vector_s'], load_s=r['load_s'],
                megapixels_per_s=w * h / 1e6 / r['median_step_s'],
                peak_rss_mb=r['peak_rss_mb'], loaded_rss_mb=r['loaded_rss_mb'])


def gatys(args, sizes, threads):
    """The D2L recipe's time per output size, from `gluon-nst bench style` step times."""
    stage_sizes = []
    for w, h in sizes:
        stage_sizes += [(max(16, w // 4), max(16, h // 4)), (w, h)]
    text = ','.join(f'{w}x{h}' for w, h in dict.fromkeys(stage_sizes))
    r = run_module('gluon_nst', ['bench', 'style', '--sizes', text, '--steps', args.gatys_steps,
                                 '--threads', threads, '--content', args.content, '--style',
                                 args.style, '--json']
                   + (['--weights', args.weights] if args.weights else []), threads, timeout=7200)
    step = {(x['width'], x['height']): x['median_step_s']
            for x in json.loads(r['text'])['results']}
    out = {}
    for w, h in sizes:
        small = step[(max(16, w // 4), max(16, h // 4))]
        out[(w, h)] = dict(step_s_quarter=small, step_s=step[(w, h)],
                           recipe_s=RECIPE_STEPS[0] * small + RECIPE_STEPS[1] * step[(w, h)])
    return out


def main(argv=None):
    from ..runtime import cpu_count
    ap = argparse.ArgumentParser(prog='gluon-nst bench fast',
                                 description='Seconds per image and peak memory of the fast method.')
    ap.add_argument('--sizes', default=DEFAULT_SIZES, help='comma-separated WxH')
    ap.add_argument('--repeats', type=int, default=5, help='timed passes per size (after 1 warm-up)')
    ap.add_argument('--threads', type=int, default=0, help='ONNX Runtime threads (0: every core)')
    ap.add_argument('--weights', help='folder holding magenta/ (default: $GLUON_NST_SHARED/weights, '
                    'else $GLUON_NST_WEIGHTS or the cache)')
    ap.add_argument('--content', help='default: $GLUON_NST_SHARED/d2l/rainier.jpg')
    ap.add_argument('--style', help='default: $GLUON_NST_SHARED/d2l/autumn_oak.jpg')
    ap.add_argument('--precision', choices=SCHEMA['precision'].choices, default=SCHEMA['precision'].default,
                    help='the transformer\'s activations (default: the method\'s)')
    ap.add_argument('--gatys', action='store_true',
                    help='also time the D2L recipe (Gatys) for each size via `bench style` (slow)')
    ap.add_argument('--gatys-steps', type=int, default=3, help='timed style steps per stage size')
    ap.add_argument('--no-peak', action='store_true', help='skip the sgemm peak measurement')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    args = ap.parse_args(argv)
    if args.weights is None and os.environ.get(ENV_SHARED):
        args.weights = os.path.join(shared_folder('bench fast'), 'weights')
    for what, name in (('content', 'rainier.jpg'), ('style', 'autumn_oak.jpg')):
        if getattr(args, what) is None:
            setattr(args, what, os.path.join(shared_folder(f'bench fast: the {what} image'), 'd2l', name))
        if not os.path.isfile(getattr(args, what)):
            raise UserError(f'{what} image {getattr(args, what)} not found: pass --{what} or set '
                            '$GLUON_NST_SHARED to the shared data folder')
    threads = args.threads or cpu_count()
    sizes = [parse_size(s) for s in args.sizes.split(',')]
    peak = None if args.no_peak else measure_peak_gflops(threads)
    report = dict(machine_peak_gflops=peak, threads=threads, precision=args.precision,
                  results=[measure(args, w, h, threads) for w, h in sizes])
    if args.gatys:
        recipe = gatys(args, sizes, threads)
        for r in report['results']:
            g = recipe[(r['width'], r['height'])]
            r.update(gatys_step_s=g['step_s'], gatys_recipe_s=g['recipe_s'],
                     speedup=g['recipe_s'] / r['seconds_per_image'])
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if peak is not None:
        print(f'machine fp32 peak (sgemm, {threads} threads): {peak:.1f} GFLOP/s')
    print(f'onnxruntime threads: {threads}, {args.precision} activations')
    head = (f'{"size":>10s} {"s/image":>8s} {"MP/s":>6s} {"style vec s":>11s} {"peak RSS MB":>12s}'
            + (f' {"D2L recipe s":>13s} {"speed-up":>9s}' if args.gatys else ''))
    print_header(head)
    for r in report['results']:
        line = (f'{r["width"]:>5d}x{r["height"]:<4d} {r["seconds_per_image"]:8.3f} '
                f'{r["megapixels_per_s"]:6.2f} {r["style_vector_s"]:11.4f} {r["peak_rss_mb"]:12.0f}')
        if args.gatys:
            line += f' {r["gatys_recipe_s"]:13.0f} {r["speedup"]:8.0f}x'
        print(line)
    if not args.gatys:
        print('D2L recipe (Gatys) for the same size: add --gatys, or time its steps with '
              '`gluon-nst bench style --sizes W/4xH/4,WxH`: 500 x step(W/4xH/4) + 300 x step(WxH)')
