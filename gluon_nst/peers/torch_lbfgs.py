"""`python -m gluon_nst.peers.torch_lbfgs`: configs/gatys.yaml's work in PyTorch, as
jcjohnson/neural-style runs it: the Caffe VGG-19 (the same HDF5 file) to relu5_1,
content/style/TV losses of gatys.yaml, `torch.optim.LBFGS` with jcj's settings
(step length 1, history 100, one evaluation an iteration, tolerance checks off),
on the inputs that gluon_nst.style.bench_lbfgs saved (--inputs).
"""
import argparse
import time

from .common import emit, median_after, setup_torch, start_torch_profile, torch_profile_ops

# VGG-19 `features` up to relu5_1 (index 29): conv channels, 'M' a 2x2 max pool.
CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512]
CAFFE_GROUPS = ['block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2'] + \
    [f'block{b}_conv{c}' for b in (3, 4) for c in (1, 2, 3, 4)] + ['block5_conv1']


def vgg19(h5_path, depth):
    """The first `depth` layers of VGG-19 with the Caffe weights of the Keras HDF5 file
    (kernels (h, w, in, out) -> (out, in, h, w)), frozen."""
    import h5py
    import numpy as np
    import torch
    from torch import nn
    layers, c = [], 3
    with h5py.File(h5_path, 'r') as f:
        convs = iter(CAFFE_GROUPS)
        for v in CFG:
            if v == 'M':
                layers.append(nn.MaxPool2d(2))
                continue
            g = next(convs)
            conv = nn.Conv2d(c, v, 3, padding=1)
            conv.weight.data = torch.from_numpy(
                np.ascontiguousarray(np.asarray(f[g][f'{g}_W_1:0'], np.float32).transpose(3, 2, 0, 1)))
            conv.bias.data = torch.from_numpy(np.asarray(f[g][f'{g}_b_1:0'], np.float32))
            layers += [conv, nn.ReLU()]
            c = v
    net = nn.Sequential(*layers[:depth])
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


class Objective:
    """gatys.yaml: weight * mean((F - P)^2), weight * mean((G - A)^2) with
    G = F F^T / (C H W), tv_weight * 0.5 * sum(dy^2 + dx^2) on the (H-1, W-1) grid."""

    def __init__(self, net, inputs):
        self.net = net
        self.content = dict(zip(inputs['content_layers'].tolist(), inputs['content_weights'].tolist()))
        self.style = dict(zip(inputs['style_layers'].tolist(), inputs['style_weights'].tolist()))
        self.tv_weight = float(inputs['tv_weight'])
        import torch
        with torch.no_grad():
            fc = self.features(torch.from_numpy(inputs['content']))
            fs = self.features(torch.from_numpy(inputs['style']))
        self.targets = {i: fc[i] for i in self.content}
        self.grams = {i: self.gram(fs[i]) for i in self.style}

    def features(self, x):
        out = {}
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i in self.content or i in self.style:
                out[i] = x
        return out

    @staticmethod
    def gram(y):
        c = y.shape[1]
        f = y.reshape(c, -1)
        return f @ f.T / y.numel()

    def __call__(self, x):
        f = self.features(x)
        loss = sum(w * (f[i] - self.targets[i]).pow(2).mean() for i, w in self.content.items())
        loss = loss + sum(w * (self.gram(f[i]) - self.grams[i]).pow(2).mean()
                          for i, w in self.style.items())
        dy = (x[:, :, 1:, :-1] - x[:, :, :-1, :-1])
        dx = (x[:, :, :-1, 1:] - x[:, :, :-1, :-1])
        return loss + self.tv_weight * 0.5 * (dy.pow(2).sum() + dx.pow(2).sum())


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m gluon_nst.peers.torch_lbfgs')
    ap.add_argument('--inputs', required=True, help='.npz from gluon_nst.style.bench_lbfgs')
    ap.add_argument('--vgg19-h5', required=True)
    ap.add_argument('--iterations', type=int, default=10)
    ap.add_argument('--profile', action='store_true',
                    help='emit op_ms: torch.profiler per iteration, from the second on')
    args = ap.parse_args(argv)
    torch = setup_torch()
    import numpy as np
    inputs = np.load(args.inputs)
    depth = max(inputs['content_layers'].tolist() + inputs['style_layers'].tolist()) + 1
    net = vgg19(args.vgg19_h5, depth)
    # The clock starts where ours does: weights and images loaded, targets not yet computed.
    start = time.perf_counter()
    objective = Objective(net, inputs)
    x = torch.from_numpy(inputs['start']).clone().requires_grad_(True)
    # jcj: -optimizer lbfgs, -learning_rate 1, -lbfgs_num_correction 0 (history 100),
    # tolX = tolFun = -1; one iteration per step() call (the state carries over).
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=int(inputs['history']),
                            tolerance_grad=0, tolerance_change=0)
    losses, seconds = [], []

    def closure():
        opt.zero_grad()
        loss = objective(x)
        loss.backward()
        return loss

    prof, op_ms = None, {}
    for i in range(args.iterations):
        if args.profile and i == 1:
            prof = start_torch_profile()
        losses.append(float(opt.step(closure)))
        seconds.append(time.perf_counter() - start)
    if prof:
        op_ms = torch_profile_ops(prof, args.iterations - 1)
    steps = [b - a for a, b in zip([0.0] + seconds, seconds)]
    emit(first_loss=losses[0], losses=losses, seconds=seconds, median_step_s=median_after(steps, 2),
         threads=torch.get_num_threads(), op_ms=op_ms)


if __name__ == '__main__':
    main()
