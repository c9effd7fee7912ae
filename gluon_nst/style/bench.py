"""Benchmark the style-transfer step, side by side with the peers.

    gluon-nst bench style                           # our step at 300x200 and 1200x800
    gluon-nst bench style --peers                   # + the book's MXNet loop and PyTorch
    gluon-nst bench style --scaling                 # step time against pixel count (plot)
    gluon-nst bench style --profile 300x200         # where the time goes (mx.profiler)
    gluon-nst bench style --json                    # machine-readable
(`python scripts/bench.py ...` is the same.)

Every measurement runs in its own process (fresh memory, its own peak RSS);
with --peers the programs alternate, `--repeats` rounds, and the table shows
medians.  Our step is the engine's own Adam loop (gluon_nst.optimize) with
the book's layers and weights, reading the losses every step as the peers do.
"""
import argparse
import json
import os
import statistics
import sys

from ..benchmark import measure_peak_gflops, parse_size, run_child

# The folder holding the gluon_nst package (a checkout's root: configs/ is beside it).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS_DIR = os.environ.get('GLUON_NST_SHARED', os.path.join(ROOT, '..', 'shared'))

# Conv layers of VGG-19 up to conv5_1 (the book's deepest layer): (in, out, pool level).
CONVS = [(3, 64, 0), (64, 64, 0), (64, 128, 1), (128, 128, 1), (128, 256, 2), (256, 256, 2),
         (256, 256, 2), (256, 256, 2), (256, 512, 3), (512, 512, 3), (512, 512, 3), (512, 512, 3),
         (512, 512, 4)]


def step_gflop(w, h):
    """Forward conv multiply-adds x2, plus the same again for the backward to the image."""
    fwd = 0
    for cin, cout, level in CONVS:
        fwd += 2 * 9 * cin * cout * (h >> level) * (w >> level)
    return 2 * fwd / 1e9


OURS = r'''
import os, resource, statistics, sys, time
sys.path.insert(0, {root!r})
import gluon_nst
from gluon_nst import config
from gluon_nst.style import engine
from gluon_nst.style.optimize import adam_stage
w, h, steps = {w}, {h}, {steps}
cfg = config.load(os.path.join({root!r}, 'configs', 'rainier.yaml'),
                  ['stages=[{{image_shape: [%d, %d], epochs: %d}}]' % (w, h, steps + 2),
                   'output.sync_every=1'] + {extra!r})
s = engine.Session(cfg)
from gluon_nst.style.objective import Objective, compile_objective
from gluon_nst import image_io
st = s.stages[0]
obj = Objective(s.features, s.spec, (h, w))
c = image_io.preprocess(s.content, st.shape, s.convention, s.ctx)
t = obj.targets(c, image_io.preprocess(s.style, st.shape, s.convention, s.ctx))
compile_objective(obj)
prof = {profile!r}
times, last = [], 0.0
for it in adam_stage(obj, t, c, st, cfg['optimizer'], sync_every=1):
    times.append(it.seconds - last); last = it.seconds
    if prof and it.step == 1:
        import mxnet as mx
        mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                               filename='/tmp/nst_profile.json')
        mx.profiler.set_state('run')
if prof:
    import mxnet as mx
    mx.nd.waitall(); mx.profiler.set_state('stop'); print(mx.profiler.dumps(reset=True))
print('ours %dx%d steps=%d median_step_s=%.4f threads=%d'
      % (w, h, steps, statistics.median(times[2:]), s.threads))
print('peak_rss_mb %.1f' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
'''

PEER = r'''
import resource, runpy, sys
sys.argv = [{script!r}, '--width', '{w}', '--height', '{h}', '--steps', '{steps}']
runpy.run_path({script!r}, run_name='__main__')
print('peak_rss_mb %.1f' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
'''


def programs(args, w, h):
    extra = [f'weights.path={args.weights}'] if args.weights else []
    progs = [('ours', OURS.format(root=ROOT, w=w, h=h, steps=args.steps, extra=extra, profile=False))]
    if args.peers:
        import importlib.util
        if importlib.util.find_spec('torch') is None:
            sys.exit('error: --peers runs the PyTorch peer: pip install -c constraints.txt -e ".[bench]"')
        for name, script in (('book_mxnet', 'peer_d2l_mxnet.py'), ('torch', 'peer_torch.py')):
            path = os.path.join(PEERS_DIR, 'bench', script)
            if not os.path.isfile(path):
                sys.exit(f'error: peer {path} not found: set GLUON_NST_SHARED to the shared folder')
            progs.append((name, PEER.format(script=path, w=w, h=h, steps=args.steps)))
    return progs


def bench_sizes(args, sizes):
    from gluon_nst.runtime import cpu_count
    threads = args.threads or cpu_count()
    peak = measure_peak_gflops(threads)
    results = []
    for w, h in sizes:
        runs = {}
        for _ in range(args.repeats):
            for name, code in programs(args, w, h):           # alternate the programs
                r = run_child(code, threads)
                runs.setdefault(name, []).append(r)
        for name, rs in runs.items():
            med = statistics.median(r['median_step_s'] for r in rs)
            results.append(dict(program=name, width=w, height=h, median_step_s=med,
                                steps=args.steps, repeats=args.repeats, threads=threads,
                                gflop_per_step=step_gflop(w, h), gflops=step_gflop(w, h) / med,
                                peak_fraction=step_gflop(w, h) / med / peak,
                                peak_rss_mb=max(r.get('peak_rss_mb', 0) for r in rs)))
    return dict(machine_peak_gflops=peak, threads=threads, results=results)


