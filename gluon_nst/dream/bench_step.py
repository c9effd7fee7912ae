"""`python -m gluon_nst.dream.bench_step`: one configuration of `gluon-nst bench dream`:
Google's make_step on a random image (the whole image or tiles), timed, optionally
profiled by operator; emits the median step and gradient times, the network's
forward FLOPs and, with --profile, milliseconds per operator and gradient.
"""
import argparse
import os
import time

import numpy as np

from ..benchmark import emit, median_after, mx_profile_ops, start_mx_profile, unbulk_mxnet
from .schema import use_onednn

WARMUP = 2
# configs/dream/google_original.yaml: Google's notebook recipe.
GOOGLE = dict(octaves=dict(mode='pyramid', n=4, scale=1.4), steps=10, step_size=1.5,
              normalize='mean_abs', jitter=32)


def whole_dream(img, grad_fn, rng, octaves=4):
    """Google's recipe over `octaves` octaves (the dream engine's loop): seconds, result."""
    from .engine import dream, make_step
    g = GOOGLE

    def step(x):
        return make_step(x, grad_fn, g['step_size'], g['normalize'], g['jitter'], True, rng)
    t = time.perf_counter()
    for it in dream(img, dict(g['octaves'], n=octaves), g['steps'], step):
        if it.image is not None:
            img = it.image
    return time.perf_counter() - t, img


def profile_ops(grad_fn, img, steps, start, stop):
    """The profiler's operator totals over `steps` gradients: {operator: ms per gradient}."""
    started = start()
    for _ in range(steps):
        grad_fn(img)
    return stop(started, steps)


def parser(prog):
    """The options of both sides (this module and gluon_nst.peers.torch_googlenet)."""
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument('--width', type=int, default=1024)
    ap.add_argument('--height', type=int, default=768)
    ap.add_argument('--tile', type=int, default=0)
    ap.add_argument('--margin', type=int, default=0)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--layer', default='inception_4c/output')
    ap.add_argument('--weights', help='folder holding googlenet/')
    ap.add_argument('--onednn', choices=['auto', 'on', 'off'], default='auto',
                    help="MXNet's oneDNN kernels (auto: the dream's default on this CPU)")
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--dream', type=int, default=0, metavar='OCTAVES',
                    help="also time a whole dream of Google's recipe over this many octaves")
    return ap


def random_image(w, h):
    """The start image and the jitter's random state (the same on both sides)."""
    rng = np.random.RandomState(0)
    return rng.uniform(0, 255, size=(h, w, 3)).astype(np.float32), rng


def run_steps(args, grad_fn, img, rng):
    """WARMUP + args.steps steps of Google's make_step: (times, objective values, image)."""
    from .engine import make_step
    times, values = [], []
    for _ in range(WARMUP + args.steps):
        t = time.perf_counter()
        img, v, _ = make_step(img, grad_fn, GOOGLE['step_size'], GOOGLE['normalize'], GOOGLE['jitter'],
                              True, rng)
        times.append(time.perf_counter() - t)
        values.append(float(v))
    return times, values, img


def main(argv=None):
    args = parser('python -m gluon_nst.dream.bench_step').parse_args(argv)
    onednn = use_onednn({'on': True, 'off': False}.get(args.onednn, 'auto'))
    os.environ['MXNET_MKLDNN_ENABLED'] = '1' if onednn else '0'     # read at MXNet's import
    os.environ['MXNET_STORAGE_FALLBACK_LOG_VERBOSE'] = '0'
    if args.profile:
        unbulk_mxnet()
    from .. import imaging, runtime
    runtime.configure_threads()                   # before MXNet is imported
    from ..models import features
    from .objective import Objective
    w, h = args.width, args.height
    net = features.load('googlenet', [args.layer], path=args.weights)
    obj = Objective(net, 'mean_square')
    img, rng = random_image(w, h)
    norms = obj.norms((w, h))
    crops = imaging.tiles((w, h), args.tile, args.margin) if imaging.needs_tiles((w, h), args.tile) \
        else None
    grad_s = []

    def grad_fn(rgb):
        t = time.perf_counter()
        v, g = obj.gradient(net.to_input(rgb), norms, crops)
        grad_s.append(time.perf_counter() - t)
        return v, net.to_pixels(g)

    times, values, img = run_steps(args, grad_fn, img, rng)
    ops = profile_ops(grad_fn, img, args.steps, start_mx_profile,
                      lambda _, calls: mx_profile_ops(calls)) if args.profile else {}
    dream_s, result = whole_dream(img, grad_fn, rng, args.dream) if args.dream else (None, img)
    emit(median_step_s=median_after(times, WARMUP), median_grad_s=median_after(grad_s, WARMUP),
         flops=net.forward_flops((w, h)), first_objective=values[0], op_ms=ops, dream_s=dream_s,
         onednn=onednn,
         result_mean=float(result.mean()))


if __name__ == '__main__':
    main()
