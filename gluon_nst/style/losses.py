"""Losses as small Gluon blocks, and the combinators that weight and sum them.

Every block is a HybridBlock, so the whole objective compiles into one
static graph.  Shapes are fixed per stage, so normalisers are constants.
"""
from mxnet.gluon import HybridBlock


def gram_normaliser(norm, c, h, w):
    """Divisor of the Gram matrix Y Y^T for a (c, h, w) feature map."""
    return {'chw': float(c * h * w), 'hw': float(h * w), 'none': 1.0}[norm]


class ContentLoss(HybridBlock):
    """Mean (or sum) of squared differences between features and their target."""

    def __init__(self, reduction='mean', **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction

    def hybrid_forward(self, F, y_hat, y):
        sq = F.square(y_hat - y)
        return F.mean(sq) if self.reduction == 'mean' else F.sum(sq)


class Gram(HybridBlock):
    """Gram matrix Y Y^T / norm of a (1, c, h, w) feature map, as (c, c).

    channels: c, needed once the block is hybridized (a symbol has no shape)."""

    def __init__(self, normaliser, channels=None, **kwargs):
        super().__init__(**kwargs)
        self.normaliser, self.channels = normaliser, channels

    def hybrid_forward(self, F, y):
        c = self.channels or getattr(y, 'shape', (0, 0))[1]
        if not c:
            raise ValueError('Gram: give channels= to a Gram (or StyleLoss) that is hybridized')
        y = F.reshape(y, shape=(-3, -1))          # (1, c, h, w) -> (c, h*w)
        # Y Y^T as an inner product with Y as the weights: oneDNN's kernel, forward and
        # backward 3x faster than OpenBLAS's syrk or dot on these long, thin matrices.
        return F.FullyConnected(y, y, no_bias=True, num_hidden=c) / self.normaliser


class StyleLoss(HybridBlock):
    """Squared distance between the Gram matrix of features and a target Gram.

    reduction: 'mean' (D2L, TF tutorial), 'sum', or 'keras' (the Keras
    example's sum / (4 * 3^2 * (H*W)^2), H*W the image size).
    """

    def __init__(self, normaliser, reduction='mean', image_pixels=1, channels=None, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.divisor = 4.0 * 9.0 * float(image_pixels) ** 2 if reduction == 'keras' else 1.0
        with self.name_scope():
            self.gram = Gram(normaliser, channels)

    def hybrid_forward(self, F, y_hat, gram_target):
        sq = F.square(self.gram(y_hat) - gram_target)
        if self.reduction == 'mean':
            return F.mean(sq)
        return F.sum(sq) / self.divisor


class TVLoss(HybridBlock):
    """Total variation of the image.

    form 'l1_mean' (D2L): 0.5 * (mean|dx| + mean|dy|).
    form 'keras': sum((dx^2 + dy^2) ^ power) over the common (H-1, W-1) grid.
    form 'squared_sum' (jcjohnson/neural-style, whose TVLoss gradient is that of this
    energy): 0.5 * sum(dx^2 + dy^2) over the same grid.
    """

    def __init__(self, form='l1_mean', power=1.25, **kwargs):
        super().__init__(**kwargs)
        self.form, self.power = form, power

    def hybrid_forward(self, F, x):
        dy = F.slice_axis(x, axis=2, begin=1, end=None) - F.slice_axis(x, axis=2, begin=0, end=-1)
        dx = F.slice_axis(x, axis=3, begin=1, end=None) - F.slice_axis(x, axis=3, begin=0, end=-1)
        if self.form == 'l1_mean':
            return 0.5 * (F.mean(F.abs(dy)) + F.mean(F.abs(dx)))
        dy = F.slice_axis(dy, axis=3, begin=0, end=-1)
        dx = F.slice_axis(dx, axis=2, begin=0, end=-1)
        if self.form == 'squared_sum':
            return 0.5 * F.sum(F.square(dy) + F.square(dx))
        return F.sum(F.power(F.square(dy) + F.square(dx), self.power))


class Scale(HybridBlock):
    """A loss times a constant weight."""

    def __init__(self, loss, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)
        with self.name_scope():
            self.loss = loss

    def hybrid_forward(self, F, *args):
        return self.loss(*args) * self.weight


class SumLoss(HybridBlock):
    """The sum of several losses, each fed its own arguments."""

    def __init__(self, losses, **kwargs):
        super().__init__(**kwargs)
        self.losses = []
        with self.name_scope():
            for i, loss in enumerate(losses):
                self.register_child(loss, str(i))
                self.losses.append(loss)

    def hybrid_forward(self, F, *arg_groups):
        # arg_groups is flat: each loss takes two arguments (prediction, target).
        parts = [loss(arg_groups[2 * i], arg_groups[2 * i + 1]) for i, loss in enumerate(self.losses)]
        return F.add_n(*parts) if len(parts) > 1 else parts[0]
