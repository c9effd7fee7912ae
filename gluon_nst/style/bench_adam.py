"""`python -m gluon_nst.style.bench_adam`: our side of `gluon-nst bench style` (the D2L
recipe): configs/rainier.yaml's Adam step at one size through the engine's own
Adam loop, reading the losses every step as the peers do; emits the median step.
"""
import argparse
import os

from ..benchmark import emit, median_after, mx_profile_ops, start_mx_profile, unbulk_mxnet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
D2L_CONFIG = os.path.join(ROOT, 'configs', 'rainier.yaml')
WARMUP = 2


def parser(prog, config):
    """The options every style measurement module takes."""
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument('--config', default=config)
    ap.add_argument('--content', required=True)
    ap.add_argument('--style', required=True)
    ap.add_argument('--weights', help='weights file or folder (default: the usual lookup)')
    ap.add_argument('--profile', action='store_true', help='emit op_ms: mx.profiler per step from the second')
    return ap


def main(argv=None):
    ap = parser('python -m gluon_nst.style.bench_adam', D2L_CONFIG)
    ap.add_argument('--width', type=int, default=300)
    ap.add_argument('--height', type=int, default=200)
    ap.add_argument('--steps', type=int, default=10, help='timed steps (after 2 warm-up)')
    args = ap.parse_args(argv)
    from .. import runtime
    if args.profile:
        unbulk_mxnet()
    runtime.configure_threads()                   # before MXNet is imported
    from .. import config, image_io
    from . import engine
    from .objective import Objective, compile_objective
    from .optimize import adam_stage
    overrides = [f'stages=[{{image_shape: [{args.width}, {args.height}], steps: {args.steps + WARMUP}}}]',
                 'output.sync_every=1', ('content_image', args.content), ('style_image', args.style)]
    if args.weights:
        overrides.append(('weights.path', args.weights))
    cfg = config.load(args.config, overrides)
    s = engine.Session(cfg)
    st = s.stages[0]
    obj = Objective(s.features, s.spec, st.shape)
    c = image_io.preprocess(s.content, st.shape, s.convention, s.ctx)
    t = obj.targets(c, image_io.preprocess(s.style, st.shape, s.convention, s.ctx))
    compile_objective(obj)
    times, last, first_loss, op_ms = [], 0.0, None, {}
    for it in adam_stage(obj, t, c, st, cfg['optimizer'], sync_every=1):
        times.append(it.seconds - last)
        last = it.seconds
        first_loss = it.total if first_loss is None else first_loss
        if args.profile and len(times) == 1:
            start_mx_profile()
    if args.profile and len(times) > 1:
        op_ms = mx_profile_ops(len(times) - 1)
    emit(median_step_s=median_after(times, WARMUP), first_loss=first_loss, threads=s.threads,
         width=args.width, height=args.height, op_ms=op_ms)


if __name__ == '__main__':
    main()
