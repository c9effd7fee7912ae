"""Benchmark SRCNN training and inference against the machine's sgemm peak.

    gluon-nst bench srcnn                       # training step, batch 64 and 128, 1 thread
    gluon-nst bench srcnn --threads 2 --batch 64 --kernels 9-5-5
    gluon-nst bench srcnn --infer 512x512       # whole-image upscale forward
    gluon-nst bench srcnn --json

Each measurement runs in its own process (gluon_nst.benchmark.run_child).
Training: sub-images per second and GFLOP/s of one Adam step (forward and
backward, x3 the forward's multiply-adds; the first layer has no input
gradient, counted anyway as frameworks do), beside the sgemm peak.
"""
import argparse
import json

from ..benchmark import measure_peak_gflops, parse_size, run_child

TRAIN = r'''
import os, resource, statistics, sys, time
sys.path.insert(0, {root!r})
import gluon_nst
import mxnet as mx
from mxnet import autograd, gluon
from gluon_nst.models import srcnn
net = srcnn.build(1, 'valid', {kernels!r})
net.initialize(mx.init.Xavier())
x = mx.nd.random.uniform(shape=({batch}, 1, {size}, {size}))
y = mx.nd.random.uniform(shape=({batch}, 1, {out}, {out}))
net(x)
net.hybridize(static_alloc=True)
tr = gluon.Trainer(net.collect_params(), 'adam', dict(learning_rate=1e-4))
times = []
for i in range({steps} + 3):
    t = time.perf_counter()
    with autograd.record():
        loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    tr.step(1)
    loss.wait_to_read()
    times.append(time.perf_counter() - t)
print('median_step_s=%.5f' % statistics.median(times[3:]))
print('peak_rss_mb %.1f' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
'''

INFER = r'''
import resource, statistics, sys, time
sys.path.insert(0, {root!r})
import gluon_nst
import mxnet as mx
import numpy as np
from gluon_nst.models import srcnn
from gluon_nst.sr.upscale import enhance
net = srcnn.build(1, 'valid', {kernels!r})
net.initialize(mx.init.Xavier())
img = np.random.rand({h}, {w}, 1).astype(np.float32)
net(mx.nd.zeros((1, 1, 33, 33)))
net.hybridize(static_alloc=True)
times = []
for i in range({steps} + 2):
    t = time.perf_counter()
    enhance(net, img)
    times.append(time.perf_counter() - t)
print('median_step_s=%.5f' % statistics.median(times[2:]))
print('peak_rss_mb %.1f' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
'''


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


def main(argv=None):
    import os
    ap = argparse.ArgumentParser(prog='gluon-nst bench srcnn', description=__doc__.split('\n')[0])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch', type=int, action='append', help='batch sizes (default 64, 128)')
    ap.add_argument('--kernels', default='9-1-5')
    ap.add_argument('--size', type=int, default=33, help='training sub-image side')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--infer', help='also time a whole-image forward at WxH (e.g. 512x512)')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    kernels = [int(k) for k in a.kernels.split('-')]
    out = a.size - sum(k - 1 for k in kernels)
    peak = measure_peak_gflops(a.threads)
    results = []
    for batch in a.batch or [64, 128]:
        r = run_child(TRAIN.format(root=root, kernels=kernels, batch=batch, size=a.size, out=out,
                                   steps=a.steps), a.threads)
        gflop = 3 * 2 * forward_macs(kernels, out) * batch / 1e9
        results.append(dict(kind='train', batch=batch, step_s=r['median_step_s'],
                            patches_per_s=batch / r['median_step_s'],
                            gflops=gflop / r['median_step_s'],
                            peak_fraction=gflop / r['median_step_s'] / peak,
                            peak_rss_mb=r.get('peak_rss_mb')))
    if a.infer:
        w, h = parse_size(a.infer)
        r = run_child(INFER.format(root=root, kernels=kernels, w=w, h=h, steps=5), a.threads)
        gflop = 2 * pixel_macs(kernels) * w * h / 1e9
        results.append(dict(kind='infer', size=a.infer, step_s=r['median_step_s'],
                            megapixels_per_s=w * h / 1e6 / r['median_step_s'],
                            gflops=gflop / r['median_step_s'],
                            peak_fraction=gflop / r['median_step_s'] / peak,
                            peak_rss_mb=r.get('peak_rss_mb')))
    report = dict(machine_peak_gflops=peak, threads=a.threads, kernels=a.kernels, results=results)
    if a.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f'machine fp32 peak (sgemm, {a.threads} threads): {peak:.1f} GFLOP/s; SRCNN {a.kernels}')
    for r in results:
        what = (f'train batch {r["batch"]:4d}: {r["step_s"] * 1e3:8.1f} ms/step '
                f'{r["patches_per_s"]:8.0f} sub-images/s' if r['kind'] == 'train' else
                f'upscale {r["size"]:>10s}: {r["step_s"] * 1e3:8.1f} ms      '
                f'{r["megapixels_per_s"]:8.2f} Mpixel/s   ')
        print(f'{what} {r["gflops"]:7.1f} GFLOP/s {100 * r["peak_fraction"]:5.1f}% of peak '
              f'(peak RSS {r["peak_rss_mb"]:.0f} MB)')
    return 0
