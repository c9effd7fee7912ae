"""`python -m gluon_nst.peers.torch_srcnn train|upscale`: gluon_nst.sr.bench_step's work
in PyTorch: the same SRCNN (valid padding, ReLU after the first two layers), the same
weights and data, Adam for training; upscale runs the network over the same enlarged
Y channel, its border added by repeating the edge as `models.srcnn.enhance` does."""
import time

import numpy as np

from ..sr.bench_step import WARMUP, batch_data, enlarged_y, paper_arrays, parser
from .common import emit, median_after, setup_torch


def network(torch, kernels):
    from torch import nn
    layers = []
    for i, (w, b) in enumerate(paper_arrays(kernels)):
        conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2])
        conv.weight.data, conv.bias.data = torch.from_numpy(w), torch.from_numpy(b)
        layers += [conv] + ([nn.ReLU()] if i < 2 else [])
    return nn.Sequential(*layers)


def train(torch, args, kernels):
    out = args.size - sum(k - 1 for k in kernels)
    x, y = (torch.from_numpy(a) for a in batch_data(args.batch, args.size, out))
    net = network(torch, kernels)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    times, first_loss = [], None
    for _ in range(args.steps + WARMUP):
        t = time.perf_counter()
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        value = loss.item()
        times.append(time.perf_counter() - t)
        first_loss = value if first_loss is None else first_loss
    step = median_after(times, WARMUP)
    emit(median_step_s=step, patches_per_s=args.batch / step, first_loss=first_loss)


def upscale(torch, args, kernels):
    big = enlarged_y(args.width, args.height, args.scale)
    net = network(torch, kernels)
    pad = sum(k // 2 for k in kernels)
    times, out = [], None
    with torch.inference_mode():
        for _ in range(args.steps + 1):
            t = time.perf_counter()
            x = np.pad(big, ((pad, pad), (pad, pad), (0, 0)), 'edge')
            out = net(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None])))[0]
            out = out.numpy().transpose(1, 2, 0)
            times.append(time.perf_counter() - t)
    emit(median_step_s=median_after(times, 1), output_mean=float(out.mean()),
         output_checksum=float(np.abs(out).sum()))


def main(argv=None):
    args = parser('python -m gluon_nst.peers.torch_srcnn').parse_args(argv)
    torch = setup_torch()
    kernels = [int(k) for k in args.kernels.split('-')]
    (train if args.work == 'train' else upscale)(torch, args, kernels)


if __name__ == '__main__':
    main()
