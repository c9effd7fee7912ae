"""Benchmark a dream step: its time, GFLOP/s against the machine's sgemm peak, the
cost of tiles, and memory.

    gluon-nst bench dream                         # 1024x768: whole image, tiles of 512
    gluon-nst bench dream --sizes 512x384,1024x768 --tiles 0,256,512 --margins 0,32 --onednn
    gluon-nst bench dream --sizes 4000x3000 --tiles 1024 --margins 32 --steps 1   # tiled only
    gluon-nst bench dream --json
    gluon-nst bench dream --peers                 # step and 4-octave dream against PyTorch
    gluon-nst bench dream --peers --profile       # + both sides' gradients by operator
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

from ..benchmark import (ENV_SHARED, alternate, check_same_work, group_ops, measure_peak_gflops,
                         parse_size, peer_row, print_header, print_peer_table, print_profile,
                         profile_entry, require_at_least, require_torch, run_module, shared_folder,
                         threads_text, top_ops, torch_version)
from ..errors import UserError
from .schema import use_onednn

# The first objective of both sides agrees to this (float32; the LRN and pools differ in order).
SAME_RTOL = 1e-4


def measure(args, w, h, tile, margin, threads, onednn, profile=False):
    return run_module(f'{__package__}.bench_step',
                      ['--width', w, '--height', h, '--tile', tile, '--margin', margin, '--steps',
                       args.steps, '--layer', args.layer]
                      + (['--weights', args.weights] if args.weights else [])
                      + ['--onednn', onednn] + (['--profile'] if profile else []), threads)


def profile_row(args, w, h, threads, peak):
    """Where a whole-image gradient's time goes, by operator group (mx.profiler), and
    the convolutions' own GFLOP/s: the ceiling on the step's share of the peak."""
    r = measure(args, w, h, 0, 0, threads, 'auto', profile=True)
    groups = group_ops(r['op_ms'])
    total = sum(groups.values())
    conv_s = groups.get('convolution', 0) / 1e3
    conv_gflops = 2 * r['flops'] / 1e9 / conv_s if conv_s else 0
    return dict(width=w, height=h, operator_ms=groups, operator_total_ms=total,
                convolution_gflops=conv_gflops, convolution_peak_fraction=conv_gflops / peak,
                top_operators=top_ops(r['op_ms'], 8))


def configurations(args):
    """(tile, margin, onednn) to measure, the whole image with the dream's default oneDNN
    setting on this CPU first: the others are compared with it."""
    sizes = [int(t) for t in args.tiles.split(',')]
    out = [(0, 0, 'auto')] if 0 in sizes else []
    if args.onednn:
        out.append((0, 0, 'off' if use_onednn('auto') else 'on'))
    for tile in [t for t in sizes if t]:
        out += [(tile, int(m), 'auto') for m in args.margins.split(',')]
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
                       onednn=r['onednn'],
                       threads=threads, median_step_s=r['median_step_s'],
                       median_grad_s=r['median_grad_s'], gflop_per_step=gflop,
                       gflops=gflop / r['median_step_s'],
                       peak_fraction=gflop / r['median_step_s'] / peak,
                       crop_pixels_ratio=(crop_pixels(tiles((w, h), tile, margin)) / (w * h))
                       if tile else 1.0,
                       peak_rss_mb=r.get('peak_rss_mb', 0.0))
            if not tile and onednn == 'auto':
                whole = row
            row['vs_whole'] = row['median_step_s'] / whole['median_step_s'] if whole else None
            results.append(row)
    profiles = [profile_row(args, *parse_size(s), threads, peak) for s in args.sizes.split(',')] \
        if args.profile else []
    return dict(machine_peak_gflops=peak, threads=threads, layer=args.layer, results=results,
                onednn_default=use_onednn('auto'),
                profiles=profiles)


def peers(args):
    """Google's step and a whole dream, ours against the same GoogLeNet in PyTorch."""
    from gluon_nst.runtime import cpu_count
    require_torch()
    if not args.weights:
        raise UserError('bench dream --peers: give --weights (the folder holding googlenet/) or set '
                        '$GLUON_NST_SHARED: the PyTorch peer reads the raw weight files')
    threads = args.threads or cpu_count()
    peak = measure_peak_gflops(threads)
    rows, profiles = [], []
    for w, h in [parse_size(s) for s in args.sizes.split(',')]:
        common = ['--width', w, '--height', h, '--steps', args.steps, '--layer', args.layer,
                  '--weights', args.weights, '--dream', args.octaves]
        runs = alternate([('ours', lambda: run_module(f'{__package__}.bench_step', common, threads)),
                          ('torch', lambda: run_module('gluon_nst.peers.torch_googlenet', common,
                                                       threads))], args.repeats)
        agree = check_same_work('the first dream objective', runs['ours'][0]['first_objective'],
                                runs['torch'][0]['first_objective'], SAME_RTOL)
        onednn = 'on' if runs['ours'][0]['onednn'] else 'off'
        rows.append(peer_row(f'step {w}x{h} ({args.layer}), oneDNN {onednn}', runs['ours'], runs['torch'],
                             agreement=agree))
        if args.octaves:
            rows.append(peer_row(f'whole dream, {args.octaves} octaves x 10 steps', runs['ours'],
                                 runs['torch'], key='dream_s'))
        if args.profile:        # one more run each side, the gradients profiled
            common[common.index('--dream') + 1] = 0
            ours = run_module(f'{__package__}.bench_step', common + ['--profile'], threads)
            peer = run_module('gluon_nst.peers.torch_googlenet', common + ['--profile'], threads)
            profiles.append(profile_entry(f'gradient {w}x{h} ({args.layer}), oneDNN {onednn}, '
                                          f'{threads_text(threads)}', ours['op_ms'], peer['op_ms']))
    return dict(machine_peak_gflops=peak, threads=threads, rounds=args.repeats,
                torch_version=torch_version(), peers=rows, profiles=profiles)


