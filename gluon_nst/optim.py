"""What every optimisation loop hands out besides its current point, written once.

The style optimisers (Adam, scipy's L-BFGS-B, the device L-BFGS), the dream ascent
and the SRCNN trainer are generators of iterates; each keeps a `Keeper`: the best
point (keep_best: the lowest loss so far), the average of the iterates (ema_decay),
and the last point whose losses were read finite, which a `NonFiniteLoss` carries out
of the run so that the run folder keeps it.  Points are NDArrays or numpy arrays.
A loop with nothing to keep but the last good point (the dream ascent, whose steps
return fresh arrays; the SRCNN trainer, whose best weights go to disk) calls
`check_finite` alone.
"""
import math

import numpy as np

from .errors import RunFailed


class NonFiniteLoss(RunFailed):
    """The loss became NaN or infinite; `.image` is the last good image (or None)."""


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


def all_finite(*values):
    """True when every number in `values` (scalars or arrays, host or NDArray) is finite."""
    for v in values:
        if hasattr(v, 'asnumpy'):
            v = v.asnumpy()
        if not np.all(np.isfinite(v)):
            return False
    return True


def check_finite(values, message, image=None):
    """Raise NonFiniteLoss(message) carrying `image` unless every number in `values` is finite."""
    if not all_finite(*values):
        err = NonFiniteLoss(message)
        err.image = image
        raise err


class Keeper:
    """An optimiser's keep-best, EMA and last good point.

    keep_best: `offer(x, loss)` keeps a copy of x when its loss is the lowest yet;
    ema_decay: `advance(x)` after every step averages the iterates, and the image shown
    is the average; `good(x)` once x's losses were read finite; `check(values, message)`
    raises `NonFiniteLoss` with the last good image."""

    def __init__(self, x, keep_best=False, ema_decay=0.0):
        self.keep_best = keep_best
        self.best, self.best_loss = (x.copy(), math.inf) if keep_best else (None, None)
        self.average = ImageAverage(x, ema_decay) if ema_decay else None
        self.last_good = x.copy()

    def offer(self, x, loss):
        """Keep x if `loss` (its loss) is the lowest yet.  A (1,) NDArray loss is compared
        on the device (no sync)."""
        if not self.keep_best:
            return
        if hasattr(loss, 'asnumpy'):
            from mxnet import nd
            if not hasattr(self.best_loss, 'asnumpy'):
                self.best_loss = nd.array([np.inf], ctx=loss.context)
            better = loss < self.best_loss
            self.best = nd.where(nd.broadcast_to(better.reshape((1,) * x.ndim), x.shape), x,
                                 self.best)
            self.best_loss = nd.minimum(self.best_loss, loss)
        elif loss < self.best_loss:
            self.best_loss, self.best = loss, x.copy()

    def advance(self, x):
        """After a step (L-BFGS: an iteration) to x."""
        if self.average is not None:
            self.average.update(x)

    def good(self, x):
        """x's losses were read and are finite: what an image now shows (a fresh array,
        never written in place, so callers may keep it while x goes on changing)."""
        self.last_good = x.copy() if self.average is None else self.average.get()

    def image(self, last):
        return self.best if self.keep_best and last else self.last_good

    def failure(self, message, image=None):
        err = NonFiniteLoss(message)
        err.image = self.last_good if image is None else image
        return err

    def check(self, values, message):
        """Raise `failure(message)` unless every number in `values` is finite."""
        check_finite(values, message, self.last_good)
