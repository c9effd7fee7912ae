"""`python -m gluon_nst.style.bench_lbfgs`: our side of `gluon-nst bench style --gatys`.

Runs configs/gatys.yaml (jcjohnson/neural-style's recipe: Caffe VGG-19 to relu5_1,
torch-style L-BFGS) at one size for a few iterations through the style engine's
own loop, and emits the per-iteration times and losses.  With --save-inputs it
also writes what the PyTorch peer (gluon_nst.peers.torch_lbfgs) needs to do the
same work: the start image, content and style in network space, and the loss
weights per layer.
"""
import os
import time

from ..benchmark import emit, median_after, mx_profile_ops, start_mx_profile, unbulk_mxnet
from .bench_adam import parser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATYS_CONFIG = os.path.join(ROOT, 'configs', 'gatys.yaml')
# What the peer implements: the loss forms of configs/gatys.yaml.
PEER_FORMS = dict(content_reduction='mean', gram_norm='chw', style_reduction='mean',
                  tv_form='squared_sum')


def load_config(args):
    from .. import config
    n = args.iterations
    stage = (f'stages=[{{longest_side: {args.longest_side}, style_longest_side: {args.longest_side}, '
             f'steps: {n}, lr: 1, lr_decay_epoch: 0}}]')
    overrides = [stage, f'output.sync_every={n + 1}', 'output.save_every=0',
                 ('content_image', args.content), ('style_image', args.style)]
    if args.weights:
        overrides.append(('weights.path', args.weights))
    return config.load(args.config, overrides)


def peer_inputs(session, path):
    """Save the start image, content and style (network space) and the loss weights."""
    import numpy as np

    from ..errors import UserError
    from ..models.vgg19 import layer_index
    stage, spec = session.stages[0], session.spec
    wrong = {k: spec[k] for k, v in PEER_FORMS.items() if spec[k] != v}
    if wrong or session.bounds is not None or len(session.loss_styles) != 1 or session.masks:
        raise UserError(f'the PyTorch peer implements configs/gatys.yaml\'s losses ({PEER_FORMS}, '
                        f'one style, no clip, no masks); this config differs: {wrong}')
    content, (style,) = session.loss_inputs(stage)
    np.savez(path, start=session.initial_image(stage).asnumpy(), content=content.asnumpy(),
             style=style.asnumpy(),
             content_layers=[layer_index(x) for x in spec['content_layers']],
             content_weights=spec['content_weights'],
             style_layers=[layer_index(x) for x in spec['style_layers']],
             style_weights=spec['style_weights'], tv_weight=spec['tv_weight'],
             history=session.cfg['optimizer']['lbfgs_history'])


def main(argv=None):
    ap = parser('python -m gluon_nst.style.bench_lbfgs', GATYS_CONFIG)
    ap.add_argument('--longest-side', type=int, default=512)
    ap.add_argument('--iterations', type=int, default=10)
    ap.add_argument('--save-inputs', help='write the peer\'s inputs (.npz) here')
    args = ap.parse_args(argv)
    from .. import runtime
    if args.profile:
        unbulk_mxnet()
    runtime.configure_threads()                   # before MXNet is imported
    from .engine import Session, iterate
    cfg = load_config(args)
    session = Session(cfg)
    if args.save_inputs:
        peer_inputs(session, args.save_inputs)
    seconds, losses, op_ms = [], [], {}
    start = time.perf_counter()
    for it in iterate(cfg, session):
        seconds.append(time.perf_counter() - start)
        losses.append(it.total)
        evaluations = it.extra['evaluations']
        if args.profile and len(losses) == 1:
            start_mx_profile()
            profiled_from = evaluations
    # Per evaluation (one an iteration with jcj's settings), from the second iteration on, as the
    # peer's; the first iteration also evaluates the start, the last evaluates nothing.
    if args.profile and len(losses) > 1:
        op_ms = mx_profile_ops(evaluations - profiled_from) if evaluations > profiled_from else {}
    # Iteration i's time: from the end of iteration i-1 (the first also evaluates the start).
    steps = [b - a for a, b in zip([0.0] + seconds, seconds)]
    emit(first_loss=losses[0], losses=losses, seconds=seconds,
         median_step_s=median_after(steps[:-1], 2), threads=session.threads,
         width=session.stages[0].width, height=session.stages[0].height, op_ms=op_ms)


if __name__ == '__main__':
    main()
