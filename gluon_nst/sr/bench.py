"""Benchmark SRCNN training and inference: against the machine's sgemm peak, or side by side with PyTorch.

    gluon-nst bench srcnn                       # training step, batch 64 and 128, every core
    gluon-nst bench srcnn --threads 2 --batch 64 --kernels 9-5-5
    gluon-nst bench srcnn --infer 512x512       # whole-image network pass
    gluon-nst bench srcnn --peers               # 9-5-5 at batch 128 and a 1024x768 x3 upscale
    gluon-nst bench srcnn --json                # against PyTorch, alternating rounds

Each measurement runs in its own process (python -m gluon_nst.sr.bench_step,
gluon_nst.peers.torch_srcnn).  Training: sub-images per second and GFLOP/s of one
Adam step (forward and backward, x3 the forward's multiply-adds; the first layer
has no input gradient, counted anyway as frameworks do), beside the sgemm peak.
With --peers both sides train the same network from the same weights on the same
batch (their first losses must agree) and run the same enlarged image through it.
"""
import argparse
import json

from ..benchmark import (alternate, check_same_work, measure_peak_gflops, parse_size, peer_row,
                         print_peer_table, require_at_least, require_torch, run_module,
                         threads_text, torch_version)

OURS, PEER = f'{__package__}.bench_step', 'gluon_nst.peers.torch_srcnn'
PAPER_BATCH = 128
SAME_RTOL = 1e-4


def forward_macs(kernels, out_side, channels=1, filters=(64, 32)):
    """Multiply-adds of one valid-padding forward pass producing out_side^2 pixels."""
    k1, k2, k3 = kernels
    s3 = out_side                       # reconstruction output
    s2 = s3 + k3 - 1                    # mapping output
    s1 = s2 + k2 - 1                    # extraction output
    return (k1 * k1 * channels * filters[0] * s1 * s1 + k2 * k2 * filters[0] * filters[1] * s2 * s2
            + k3 * k3 * filters[1] * channels * s3 * s3)


def pixel_macs(kernels, channels=1, filters=(64, 32)):
    """Multiply-adds per output pixel of a whole-image pass (every layer at full size)."""
    k1, k2, k3 = kernels
    return k1 * k1 * channels * filters[0] + k2 * k2 * filters[0] * filters[1] + \
        k3 * k3 * filters[1] * channels


def train_args(a, batch):
    return ['train', '--kernels', a.kernels, '--batch', batch, '--size', a.size, '--steps', a.steps]


def upscale_args(a, size, scale):
    w, h = parse_size(size)
    return ['upscale', '--kernels', a.kernels, '--width', w, '--height', h, '--scale', scale,
            '--steps', a.upscale_steps]


