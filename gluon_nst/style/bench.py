"""Benchmark the style-transfer step, side by side with the peers.

    gluon-nst bench style                           # the D2L step at 300x200 and 1200x800
    gluon-nst bench style --peers                   # + the book's MXNet loop and PyTorch
    gluon-nst bench style --recipe gatys --peers    # gatys.yaml's L-BFGS at 512 px vs torch.optim.LBFGS
    gluon-nst bench style --scaling                 # step time against pixel count (plot)
    gluon-nst bench style --profile 300x200         # where the time goes, by operator
    gluon-nst bench style --recipe gatys --profile 512x341 --peers   # ours beside PyTorch's
    gluon-nst bench style --json                    # machine-readable
(`python scripts/bench.py ...` is the same.)  Images, weights and the D2L peers come
from $GLUON_NST_SHARED (d2l/, weights/, bench/) unless --content, --style, --weights
are given.

Every measurement runs in its own process (python -m gluon_nst.style.bench_adam,
.bench_lbfgs, gluon_nst.peers.torch_lbfgs: fresh memory, its own peak RSS); with
--peers the programs alternate, `--repeats` rounds, and the table shows medians.
The D2L step is the engine's own Adam loop with the book's layers and weights; the
gatys recipe runs configs/gatys.yaml through the engine's L-BFGS, the peer
torch.optim.LBFGS with jcjohnson/neural-style's settings on the same Caffe VGG-19
and the same inputs (its first loss must agree with ours).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from ..benchmark import (alternate, check_same_work, measure_peak_gflops, parse_size, peer_row,
                         print_header, print_peer_table, print_profile, profile_entry, require_at_least,
                         require_torch, run_command, run_module, shared_folder, threads_text,
                         torch_version)
from ..errors import UserError

# Conv layers of VGG-19 up to conv5_1 (the book's deepest layer): (in, out, pool level).
CONVS = [(3, 64, 0), (64, 64, 0), (64, 128, 1), (128, 128, 1), (128, 256, 2), (256, 256, 2),
         (256, 256, 2), (256, 256, 2), (256, 512, 3), (512, 512, 3), (512, 512, 3), (512, 512, 3),
         (512, 512, 4)]
VGG_H5 = os.path.join('vgg19', 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5')
# First losses of the two sides agree to this (float32, oneDNN against torch's kernels).
SAME_LOSS_RTOL = 1e-3


def step_gflop(w, h):
    """Forward conv multiply-adds x2, plus the same again for the backward to the image."""
    fwd = 0
    for cin, cout, level in CONVS:
        fwd += 2 * 9 * cin * cout * (h >> level) * (w >> level)
    return 2 * fwd / 1e9


def inputs(args):
    """content, style and weights: the options, else from $GLUON_NST_SHARED."""
    def pick(value, *parts):
        return value or os.path.join(shared_folder('bench style: the content, style and weights',
                                                   '--content, --style and --weights'), *parts)
    args.content = pick(args.content, 'd2l', 'rainier.jpg')
    args.style = pick(args.style, 'd2l', 'autumn_oak.jpg')
    args.weights = pick(args.weights, 'weights')
    for what in ('content', 'style', 'weights'):
        if not os.path.exists(getattr(args, what)):
            raise UserError(f'{what} {getattr(args, what)} does not exist: pass --{what} or set '
                            '$GLUON_NST_SHARED to the shared data folder')


def adam_args(args, w, h, profile=False):
    return (['--content', args.content, '--style', args.style, '--weights', args.weights,
             '--width', w, '--height', h, '--steps', args.steps] + (['--profile'] if profile else []))


def programs(args, w, h, threads):
    progs = [('ours', lambda: run_module(f'{__package__}.bench_adam', adam_args(args, w, h), threads))]
    if args.peers:
        require_torch()
        for name, script in (('book_mxnet', 'peer_d2l_mxnet.py'), ('torch', 'peer_torch.py')):
            path = os.path.join(shared_folder('bench style --peers: the D2L peers'), 'bench', script)
            if not os.path.isfile(path):
                raise UserError(f'peer {path} not found: set $GLUON_NST_SHARED to the shared folder')
            cmd = [sys.executable, path, '--width', str(w), '--height', str(h), '--steps', str(args.steps)]
            progs.append((name, lambda cmd=cmd: run_command(cmd, threads)))
    return progs


def bench_sizes(args, sizes):
    from gluon_nst.runtime import cpu_count
    threads = args.threads or cpu_count()
    peak = measure_peak_gflops(threads)
    results = []
    for w, h in sizes:
        runs = alternate(programs(args, w, h, threads), args.repeats)
        for name, rs in runs.items():
            med = statistics.median(r['median_step_s'] for r in rs)
            results.append(dict(program=name, width=w, height=h, median_step_s=med,
                                steps=args.steps, repeats=args.repeats, threads=threads,
                                gflop_per_step=step_gflop(w, h), gflops=step_gflop(w, h) / med,
                                peak_fraction=step_gflop(w, h) / med / peak,
                                peak_rss_mb=max(r['peak_rss_mb'] for r in rs)))
    return dict(machine_peak_gflops=peak, threads=threads, results=results)


def time_to_loss(seconds, losses, target):
    """Seconds until the loss first reached `target` (None if it never did)."""
    return next((s for s, v in zip(seconds, losses) if v <= target), None)


def vgg19_h5(args):
    return args.weights if args.weights.endswith('.h5') else os.path.join(args.weights, VGG_H5)


def gatys(args):
    """gatys.yaml's L-BFGS iteration and time to a loss, ours against torch.optim.LBFGS."""
    from gluon_nst.runtime import cpu_count
    require_torch()
    threads = args.threads or cpu_count()
    peak = measure_peak_gflops(threads)
    h5 = vgg19_h5(args)
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.path.join(tmp, 'inputs.npz')
        common = ['--iterations', args.iterations]
        ours_args = common + ['--content', args.content, '--style', args.style, '--weights',
                              args.weights, '--longest-side', args.longest_side, '--save-inputs', saved]
        runs = alternate([('ours', lambda: run_module(f'{__package__}.bench_lbfgs', ours_args, threads)),
                          ('torch', lambda: run_module('gluon_nst.peers.torch_lbfgs',
                                                       common + ['--inputs', saved, '--vgg19-h5', h5],
                                                       threads))], args.repeats)
    ours, peer = runs['ours'], runs['torch']
    agree = check_same_work('gatys.yaml first loss', ours[0]['first_loss'], peer[0]['first_loss'],
                            SAME_LOSS_RTOL)
    # Both reach this loss within the run: the smaller side's best.
    target = max(min(ours[0]['losses']), min(peer[0]['losses']))
    for r in ours:      # our loss of point k is known once iteration k-1 evaluated it
        r['time_to_loss_s'] = time_to_loss(r['seconds'][:-1], r['losses'][1:], target)
    for r in peer:
        r['time_to_loss_s'] = time_to_loss(r['seconds'], r['losses'], target)
    w, h = ours[0]['width'], ours[0]['height']
    rows = [peer_row(f'L-BFGS iteration {w}x{h} (gatys.yaml)', ours, peer, agreement=agree),
            peer_row(f'{args.iterations} iterations to loss {target:.4g}', ours, peer,
                     key='time_to_loss_s')]
    return dict(machine_peak_gflops=peak, threads=threads, rounds=args.repeats,
                torch_version=torch_version(), peers=rows,
                final_loss=dict(ours=ours[0]['losses'][-1], torch=peer[0]['losses'][-1]))


