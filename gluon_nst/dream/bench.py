"""Benchmark a dream step: its time, GFLOP/s against the machine's sgemm peak, the
cost of tiles, and memory.

    gluon-nst bench dream                         # 1024x768: whole image, tiles of 512
    gluon-nst bench dream --sizes 512x384,1024x768 --tiles 0,256,512 --margins 0,32 --onednn
    gluon-nst bench dream --sizes 4000x3000 --tiles 1024 --margins 32 --steps 1   # tiled only
    gluon-nst bench dream --json
(`python scripts/bench.py dream ...` is the same.)

A step is Google's make_step (jitter, gradient, normalise, clip, roll back) on
`inception_4c/output` with the L2 objective, as configs/dream/google_original.yaml.
Each configuration runs in its own process (fresh memory, its own peak RSS).
GFLOP/s counts the forward convolutions up to the layer twice (the backward to the
image costs about as much as the forward; no weight gradients are computed), for
the image's own pixels: tile margins count as overhead, not as work.
"""
import argparse
import json
import os
import sys

from ..benchmark import measure_peak_gflops, parse_size, run_child

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('GLUON_NST_SHARED', os.path.join(ROOT, '..', 'shared'))

CHILD = r'''
import os, resource, statistics, sys, time
os.environ['MXNET_MKLDNN_ENABLED'] = {onednn!r}
os.environ['MXNET_STORAGE_FALLBACK_LOG_VERBOSE'] = '0'
sys.path.insert(0, {root!r})
import gluon_nst
import numpy as np
from gluon_nst import imaging
from gluon_nst.dream.engine import make_step
from gluon_nst.dream.objective import Objective
from gluon_nst.models import features
w, h, tile, margin, steps = {w}, {h}, {tile}, {margin}, {steps}
net = features.load({network!r}, {layers!r}, path={weights!r})
obj = Objective(net, 'mean_square')
rng = np.random.RandomState(0)
img = rng.uniform(0, 255, size=(h, w, 3)).astype(np.float32)
norms = obj.norms((w, h))
crops = imaging.tiles((w, h), tile, margin) if imaging.needs_tiles((w, h), tile) else None
grad_s = []
def grad_fn(rgb):
    t = time.perf_counter()
    v, g = obj.gradient(net.to_input(rgb), norms, crops)
    grad_s.append(time.perf_counter() - t)
    return v, net.to_pixels(g)
times = []
for i in range(2 + steps):
    t = time.perf_counter()
    img, v, s = make_step(img, grad_fn, 1.5, 'mean_abs', 32, True, rng)
    times.append(time.perf_counter() - t)
if {profile!r}:
    import mxnet as mx
    mx.profiler.set_config(profile_imperative=True, profile_symbolic=True, aggregate_stats=True,
                           filename=os.devnull)
    mx.profiler.set_state('run')
    for i in range({steps}):
        grad_fn(img)
    mx.profiler.set_state('stop')
    table = mx.profiler.dumps().split('operator\n')[-1]
    for line in table.splitlines():
        f = line.split()
        if len(f) == 6 and f[1].isdigit():
            print('op %s %.3f' % (f[0], float(f[2]) / {steps}))
print('median_step_s=%.4f' % statistics.median(times[2:]))
print('median_grad_s=%.4f' % statistics.median(grad_s[2:]))
print('flops %d' % net.forward_flops((w, h)))
print('peak_rss_mb %.1f' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
'''


def measure(args, w, h, tile, margin, threads, onednn, profile=False):
    code = CHILD.format(root=ROOT, w=w, h=h, tile=tile, margin=margin, steps=args.steps, profile=profile,
                        network='googlenet', layers=[args.layer], weights=args.weights,
                        onednn='1' if onednn else '0')
    r = run_child(code, threads)
    for line in r['text'].splitlines():
        if line.startswith('median_grad_s='):
            r['median_grad_s'] = float(line.split('=')[1])
        if line.startswith('flops'):
            r['flops'] = int(line.split()[1])
        if line.startswith('op '):
            r.setdefault('op_ms', {})[line.split()[1]] = float(line.split()[2])
    return r


# Operator groups of a profiled step (MXNet's names; a _backward_X goes with X).
OP_GROUPS = (('convolution', ('Convolution',)), ('pooling', ('Pooling',)),
             ('relu', ('relu',)), ('concat', ('Concat',)))


def op_group(name):
    base = name.replace('_backward_', '')
    return next((group for group, names in OP_GROUPS if base in names), 'other')


def profile_row(args, w, h, threads, peak):
    """Where a whole-image gradient's time goes, by operator group (mx.profiler), and
    the convolutions' own GFLOP/s: the ceiling on the step's share of the peak."""
    r = measure(args, w, h, 0, 0, threads, False, profile=True)
    groups = {}
    for name, ms in r.get('op_ms', {}).items():
        groups[op_group(name)] = groups.get(op_group(name), 0.0) + ms
    total = sum(groups.values())
    conv_s = groups.get('convolution', 0) / 1e3
    conv_gflops = 2 * r['flops'] / 1e9 / conv_s if conv_s else 0
    return dict(width=w, height=h, operator_ms=groups, operator_total_ms=total,
                convolution_gflops=conv_gflops, convolution_peak_fraction=conv_gflops / peak,
                top_operators=sorted(r.get('op_ms', {}).items(), key=lambda kv: -kv[1])[:8])


