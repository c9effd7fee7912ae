#!/usr/bin/env python3
"""Thumbnails and table rows for finished run folders (the README's gallery and the results
table in docs/methods/style.md).

    python scripts/gallery.py RUN [RUN ...] [--out docs/img/gallery] [--width 256]

For each run folder: `<out>/<folder name>.png`, its result.png resized to `--width`
(kept under 200 KB: the width shrinks until it fits), and one markdown row with
the config, how far it ran, its wall time and threads, and the quality numbers of
its record.json (scored now with `gluon-nst quality` when the record has none, e.g.
a run stopped early).
"""
import argparse
import io
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

MAX_BYTES = 200 * 1024


def thumbnail(src, dst, width):
    """Write `src` resized to `width` (smaller if the PNG would pass MAX_BYTES); its size."""
    from PIL import Image
    img = Image.open(src).convert('RGB')
    while True:
        h = round(img.height * width / img.width)
        buf = io.BytesIO()
        img.resize((width, h), Image.LANCZOS).save(buf, format='PNG', optimize=True)
        if buf.tell() <= MAX_BYTES or width <= 64:
            break
        width = int(width * 0.85)
    with open(dst, 'wb') as f:
        f.write(buf.getvalue())
    return width, h


def run_length(record, run):
    steps = record.get('steps_done')
    if record.get('method') in ('style', None):
        import yaml
        with open(os.path.join(run, 'config.yaml')) as f:
            optimizer = (yaml.safe_load(f).get('optimizer') or {}).get('name')
        if optimizer == 'lbfgs':          # Keras' rounds of scipy's L-BFGS-B
            return f'{steps} rounds'
    total = sum(s.get('steps', s.get('epochs', 0)) for s in record.get('stages', [])) or None
    if record.get('method') == 'fast':
        return f"{steps} image{'s' if steps != 1 else ''}"
    if total and steps != total:
        return f'{steps} of {total} steps ({record.get("status")})'
    return f'{steps} steps'


def quality(record, run):
    q = record.get('quality')
    if q and 'content_distance' in q:
        return q
    if record.get('method') not in ('style', None):
        return None
    import yaml
    from gluon_nst.quality import measure
    with open(os.path.join(run, 'config.yaml')) as f:     # the run's resolved config
        cfg = yaml.safe_load(f)
    content, styles = cfg['content_image'], cfg['style_image']
    weights_path = (cfg.get('weights') or {}).get('path')
    try:
        return measure(os.path.join(run, 'result.png'), content, styles, weights_path=weights_path)
    except Exception as e:          # noqa: BLE001 - a row without numbers, with the reason
        print(f'{run}: not scored: {e}', file=sys.stderr)
        return None


def row(run, out, width):
    with open(os.path.join(run, 'record.json')) as f:
        record = json.load(f)
    name = os.path.basename(os.path.normpath(run))
    dst = os.path.join(out, name + '.png')
    thumbnail(os.path.join(run, 'result.png'), dst, width)
    q = quality(record, run)
    numbers = (f"{q['content_distance']:.3f} / {q['style_distance']:.3f}" if q else '-')
    config = record.get('command', '').split()
    config = next((c for c in config if c.endswith(('.yaml', '.yml'))), '?')
    wall = record.get('wall_seconds', 0)
    return (f"| `{config}` | {run_length(record, run)} | {wall / 60:.1f} min, {record.get('threads')} "
            f"thread(s) | {numbers} | ![]({dst}) |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('runs', nargs='+', help='run folders (each with record.json and result.png)')
    p.add_argument('--out', default='docs/img/gallery', help='thumbnail folder')
    p.add_argument('--width', type=int, default=256, help='thumbnail width in pixels')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print('| config | length | wall time | content / style distance | result |')
    print('|---|---|---|---|---|')
    for run in args.runs:
        if not os.path.isfile(os.path.join(run, 'record.json')):
            print(f'error: {run} has no record.json: give a run folder', file=sys.stderr)
            return 2
        print(row(run, args.out, args.width))
    return 0


if __name__ == '__main__':
    sys.exit(main())