def peers(a, threads, peak):
    require_torch()
    rows = []
    for batch in a.batch or [PAPER_BATCH]:
        runs = alternate([(side, lambda m=m: run_module(m, train_args(a, batch), threads))
                          for side, m in (('ours', OURS), ('torch', PEER))], a.repeats)
        agree = check_same_work('SRCNN first training loss', runs['ours'][0]['first_loss'],
                                runs['torch'][0]['first_loss'], SAME_RTOL)
        row = peer_row(f'train step {a.kernels}, batch {batch} ({a.size}px)', runs['ours'],
                       runs['torch'], agreement=agree)
        row['patches_per_s'] = dict(ours=batch / row['ours_s'], torch=batch / row['torch_s'])
        rows.append(row)
    if a.upscale != 'none':
        w, h = parse_size(a.upscale)
        runs = alternate([(side, lambda m=m: run_module(m, upscale_args(a, a.upscale, 3), threads))
                          for side, m in (('ours', OURS), ('torch', PEER))], a.repeats)
        agree = check_same_work('SRCNN upscale output', runs['ours'][0]['output_checksum'],
                                runs['torch'][0]['output_checksum'], SAME_RTOL)
        rows.append(peer_row(f'upscale {w}x{h} x3: network pass', runs['ours'], runs['torch'],
                             agreement=agree))
        rows[-1]['ours_whole_upscale_s'] = min(r['upscale_s'] for r in runs['ours'])
    return dict(machine_peak_gflops=peak, threads=threads, rounds=a.repeats, kernels=a.kernels,
                torch_version=torch_version(), peers=rows)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='gluon-nst bench srcnn', description=__doc__.split('\n')[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument('--threads', type=int, default=0, help='threads (0: every core)')
    ap.add_argument('--batch', type=int, action='append',
                    help='batch sizes (default 64, 128; with --peers the paper\'s 128)')
    ap.add_argument('--kernels', default=None, help='default 9-1-5; with --peers 9-5-5')
    ap.add_argument('--size', type=int, default=33, help='training sub-image side')
    ap.add_argument('--steps', type=int, default=20, help='timed training steps')
    ap.add_argument('--infer', help='also time a whole-image network pass at WxH (e.g. 512x512)')
    ap.add_argument('--peers', action='store_true', help='side by side with PyTorch')
    ap.add_argument('--upscale', default='1024x768',
                    help="--peers: the input size of the x3 upscale ('none' to skip)")
    ap.add_argument('--upscale-steps', type=int, default=3, help='timed upscale passes')
    ap.add_argument('--repeats', type=int, default=3, help='--peers: alternating rounds')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    a = ap.parse_args(argv)
    require_at_least(1, steps=a.steps, upscale_steps=a.upscale_steps, repeats=a.repeats)
    from ..runtime import cpu_count
    a.threads = a.threads or cpu_count()
    a.kernels = a.kernels or ('9-5-5' if a.peers else '9-1-5')
    kernels = [int(k) for k in a.kernels.split('-')]
    out = a.size - sum(k - 1 for k in kernels)
    peak = measure_peak_gflops(a.threads)
    if a.peers:
        report = peers(a, a.threads, peak)
        if a.json:
            print(json.dumps(report, indent=2))
        else:
            print_peer_table(report)
            for r in report['peers']:
                if 'patches_per_s' in r:
                    print(f'{r["work"]}: ours {r["patches_per_s"]["ours"]:.0f} sub-images/s, '
                          f'PyTorch {r["patches_per_s"]["torch"]:.0f}')
        return 0
    results = []
    for batch in a.batch or [64, 128]:
        r = run_module(OURS, train_args(a, batch), a.threads)
        gflop = 3 * 2 * forward_macs(kernels, out) * batch / 1e9
        results.append(dict(kind='train', batch=batch, step_s=r['median_step_s'],
                            patches_per_s=batch / r['median_step_s'],
                            gflops=gflop / r['median_step_s'],
                            peak_fraction=gflop / r['median_step_s'] / peak,
                            peak_rss_mb=r['peak_rss_mb']))
    if a.infer:
        w, h = parse_size(a.infer)
        r = run_module(OURS, upscale_args(a, a.infer, 1), a.threads)
        gflop = 2 * pixel_macs(kernels) * w * h / 1e9
        results.append(dict(kind='infer', size=a.infer, step_s=r['median_step_s'],
                            megapixels_per_s=w * h / 1e6 / r['median_step_s'],
                            gflops=gflop / r['median_step_s'],
                            peak_fraction=gflop / r['median_step_s'] / peak,
                            peak_rss_mb=r['peak_rss_mb']))
    report = dict(machine_peak_gflops=peak, threads=a.threads, kernels=a.kernels, results=results)
    if a.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f'machine fp32 peak (sgemm, {threads_text(a.threads)}): {peak:.1f} GFLOP/s; SRCNN {a.kernels}')
    for r in results:
        what = (f'train batch {r["batch"]:4d}: {r["step_s"] * 1e3:8.1f} ms/step '
                f'{r["patches_per_s"]:8.0f} sub-images/s' if r['kind'] == 'train' else
                f'upscale {r["size"]:>10s}: {r["step_s"] * 1e3:8.1f} ms      '
                f'{r["megapixels_per_s"]:8.2f} Mpixel/s   ')
        print(f'{what} {r["gflops"]:7.1f} GFLOP/s {100 * r["peak_fraction"]:5.1f}% of peak '
              f'(peak RSS {r["peak_rss_mb"]:.0f} MB)')
    return 0