def profile(args, w, h):
    """Where a step's (d2l) or an L-BFGS iteration's (gatys) time goes, by operator; with
    --peers (gatys), PyTorch's own profile of the same iteration beside ours."""
    from gluon_nst.runtime import cpu_count
    threads = args.threads or cpu_count()
    if args.recipe == 'd2l':
        r = run_module(f'{__package__}.bench_adam', adam_args(args, w, h, profile=True), threads)
        return profile_entry(f'D2L Adam step {w}x{h}, {threads_text(threads)}', r['op_ms'])
    if args.peers:
        require_torch()
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.path.join(tmp, 'inputs.npz')
        r = run_module(f'{__package__}.bench_lbfgs',
                       ['--content', args.content, '--style', args.style, '--weights', args.weights,
                        '--longest-side', max(w, h), '--iterations', args.iterations, '--profile',
                        '--save-inputs', saved], threads)
        peer = run_module('gluon_nst.peers.torch_lbfgs',
                          ['--inputs', saved, '--vgg19-h5', vgg19_h5(args), '--iterations',
                           args.iterations, '--profile'], threads)['op_ms'] if args.peers else None
    return profile_entry(f'L-BFGS iteration {r["width"]}x{r["height"]} (gatys.yaml), '
                         f'{threads_text(threads)}', r['op_ms'], peer)


