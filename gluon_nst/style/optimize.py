"""The optimisers of a style stage, as generators of iterates.

Every optimiser (`OPTIMIZERS`: Adam, scipy's L-BFGS-B, the device L-BFGS of
lbfgs.py) is a function with one signature,

    run(objective, targets, x0, stage, opt, sync_every=1, bounds=None,
        keep_best=False, force_sync=(), crops=None)

that runs `stage.steps` steps from x0 and yields an `Iterate` per step (per
round for L-BFGS-B), the image at sync points and at the stage's last step
(`end`).  What an optimiser hands out besides its current point (the best
point with keep_best, the average with ema_decay, the last good image when
the loss turns non-finite) is `optim.Keeper`'s, written once for every optimiser of the tool.
Losses are read from the device every `sync_every` steps, so the loop never
waits on the device in between; each step's values are yielded once read.
"""
import time
from dataclasses import dataclass, field

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from .. import methods
from ..imaging import gradient_in_tiles
from ..optim import Keeper
from .lbfgs import NotFinite, minimize


class GeneratedImage(gluon.Block):
    """The image being optimised: a block whose only parameter is the image."""

    def __init__(self, img_shape, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get('weight', shape=img_shape)

    def forward(self):
        return self.weight.data()


@dataclass
class Iterate(methods.Iterate):
    stage: int
    step: int
    lr: float                          # NaN: none (L-BFGS-B)
    content: float
    style: float
    tv: float
    seconds: float                     # wall time since the stage started
    image: object = None               # NDArray (a copy) at sync points and the last step
    extra: dict = field(default_factory=dict)
    end: bool = False                  # the stage's last step (lbfgs_torch: also an early stop)

    PHASE, INDEX = 'stage', 'step'

    @property
    def total(self):
        return self.content + self.style + self.tv


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


def _synced(i, last, sync_every, force_sync):
    # Step 0 is read on its own: it includes building the graph, which the progress
    # bar leaves out of its rate.
    return last or i == 0 or (i + 1) % sync_every == 0 or i in force_sync


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
    keeper = Keeper(x, keep_best, opt['ema_decay'])
    pending, t0, t_sync = [], time.perf_counter(), 0.0
    for i in range(stage.steps):
        lr = stage.lr_at(i)
        trainer.set_learning_rate(lr)
        total, parts = evaluate(x)
        keeper.offer(x, total)             # on the device: no sync needed
        trainer.step(1)
        if clip is not None:
            x[:] = clip(x)
        keeper.advance(x)
        pending.append((i, lr, parts))
        last = i == stage.steps - 1
        if _synced(i, last, sync_every, force_sync):
            values = nd.stack(*[p for _, _, p in pending]).asnumpy()
            now = time.perf_counter() - t0
            finite_image = bool(nd.contrib.isfinite(x).min().asscalar())
            if not np.all(np.isfinite(values)) or not finite_image:
                bad = pending[int(np.argmax(~np.isfinite(values).all(axis=1)))][0] \
                    if not np.all(np.isfinite(values)) else pending[-1][0]
                raise keeper.failure(f'stage {stage.index}: the loss became non-finite at step '
                                     f'{bad}; lower the learning rate or the loss weights '
                                     f'(the last good image was kept)')
            keeper.good(x)
            n = len(pending)
            for k, ((step, step_lr, _), v) in enumerate(zip(pending, values)):
                sync = k == n - 1
                # Steps between two reads share the elapsed time evenly.
                seconds = t_sync + (now - t_sync) * (k + 1) / n
                yield Iterate(stage.index, step, step_lr, float(v[0]), float(v[1]), float(v[2]),
                              seconds, keeper.image(last) if sync else None, end=last and sync)
            pending, t_sync = [], now


def lbfgs_stage(objective, targets, x0, stage, opt, sync_every=1, bounds=None, keep_best=False,
                force_sync=(), crops=None):
    """L-BFGS-B (scipy): each round runs up to `lbfgs_maxfun` evaluations and
    yields one Iterate with the losses at the round's result (and its image)."""
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

    def as_image(flat):
        return nd.array(flat.reshape(shape).astype(np.float32), ctx=ctx)

    box = None
    if bounds is not None:
        lo, hi = bounds
        box = list(zip(np.broadcast_to(np.asarray(lo).reshape(1, 3, 1, 1), shape).ravel(),
                       np.broadcast_to(np.asarray(hi).reshape(1, 3, 1, 1), shape).ravel()))
    cur = x0.asnumpy().astype(np.float64).ravel()
    # Averaged over L-BFGS iterations (scipy's callback), not over evaluations (line search).
    keeper = Keeper(cur, keep_best, opt['ema_decay'])
    t0 = time.perf_counter()
    for r in range(stage.steps):
        last_parts.clear()
        cur, val, info = fmin_l_bfgs_b(f, cur, maxfun=opt['lbfgs_maxfun'], m=opt['lbfgs_history'],
                                       bounds=box,
                                       callback=None if keeper.average is None else keeper.advance)
        parts = last_parts.get(val)
        if parts is None:
            f(cur)
            parts = last_parts[min(last_parts, key=lambda v: abs(v - val))]
        if not np.all(np.isfinite(parts)):
            raise keeper.failure(f'stage {stage.index}: the loss became non-finite in round {r}; '
                                 'lower the loss weights (the last good image was kept)',
                                 as_image(keeper.last_good))
        keeper.offer(cur, val)
        keeper.good(cur)
        last = r == stage.steps - 1
        yield Iterate(stage.index, r, float('nan'), float(parts[0]), float(parts[1]),
                      float(parts[2]), time.perf_counter() - t0, as_image(keeper.image(last)),
                      extra={'evaluations': int(info['funcalls'])}, end=last)


def lbfgs_torch_stage(objective, targets, x0, stage, opt, sync_every=1, bounds=None,
                      keep_best=False, force_sync=(), crops=None):
    """One style stage with lbfgs.minimize: `stage.steps` iterations, step length
    `stage.lr` (decayed like Adam's when lr_decay_epoch is set), history
    `optimizer.lbfgs_history`; yields an Iterate per iteration (losses of the
    point the iteration started from, as Adam's), the image at every
    `sync_every` iterations, at `force_sync` and at the last (or an early stop)."""
    ctx, shape = x0.context, x0.shape
    clip = _clipper(bounds, ctx)
    buf = x0.copy()
    buf.attach_grad()

    def fun(flat):
        buf[:] = flat.reshape(shape)
        with autograd.record():
            total, parts = objective(buf, *targets)
        total.backward()
        # The compiled graph reuses its buffers: keep copies.
        return total.copy(), buf.grad.reshape((-1,)).copy(), parts.copy()

    project = (lambda v: clip(v.reshape(shape)).reshape((-1,))) if clip is not None else None
    start = x0.reshape((-1,))
    if clip is not None:
        start = project(start)
    keeper = Keeper(start, keep_best, opt['ema_decay'])      # ema_decay: over the iterations
    current = start
    t0 = time.perf_counter()
    steps = minimize(fun, start, stage.steps, lr=stage.lr_at, history=opt['lbfgs_history'],
                     tolerance_grad=opt['lbfgs_tol_grad'],
                     tolerance_change=opt['lbfgs_tol_change'], project=project)
    try:
        for it in steps:
            parts = it.info.asnumpy()
            keeper.advance(it.x)
            keeper.offer(current, it.loss)       # it.loss is the loss of `current`
            last = it.index == stage.steps - 1 or bool(it.stopped)
            image = None
            if _synced(it.index, last, sync_every, force_sync):
                keeper.good(it.x)
                image = keeper.image(last).reshape(shape)
            extra = {'evaluations': it.evaluations}
            if it.stopped:
                extra['stopped'] = it.stopped
            yield Iterate(stage.index, it.index, it.step, float(parts[0]), float(parts[1]),
                          float(parts[2]), time.perf_counter() - t0, image, extra=extra, end=last)
            current = it.x
    except NotFinite as e:
        raise keeper.failure(f'stage {stage.index}: the loss became non-finite after iteration '
                             f'{e.index}; lower the step length (stages.N.lr) or the loss weights '
                             '(the last good image was kept)', e.last_good.reshape(shape)) from None


OPTIMIZERS = {'adam': adam_stage, 'lbfgs': lbfgs_stage, 'lbfgs_torch': lbfgs_torch_stage}