def print_table(report):
    print(f'machine fp32 peak (sgemm, {threads_text(report["threads"])}): '
          f'{report["machine_peak_gflops"]:.1f} GFLOP/s; layer {report["layer"]}, L2 objective; '
          f'oneDNN {"on" if report["onednn_default"] else "off"} (the dream\'s default on this CPU)')
    head = (f'{"size":>10s} {"tiles":>17s} {"step s":>8s} {"grad s":>8s} {"GFLOP/s":>8s} '
            f'{"% peak":>7s} {"vs whole":>9s} {"pixels":>7s} {"peak RSS MB":>12s}')
    print_header(head)
    for r in report['results']:
        tiles = f'{r["tile_size"]}+{r["margin"]}' if r['tile_size'] else 'whole'
        if r['onednn'] != report['onednn_default']:
            tiles += '/oneDNN-' + ('on' if r['onednn'] else 'off')
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
                                 description='Benchmark a DeepDream step (GoogLeNet).',
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument('--sizes', default='1024x768', help='comma-separated WxH')
    ap.add_argument('--tiles', default='0,512', help='comma-separated tile sizes (0: the whole image, '
                    'what the others are compared with)')
    ap.add_argument('--margins', default='0,32', help='comma-separated tile margins')
    ap.add_argument('--layer', default='inception_4c/output')
    ap.add_argument('--onednn', action='store_true',
                    help="also the whole image with oneDNN the other way from the dream's default here")
    ap.add_argument('--profile', action='store_true',
                    help="also profile the whole-image gradient by operator (with --peers: PyTorch's "
                    'profile beside ours)')
    ap.add_argument('--steps', type=int, default=5, help='timed steps (after 2 warm-up)')
    ap.add_argument('--threads', type=int, default=0, help='threads (0: all cores)')
    ap.add_argument('--weights', help='folder holding googlenet/ (default: $GLUON_NST_SHARED/weights, '
                    'else $GLUON_NST_WEIGHTS or the cache)')
    ap.add_argument('--peers', action='store_true',
                    help='the step and a whole dream against the same GoogLeNet in PyTorch')
    ap.add_argument('--octaves', type=int, default=4,
                    help="--peers: a whole dream of Google's recipe over this many octaves (0: none)")
    ap.add_argument('--repeats', type=int, default=3, help='--peers: alternating rounds')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    args = ap.parse_args(argv)
    require_at_least(1, steps=args.steps, repeats=args.repeats)
    if args.weights is None and os.environ.get(ENV_SHARED):
        args.weights = os.path.join(shared_folder('bench dream', '--weights'), 'weights')
    report = peers(args) if args.peers else run(args)
    if args.peers and not args.json:
        print_peer_table(report)
        for entry in report['profiles']:
            print_profile(entry, 'gradient')
        return 0
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print_table(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
