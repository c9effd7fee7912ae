"""The optimisation loop, as a generator of iterates.

`iterate_stage` runs one stage and yields an `Iterate` per step; callers (the
CLI, `stylize`, sweeps) decide what to print, save or plot.  Losses are read
from the device every `sync_every` steps, so the loop never waits on the
device in between; each step's values are yielded once they have been read.
"""
import math
import time
from dataclasses import dataclass, field

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from ..errors import RunFailed
from ..imaging import gradient_in_tiles


class GeneratedImage(gluon.Block):
    """The image being optimised: a block whose only parameter is the image."""

    def __init__(self, img_shape, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get('weight', shape=img_shape)

    def forward(self):
        return self.weight.data()


class NonFiniteLoss(RunFailed):
    """The loss became NaN or infinite; the last good image is kept."""


@dataclass
class Iterate:
    stage: int
    step: int
    lr: float
    content: float
    style: float
    tv: float
    seconds: float                     # wall time since the stage started
    image: object = None               # NDArray (a copy) at sync points and the last step
    extra: dict = field(default_factory=dict)

    @property
    def total(self):
        return self.content + self.style + self.tv


class ImageAverage:
    """Bias-corrected exponential moving average of the iterates (crowsonkb's EMA, as
    Adam's moments): started with the initial image, then
    avg = decay * avg + (1 - decay) * x after every step, read as avg / (1 - decay^t).
    Works on NDArrays and numpy arrays; `get()` returns a fresh array."""

    def __init__(self, x, decay):
        self.decay, self.accum = float(decay), 1.0
        self.value = x * 0
        self.update(x)

    def update(self, x):
        self.accum *= self.decay
        self.value = self.value * self.decay + x * (1.0 - self.decay)

    def get(self):
        return self.value / (1.0 - self.accum)


def _average(x, opt):
    decay = opt.get('ema_decay', 0.0)
    return ImageAverage(x, decay) if decay else None


def _clipper(bounds, ctx):
    if bounds is None:
        return None
    lo, hi = (nd.array(b, ctx=ctx).reshape((1, 3, 1, 1)) for b in bounds)
    return lambda x: nd.broadcast_minimum(nd.broadcast_maximum(x, lo), hi)


def whole_image(objective, targets):
    """Loss and gradient of the whole image in one graph (the gradient lands in x.grad)."""
    def evaluate(x):
        with autograd.record():
            total, parts = objective(x, *targets)
        total.backward()
        return total, parts
    return evaluate


def in_tiles(objective, crops, crop_targets, param):
    """Loss and gradient in crops of the image, one graph at a time (a tiled stage).

    Each crop's gradient is kept only inside its tile (`imaging.gradient_in_tiles`) and
    lands in the parameter's gradient (the tiles partition the image); the losses are the
    crops', weighted by their tiles' share of the pixels."""
    pixels = sum((y1 - y0) * (x1 - x0) for (y0, y1, x0, x1), _ in crops)
    shares = [(y1 - y0) * (x1 - x0) / pixels for (y0, y1, x0, x1), _ in crops]

    def evaluate(x):
        grad = nd.empty(x.shape, ctx=x.context)

        def crop_gradient(k, box, core):
            cy0, cy1, cx0, cx1 = box
            crop = nd.slice(x, begin=(None, None, cy0, cx0), end=(None, None, cy1, cx1))
            crop.attach_grad()
            with autograd.record():
                t, p = objective(crop, *crop_targets[k])
            t.backward()
            return (t * shares[k], p * shares[k]), crop.grad
        values = gradient_in_tiles(crop_gradient, grad, crops)
        with autograd.record():           # the assembled gradient into the parameter's
            y = x * 1.0
        y.backward(grad)
        return sum(t for t, _ in values), sum(p for _, p in values)
    return evaluate


def adam_stage(objective, targets, x0, stage, opt, sync_every=1, bounds=None,
               keep_best=False, force_sync=(), crops=None):
    """Adam through gluon.Trainer, the book's way; yields an Iterate per step.

    `crops` (a tiled stage): [(tile, crop)] boxes, and `targets` one list per crop."""
    ctx = x0.context
    gen = GeneratedImage(x0.shape)
    gen.initialize(mx.init.Constant(x0), ctx=ctx, force_reinit=True)
    evaluate = in_tiles(objective, crops, targets, gen.weight) if crops else \
        whole_image(objective, targets)
    trainer = gluon.Trainer(gen.collect_params(), 'adam',
                            {'learning_rate': stage.lr, 'beta1': opt['beta1'],
                             'beta2': opt['beta2'], 'epsilon': opt['epsilon']})
    clip = _clipper(bounds, ctx)
    x = gen()
    if clip is not None:
        x[:] = clip(x)
    best_loss = nd.array([np.inf], ctx=ctx)
    best = x.copy() if keep_best else None
    last_good = x.copy()
    average = _average(x, opt)
    pending, t0, t_sync = [], time.perf_counter(), 0.0
    for i in range(stage.epochs):
        lr = stage.lr_at(i)
        trainer.set_learning_rate(lr)
        total, parts = evaluate(x)
        if keep_best:                  # on the device: no sync needed
            better = total < best_loss
            best = nd.where(nd.broadcast_to(better.reshape((1, 1, 1, 1)), x.shape), x, best)
            best_loss = nd.minimum(best_loss, total)
        trainer.step(1)
        if clip is not None:
            x[:] = clip(x)
        if average is not None:
            average.update(x)
        pending.append((i, lr, parts))
        last = i == stage.epochs - 1
        # Step 0 is read on its own: it includes building the graph, which the
        # progress bar leaves out of its rate.
        if last or i == 0 or (i + 1) % sync_every == 0 or i in force_sync:
            values = nd.stack(*[p for _, _, p in pending]).asnumpy()
            now = time.perf_counter() - t0
            finite_image = bool(nd.contrib.isfinite(x).min().asscalar())
            if not np.all(np.isfinite(values)) or not finite_image:
                bad = pending[int(np.argmax(~np.isfinite(values).all(axis=1)))][0] \
                    if not np.all(np.isfinite(values)) else pending[-1][0]
                err = NonFiniteLoss(f'stage {stage.index}: the loss became non-finite at step '
                                    f'{bad}; lower the learning rate or the loss weights '
                                    f'(the last good image was kept)')
                err.image = last_good
                raise err
            last_good = x.copy()
            if average is not None:         # the averaged image is the result (a fresh array)
                last_good = average.get()
            n = len(pending)
            for k, ((step, step_lr, _), v) in enumerate(zip(pending, values)):
                sync = k == n - 1
                # last_good and best are fresh arrays, never written in place, so callers
                # may keep them while x goes on changing.
                image = (best if (keep_best and last) else last_good) if sync else None
                # Steps between two reads share the elapsed time evenly.
                seconds = t_sync + (now - t_sync) * (k + 1) / n
                yield Iterate(stage.index, step, step_lr, float(v[0]), float(v[1]), float(v[2]),
                              seconds, image)
            pending, t_sync = [], now


def lbfgs_stage(objective, targets, x0, stage, opt, bounds=None, keep_best=False, **_):
    """L-BFGS-B (scipy): each round runs up to `lbfgs_maxfun` evaluations and
    yields one Iterate with the losses at the round's result."""
    from scipy.optimize import fmin_l_bfgs_b
    ctx, shape = x0.context, x0.shape
    x = x0.copy()
    x.attach_grad()
    last_parts = {}

    def f(flat):
        x[:] = nd.array(flat.reshape(shape), ctx=ctx)
        with autograd.record():
            total, parts = objective(x, *targets)
        total.backward()
        value = float(total.asscalar())
        last_parts[value] = parts.asnumpy()
        return value, x.grad.asnumpy().astype(np.float64).ravel()

    box = None
    if bounds is not None:
        lo, hi = bounds
        box = list(zip(np.broadcast_to(np.asarray(lo).reshape(1, 3, 1, 1), shape).ravel(),
                       np.broadcast_to(np.asarray(hi).reshape(1, 3, 1, 1), shape).ravel()))
    cur = x0.asnumpy().astype(np.float64).ravel()
    best_val, best_flat = math.inf, cur
    # Averaged over L-BFGS iterations (scipy's callback), not over evaluations (line search).
    average = _average(cur, opt)
    t0 = time.perf_counter()
    for r in range(stage.epochs):
        last_parts.clear()
        cur, val, info = fmin_l_bfgs_b(f, cur, maxfun=opt['lbfgs_maxfun'], m=opt['lbfgs_history'],
                                       bounds=box,
                                       callback=None if average is None else average.update)
        parts = last_parts.get(val)
        if parts is None:
            f(cur)
            parts = last_parts[min(last_parts, key=lambda v: abs(v - val))]
        if not np.all(np.isfinite(parts)):
            raise NonFiniteLoss(f'stage {stage.index}: the loss became non-finite in round {r}; '
                                'lower the loss weights (the last good image was kept)')
        if val < best_val:
            best_val, best_flat = val, cur.copy()
        chosen = best_flat if keep_best else cur
        if average is not None:
            chosen = average.get()
        image = nd.array(chosen.reshape(shape).astype(np.float32), ctx=ctx)
        yield Iterate(stage.index, r, float('nan'), float(parts[0]), float(parts[1]),
                      float(parts[2]), time.perf_counter() - t0, image,
                      extra={'evaluations': int(info['funcalls'])})


from .lbfgs import lbfgs_torch_stage  # noqa: E402  (the stage functions above come first)

OPTIMIZERS = {'adam': adam_stage, 'lbfgs': lbfgs_stage, 'lbfgs_torch': lbfgs_torch_stage}