def configurations(args):
    """(tile, margin, onednn) to measure, the whole image without oneDNN (the dream's
    default) first: the others are compared with it."""
    sizes = [int(t) for t in args.tiles.split(',')]
    out = [(0, 0, False)] if 0 in sizes else []
    if args.onednn:
        out.append((0, 0, True))
    for tile in [t for t in sizes if t]:
        out += [(tile, int(m), False) for m in args.margins.split(',')]
    return out


def run(args):
    from gluon_nst.imaging import crop_pixels, tiles
    from gluon_nst.runtime import cpu_count
    threads = args.threads or cpu_count()
    peak = measure_peak_gflops(threads)
    results = []
    for w, h in [parse_size(s) for s in args.sizes.split(',')]:
        whole = None
        for tile, margin, onednn in configurations(args):
            r = measure(args, w, h, tile, margin, threads, onednn)
            gflop = 2 * r['flops'] / 1e9
            row = dict(width=w, height=h, tile_size=tile, margin=margin, steps=args.steps,
                       onednn=onednn,
                       threads=threads, median_step_s=r['median_step_s'],
                       median_grad_s=r['median_grad_s'], gflop_per_step=gflop,
                       gflops=gflop / r['median_step_s'],
                       peak_fraction=gflop / r['median_step_s'] / peak,
                       crop_pixels_ratio=(crop_pixels(tiles((w, h), tile, margin)) / (w * h))
                       if tile else 1.0,
                       peak_rss_mb=r.get('peak_rss_mb', 0.0))
            if not tile and not onednn:
                whole = row
            row['vs_whole'] = row['median_step_s'] / whole['median_step_s'] if whole else None
            results.append(row)
    profiles = [profile_row(args, *parse_size(s), threads, peak) for s in args.sizes.split(',')] \
        if args.profile else []
    return dict(machine_peak_gflops=peak, threads=threads, layer=args.layer, results=results,
                profiles=profiles)


def print_table(report):
    print(f'machine fp32 peak (sgemm, {report["threads"]} threads): '
          f'{report["machine_peak_gflops"]:.1f} GFLOP/s; layer {report["layer"]}, L2 objective')
    head = (f'{"size":>10s} {"tiles":>17s} {"step s":>8s} {"grad s":>8s} {"GFLOP/s":>8s} '
            f'{"% peak":>7s} {"vs whole":>9s} {"pixels":>7s} {"peak RSS MB":>12s}')
    print(head)
    print('-' * len(head))
    for r in report['results']:
        tiles = f'{r["tile_size"]}+{r["margin"]}' if r['tile_size'] else 'whole'
        tiles += ' oneDNN' if r['onednn'] else ''
        vs = f'{r["vs_whole"]:.2f}x' if r['vs_whole'] else '-'
        print(f'{r["width"]:>5d}x{r["height"]:<4d} {tiles:>17s} {r["median_step_s"]:8.3f} '
              f'{r["median_grad_s"]:8.3f} {r["gflops"]:8.1f} {100 * r["peak_fraction"]:6.1f}% '
              f'{vs:>9s} {r["crop_pixels_ratio"]:6.2f}x {r["peak_rss_mb"]:12.0f}')
    for p in report.get('profiles', []):
        total = p['operator_total_ms']
        print(f'\nprofile, {p["width"]}x{p["height"]} whole (operators, forward + backward, '
              f'ms per gradient): {total:.0f} ms')
        for group, ms in sorted(p['operator_ms'].items(), key=lambda kv: -kv[1]):
            print(f'  {group:>12s} {ms:8.1f} ms {100 * ms / total:5.1f}%')
        print(f'  convolutions alone: {p["convolution_gflops"]:.1f} GFLOP/s, '
              f'{100 * p["convolution_peak_fraction"]:.1f}% of peak (LRN window sums included)')
        print('  top operators: ' + ', '.join(f'{n} {ms:.0f}' for n, ms in p['top_operators']))


def main(argv=None):
    ap = argparse.ArgumentParser(prog='gluon-nst bench dream',
                                 description='Benchmark a DeepDream step (GoogLeNet).')
    ap.add_argument('--sizes', default='1024x768', help='comma-separated WxH')
    ap.add_argument('--tiles', default='0,512', help='comma-separated tile sizes (0: the whole image, '
                    'what the others are compared with)')
    ap.add_argument('--margins', default='0,32', help='comma-separated tile margins')
    ap.add_argument('--layer', default='inception_4c/output')
    ap.add_argument('--onednn', action='store_true',
                    help="also the whole image with MXNet's oneDNN kernels (the dream runs without)")
    ap.add_argument('--profile', action='store_true',
                    help='also profile the whole-image gradient by operator (mx.profiler)')
    ap.add_argument('--steps', type=int, default=5, help='timed steps (after 2 warm-up)')
    ap.add_argument('--threads', type=int, default=0, help='threads (0: all cores)')
    ap.add_argument('--weights', default=os.path.join(SHARED, 'weights'),
                    help='folder holding googlenet/ (default: ../shared/weights)')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    args = ap.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print_table(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