def print_table(report):
    print(f'machine fp32 peak (sgemm, {report["threads"]} threads): '
          f'{report["machine_peak_gflops"]:.1f} GFLOP/s')
    head = f'{"size":>10s} {"program":>11s} {"step s":>8s} {"vs book":>8s} {"vs torch":>9s} ' \
           f'{"GFLOP/s":>8s} {"% peak":>7s} {"peak RSS MB":>12s}'
    print(head)
    print('-' * len(head))
    by = {(r['width'], r['height'], r['program']): r for r in report['results']}
    for r in report['results']:
        key = (r['width'], r['height'])
        book, torch = by.get(key + ('book_mxnet',)), by.get(key + ('torch',))
        vb = f'{r["median_step_s"] / book["median_step_s"]:.2f}x' if book else '-'
        vt = f'{r["median_step_s"] / torch["median_step_s"]:.2f}x' if torch else '-'
        print(f'{r["width"]:>5d}x{r["height"]:<4d} {r["program"]:>11s} {r["median_step_s"]:8.3f} '
              f'{vb:>8s} {vt:>9s} {r["gflops"]:8.1f} {100 * r["peak_fraction"]:6.1f}% '
              f'{r["peak_rss_mb"]:12.0f}')


def scaling(args):
    sizes = [(150, 100), (300, 200), (600, 400), (900, 600), (1200, 800), (1600, 1067)]
    args.peers = False
    report = bench_sizes(args, sizes)
    rs = report['results']
    import numpy as np
    px = np.array([r['width'] * r['height'] for r in rs], dtype=float)
    t = np.array([r['median_step_s'] for r in rs])
    mem = np.array([r['peak_rss_mb'] for r in rs])
    slope, icpt = np.polyfit(px, mem, 1)          # MB per pixel, fixed MB
    budget = 24 * 1024 * 0.9                      # 24 GB machine, 10% headroom
    max_px = (budget - icpt) / slope
    report['memory_mb_per_megapixel'] = slope * 1e6
    report['largest_pixels_in_24gb'] = max_px
    report['largest_3x2_image_in_24gb'] = [int((max_px * 1.5) ** 0.5), int((max_px / 1.5) ** 0.5)]
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.loglog(px / 1e6, t, 'o-', label='measured')
    a1.loglog(px / 1e6, t[1] * px / px[1], ':', color='grey', label='linear in pixels')
    for (w, h), x, y in zip(sizes, px, t):
        a1.annotate(f'{w}x{h}', (x / 1e6, y), fontsize=7)
    a1.set_xlabel('megapixels')
    a1.set_ylabel('seconds per step')
    a1.legend()
    a2.plot(px / 1e6, mem / 1024, 'o-')
    a2.set_xlabel('megapixels')
    a2.set_ylabel('peak RSS (GiB)')
    a2.set_title(f'fits in 24 GB up to ~{max_px / 1e6:.1f} MP')
    fig.tight_layout()
    out = args.plot or 'bench_scaling.png'
    fig.savefig(out, dpi=100)
    report['plot'] = out
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(prog='gluon-nst bench style',
                                 description='Benchmark the style-transfer step.')
    ap.add_argument('--sizes', default='300x200,1200x800', help='comma-separated WxH')
    ap.add_argument('--steps', type=int, default=10, help='timed steps per run (after 2 warm-up)')
    ap.add_argument('--repeats', type=int, default=1, help='alternating rounds (medians reported)')
    ap.add_argument('--threads', type=int, default=0, help='threads for every program (0: all cores)')
    ap.add_argument('--peers', action='store_true', help='also run the book\'s loop and PyTorch')
    ap.add_argument('--scaling', action='store_true', help='step time and memory against pixels')
    ap.add_argument('--plot', help='scaling plot path (default bench_scaling.png)')
    ap.add_argument('--profile', metavar='WxH', help='print mx.profiler aggregate stats for one size')
    ap.add_argument('--weights', help='weights file or folder (default: the usual lookup)')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    args = ap.parse_args(argv)
    if args.profile:
        w, h = parse_size(args.profile)
        extra = [f'weights.path={args.weights}'] if args.weights else []
        from gluon_nst.runtime import cpu_count
        r = run_child(OURS.format(root=ROOT, w=w, h=h, steps=args.steps, extra=extra, profile=True),
                      args.threads or cpu_count())
        print(r['text'])
        return
    report = scaling(args) if args.scaling else \
        bench_sizes(args, [parse_size(s) for s in args.sizes.split(',')])
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_table(report)
    if args.scaling:
        print(f'memory: {report["memory_mb_per_megapixel"]:.0f} MB per megapixel; largest image in '
              f'24 GB: ~{report["largest_pixels_in_24gb"] / 1e6:.1f} MP '
              f'(e.g. {report["largest_3x2_image_in_24gb"][0]}x{report["largest_3x2_image_in_24gb"][1]}); '
              f'plot: {report["plot"]}')