def print_table(report):
    print(f'machine fp32 peak (sgemm, {threads_text(report["threads"])}): '
          f'{report["machine_peak_gflops"]:.1f} GFLOP/s')
    head = f'{"size":>10s} {"program":>11s} {"step s":>8s} {"vs book":>8s} {"vs torch":>9s} ' \
           f'{"GFLOP/s":>8s} {"% peak":>7s} {"peak RSS MB":>12s}'
    print_header(head)
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
    from ..plots import subplots
    fig, (a1, a2) = subplots(1, 2, figsize=(10, 4))
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
                                 description='Benchmark the style-transfer step.',
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument('--recipe', choices=('d2l', 'gatys'), default='d2l',
                    help="d2l: rainier.yaml's Adam step; gatys: gatys.yaml's L-BFGS iteration")
    ap.add_argument('--sizes', default='300x200,1200x800', help='comma-separated WxH (d2l)')
    ap.add_argument('--steps', type=int, default=10, help='timed steps per run (after 2 warm-up)')
    ap.add_argument('--longest-side', type=int, default=512, help='image size (gatys)')
    ap.add_argument('--iterations', type=int, default=20, help='L-BFGS iterations per run (gatys)')
    ap.add_argument('--repeats', type=int, default=1, help='alternating rounds (medians reported)')
    ap.add_argument('--threads', type=int, default=0, help='threads for every program (0: all cores)')
    ap.add_argument('--peers', action='store_true',
                    help="also run the peers (d2l: the book's loop and PyTorch; gatys: PyTorch)")
    ap.add_argument('--scaling', action='store_true', help='step time and memory against pixels')
    ap.add_argument('--plot', help='scaling plot path (default bench_scaling.png)')
    ap.add_argument('--profile', metavar='WxH',
                    help='where the time goes at one size, by operator (with --recipe gatys --peers: '
                    "PyTorch's profile beside ours)")
    ap.add_argument('--content', help='content image (default: $GLUON_NST_SHARED/d2l/rainier.jpg)')
    ap.add_argument('--style', help='style image (default: $GLUON_NST_SHARED/d2l/autumn_oak.jpg)')
    ap.add_argument('--weights', help='weights file or folder (default: $GLUON_NST_SHARED/weights)')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    args = ap.parse_args(argv)
    # Two warm-up steps (or iterations), then timed ones; an L-BFGS run's last iteration
    # evaluates nothing.
    require_at_least(1, steps=args.steps, repeats=args.repeats)
    require_at_least(4, iterations=args.iterations)
    inputs(args)
    if args.profile:
        report = profile(args, *parse_size(args.profile))
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print_profile(report, 'iteration' if args.recipe == 'gatys' else 'step')
        return 0
    if args.recipe == 'gatys':
        if not args.peers:
            raise UserError('bench style --recipe gatys compares with PyTorch: add --peers')
        report = gatys(args)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print_peer_table(report)
        return 0
    report = scaling(args) if args.scaling else \
        bench_sizes(args, [parse_size(s) for s in args.sizes.split(',')])
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print_table(report)
    if args.scaling:
        print(f'memory: {report["memory_mb_per_megapixel"]:.0f} MB per megapixel; largest image in '
              f'24 GB: ~{report["largest_pixels_in_24gb"] / 1e6:.1f} MP '
              f'(e.g. {report["largest_3x2_image_in_24gb"][0]}x{report["largest_3x2_image_in_24gb"][1]}); '
              f'plot: {report["plot"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
