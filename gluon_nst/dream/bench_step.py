"""`python -m gluon_nst.dream.bench_step`: one configuration of `gluon-nst bench dream`:
Google's make_step on a random image (the whole image or tiles), timed, optionally
profiled by operator; emits the median step and gradient times, the network's
forward FLOPs and, with --profile, milliseconds per operator and gradient.
"""
import argparse
import os
import time

import numpy as np

from ..benchmark import emit, median_after

WARMUP = 2


def profile_ops(grad_fn, img, steps):
    """mx.profiler's aggregate operator table over `steps` gradients: {op: ms per gradient}."""
    import mxnet as mx
    mx.profiler.set_config(profile_imperative=True, profile_symbolic=True, aggregate_stats=True,
                           filename=os.devnull)
    mx.profiler.set_state('run')
    for _ in range(steps):
        grad_fn(img)
    mx.profiler.set_state('stop')
    ops = {}
    for line in mx.profiler.dumps().split('operator\n')[-1].splitlines():
        f = line.split()
        if len(f) == 6 and f[1].isdigit():
            ops[f[0]] = float(f[2]) / steps
    return ops


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m gluon_nst.dream.bench_step')
    ap.add_argument('--width', type=int, default=1024)
    ap.add_argument('--height', type=int, default=768)
    ap.add_argument('--tile', type=int, default=0)
    ap.add_argument('--margin', type=int, default=0)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--layer', default='inception_4c/output')
    ap.add_argument('--weights', help='folder holding googlenet/')
    ap.add_argument('--onednn', action='store_true', help="MXNet's oneDNN kernels (the dream runs without)")
    ap.add_argument('--profile', action='store_true')
    args = ap.parse_args(argv)
    os.environ['MXNET_MKLDNN_ENABLED'] = '1' if args.onednn else '0'     # read at MXNet's import
    os.environ['MXNET_STORAGE_FALLBACK_LOG_VERBOSE'] = '0'
    from . import tiles
    from .engine import make_step
    from .nets import DreamNet
    from .objective import Objective
    w, h = args.width, args.height
    net = DreamNet('googlenet', [args.layer], args.weights)
    obj = Objective(net, 'mean_square')
    rng = np.random.RandomState(0)
    img = rng.uniform(0, 255, size=(h, w, 3)).astype(np.float32)
    norms = obj.norms(h, w)
    grad_s, values = [], []

    def grad_fn(rgb):
        t = time.perf_counter()
        v, g = tiles.gradient(obj, net.to_input(rgb), norms, args.tile, args.margin)
        grad_s.append(time.perf_counter() - t)
        return v, net.to_pixels(g)

    times = []
    for _ in range(WARMUP + args.steps):
        t = time.perf_counter()
        img, v, _ = make_step(img, grad_fn, 1.5, 'mean_abs', 32, True, rng)
        times.append(time.perf_counter() - t)
        values.append(float(v))
    ops = profile_ops(grad_fn, img, args.steps) if args.profile else {}
    emit(median_step_s=median_after(times, WARMUP), median_grad_s=median_after(grad_s, WARMUP),
         flops=net.forward_flops(h, w), first_objective=values[0], op_ms=ops)


if __name__ == '__main__':
    main()
