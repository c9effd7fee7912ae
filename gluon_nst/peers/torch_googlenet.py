"""`python -m gluon_nst.peers.torch_googlenet`: gluon_nst.dream.bench_step's work in
PyTorch: BVLC GoogLeNet built from the same shared weights (the Caffe layout of
gluon_nst.models.googlenet: ceil-mode 3x3/2 max pools, LRN after pool1 and conv2 as
torch's local_response_norm, which is Caffe's formula), the L2 objective on the layer,
and the same numpy step (jitter, normalise, clip) and octave loop around the gradient.
"""
import sys
import time

import numpy as np

from ..dream.bench_step import WARMUP, parser, profile_ops, random_image, run_steps, whole_dream
from ..models import googlenet as gn
from .common import emit, median_after, setup_torch, start_torch_profile, torch_profile_ops


def build(torch, weights_folder, layer):
    """A forward function returning blob `layer` for a (1, 3, H, W) Caffe-space input."""
    import torch.nn.functional as F
    params = gn.convert(f'{weights_folder}/googlenet/SHA256SUMS')
    convs = {}
    for name, _, _, _, k, stride in gn.conv_layers():
        p = gn._param_name(name)
        convs[name] = (torch.from_numpy(params[f'{p}_weight']), torch.from_numpy(params[f'{p}_bias']),
                       stride, (k - 1) // 2)
    last = gn.trunk_index(gn.blob_name(layer))
    layer = gn.blob_name(layer)

    def conv(name, x):
        w, b, stride, pad = convs[name]
        return F.relu(F.conv2d(x, w, b, stride=stride, padding=pad))

    def forward(x):
        for kind, name, _ in gn.TRUNK[:last + 1]:
            if kind == 'conv':
                x = conv(name, x)
            elif kind == 'maxpool':
                x = F.max_pool2d(x, 3, 2, ceil_mode=True)
            elif kind == 'lrn':
                x = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=1.0)
            elif kind == 'inception':
                b1 = conv(f'{name}/1x1', x)
                b3 = conv(f'{name}/3x3', conv(f'{name}/3x3_reduce', x))
                b5 = conv(f'{name}/5x5', conv(f'{name}/5x5_reduce', x))
                bp = conv(f'{name}/pool_proj', F.max_pool2d(x, 3, 1, padding=1, ceil_mode=True))
                x = torch.cat([b1, b3, b5, bp], dim=1)
                if layer.startswith(name + '/') and layer != f'{name}/output':
                    raise SystemExit(f'the peer dreams on module outputs, not {layer}')
        return x
    return forward


def main(argv=None):
    args = parser('python -m gluon_nst.peers.torch_googlenet').parse_args(argv)
    torch = setup_torch()
    forward = build(torch, args.weights, args.layer)
    assert 'mxnet' not in sys.modules          # the peer's memory is its own
    mean_bgr = np.array(gn.MEAN_BGR, dtype=np.float32)
    img, rng = random_image(args.width, args.height)
    grad_s = []

    def grad_fn(rgb):
        t = time.perf_counter()
        x = torch.from_numpy(np.ascontiguousarray((rgb[..., ::-1] - mean_bgr).transpose(2, 0, 1)[None]))
        x.requires_grad_(True)
        a = forward(x)
        loss = (a * a).sum() / a[0].numel()         # sum(a^2) / (C h w)
        loss.backward()
        grad_s.append(time.perf_counter() - t)
        # Caffe's input is BGR minus the mean: the pixel gradient is the input's, channels reversed.
        return loss.item(), np.ascontiguousarray(x.grad.numpy()[0].transpose(1, 2, 0)[..., ::-1])

    times, values, img = run_steps(args, grad_fn, img, rng)
    ops = profile_ops(grad_fn, img, args.steps, start_torch_profile,
                      torch_profile_ops) if args.profile else {}
    dream_s, result = whole_dream(img, grad_fn, rng, args.dream) if args.dream else (None, img)
    emit(median_step_s=median_after(times, WARMUP), median_grad_s=median_after(grad_s, WARMUP),
         first_objective=values[0], dream_s=dream_s, result_mean=float(result.mean()), op_ms=ops)


if __name__ == '__main__':
    main()
