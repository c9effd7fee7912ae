"""Measure what notebook.live() costs a run, in a real Jupyter kernel (nbclient).

    python notebooks/measure_live_overhead.py [--size 150x100] [--steps 40] [--rounds 3]

The same style config runs with and without the live view, alternating (after one
warm-up run), in one kernel; it prints each run's optimisation time (record.json's
stage seconds), the view's own drawing time, and the ratios.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CELL = '''
import json, os, tempfile, time
from gluon_nst import config, notebook, run
shared = os.environ.get('GLUON_NST_SHARED') or os.path.join({root!r}, '..', 'shared')
d2l = os.path.join(shared, 'd2l')
out = tempfile.mkdtemp()
cfg = config.load(os.path.join({root!r}, 'configs', 'rainier.yaml'), overrides=[
    ('content_image', os.path.join(d2l, 'rainier.jpg')), ('style_image', os.path.join(d2l, 'autumn_oak.jpg')),
    ('weights.path', os.path.join(shared, 'weights')), ('output.dir', os.path.join(out, 'run')),
    ('output.quality', False), ('stages', [dict(image_shape=[{w}, {h}], steps={steps})])])


def one(with_view):
    view = notebook.live() if with_view else None
    run_dir = run.train(cfg, quiet=True, overwrite=True, callback=view)
    seconds = sum(json.load(open(os.path.join(run_dir, 'record.json')))['stage_seconds'].values())
    return dict(view=with_view, seconds=seconds, draws=view.draws if view else 0,
                draw_seconds=view.draw_seconds if view else 0.0)


one(False)                                  # warm-up: caches, first graph build
results = []
for r in range({rounds}):
    for with_view in ((True, False) if r % 2 == 0 else (False, True)):
        results.append(one(with_view))
        print(json.dumps(results[-1]), flush=True)
on = [x['seconds'] for x in results if x['view']]
off = [x['seconds'] for x in results if not x['view']]
share = sum(x['draw_seconds'] for x in results) / sum(on)
draws = sum(x['draws'] for x in results)
print(f'with/without (sum of {{len(on)}} runs each): {{sum(on) / sum(off):.4f}}; '
      f'drawing share of the runs with the view: {{100 * share:.2f}}%; '
      f'draws: {{draws}} in {{sum(on):.1f}} s, {{1000 * share * sum(on) / draws:.1f}} ms each')
'''


def main(argv=None):
    import nbclient
    import nbformat
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', default='150x100', help='WxH of the style stage')
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--rounds', type=int, default=3, help='pairs with / without the view')
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split('x'))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL.format(root=ROOT, w=w, h=h, steps=a.steps, rounds=a.rounds))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get('PYTHONPATH')) if p))
    nbclient.NotebookClient(nb, timeout=None, kernel_name='python3').execute(env=env)
    for o in nb.cells[0].outputs:
        if o.output_type == 'stream' and o.name == 'stdout':
            sys.stdout.write(o.text)


if __name__ == '__main__':
    main()
