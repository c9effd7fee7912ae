"""`python -m gluon_nst.sr.bench_step train|upscale`: our side of `gluon-nst bench srcnn`.

train: the median time of one Adam step (forward, backward, update) of the
valid-padding network on a batch of sub-images; upscale: the network's pass over
a bicubic-enlarged Y channel (`sr.upscale.enhance`) and the whole `upscale`.
Weights and data come from `paper_arrays` / `batch_data` (seeded numpy), which the
PyTorch peer (gluon_nst.peers.torch_srcnn) uses too, so both sides do the same work.
"""
import argparse
import time

import numpy as np

from ..benchmark import emit, median_after

WARMUP = 3
FILTERS = (64, 32)


def paper_arrays(kernels, channels=1, seed=0):
    """He-initialised (weight, bias) per layer in the paper's shapes (OIHW)."""
    rng = np.random.RandomState(seed)
    shapes = [(FILTERS[0], channels), (FILTERS[1], FILTERS[0]), (channels, FILTERS[1])]
    out = []
    for k, (cout, cin) in zip(kernels, shapes):
        w = rng.normal(0, np.sqrt(2.0 / (cin * k * k)), size=(cout, cin, k, k)).astype(np.float32)
        out.append((w, np.zeros(cout, np.float32)))
    return out


def batch_data(batch, size, out, channels=1, seed=1):
    rng = np.random.RandomState(seed)
    return (rng.uniform(size=(batch, channels, size, size)).astype(np.float32),
            rng.uniform(size=(batch, channels, out, out)).astype(np.float32))


def enlarged_y(width, height, scale, seed=2):
    """A bicubic-enlarged Y channel (0..1) of a random width x height image, x scale."""
    from .resize import imresize
    rng = np.random.RandomState(seed)
    y = rng.uniform(16, 235, size=(height, width)).astype(np.float64)
    return (imresize(y, shape=(height * scale, width * scale)) / 255.0).astype(np.float32)[..., None]


def network(kernels):
    import mxnet as mx

    from ..models import srcnn
    net = srcnn.build(1, 'valid', kernels)
    net.initialize(mx.init.Zero())
    net(mx.nd.zeros((1, 1, 33, 33)))
    convs = [p for p in net.collect_params().values()]
    for (w, b), pw, pb in zip(paper_arrays(kernels), convs[0::2], convs[1::2]):
        if pw.shape != w.shape:            # the reconstruction computes extra (zero) outputs
            w = np.concatenate([w, np.zeros((pw.shape[0] - w.shape[0],) + w.shape[1:], w.dtype)])
            b = np.concatenate([b, np.zeros(pb.shape[0] - b.shape[0], b.dtype)])
        pw.set_data(mx.nd.array(w))
        pb.set_data(mx.nd.array(b))
    net.border = srcnn.border(kernels)
    net.hybridize(static_alloc=True, static_shape=True)
    return net


def train(args, kernels):
    import mxnet as mx
    from mxnet import autograd, gluon
    out = args.size - sum(k - 1 for k in kernels)
    x, y = (mx.nd.array(a) for a in batch_data(args.batch, args.size, out))
    net = network(kernels)
    trainer = gluon.Trainer(net.collect_params(), 'adam', dict(learning_rate=1e-4))
    times, first_loss = [], None
    for _ in range(args.steps + WARMUP):
        t = time.perf_counter()
        with autograd.record():
            loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        trainer.step(1)
        value = loss.asscalar()
        times.append(time.perf_counter() - t)
        first_loss = value if first_loss is None else first_loss
    step = median_after(times, WARMUP)
    emit(median_step_s=step, patches_per_s=args.batch / step, first_loss=float(first_loss))


def upscale(args, kernels):
    from . import upscale as sr_upscale
    big = enlarged_y(args.width, args.height, args.scale)
    net = network(kernels)
    times, out = [], None
    for _ in range(args.steps + 1):
        t = time.perf_counter()
        out = sr_upscale.enhance(net, big)
        times.append(time.perf_counter() - t)
    rgb = np.random.RandomState(3).randint(0, 256, size=(args.height, args.width, 3), dtype=np.uint8)
    t = time.perf_counter()
    sr_upscale.upscale(rgb, args.scale, net=net, meta=dict(channels=1, scale=args.scale))
    emit(median_step_s=median_after(times, 1), upscale_s=time.perf_counter() - t,
         output_mean=float(out.mean()), output_checksum=float(np.abs(out).sum()))


def parser(prog):
    """The options of both sides (this module and the PyTorch peer)."""
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument('work', choices=('train', 'upscale'))
    ap.add_argument('--kernels', default='9-5-5')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--size', type=int, default=33, help='training sub-image side')
    ap.add_argument('--width', type=int, default=1024, help='upscale: the input image width')
    ap.add_argument('--height', type=int, default=768)
    ap.add_argument('--scale', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    return ap


def main(argv=None):
    args = parser('python -m gluon_nst.sr.bench_step').parse_args(argv)
    from .. import runtime
    runtime.configure_threads()                   # before MXNet is imported
    kernels = [int(k) for k in args.kernels.split('-')]
    (train if args.work == 'train' else upscale)(args, kernels)


if __name__ == '__main__':
    main()
