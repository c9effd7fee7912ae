"""What a dream maximises, and its gradient with respect to the image.

Each layer's term is normalised by the size of its map over the *whole*
image (not the crop being computed), so tiles add up to the whole-image
objective and their gradients share one scale:
  mean         sum(a) / (C h w)                  the cookbook (reduce_mean)
  mean_square  sum(a^2) / (C h w)                Google's objective_L2 (up to scale)
  guide        sum_i max_j <a_i, g_j> / (h w)    Google's objective_guide: each position
               grows toward the guide feature it already resembles most
"""
import numpy as np

from ..imaging import gradient_in_tiles


class Objective:
    """net: a `models.features.FeatureNet`; kind: mean, mean_square or guide; weights: one
    per layer; guide_features: from `guide_features` (kind guide)."""

    def __init__(self, net, kind, weights=None, guide_features=None):
        self.net, self.kind = net, kind
        self.weights = list(weights) if weights is not None else [1.0] * len(net.layers)
        self.guide = guide_features          # per layer: (n, C, 1, 1) NDArray, or None

    def norms(self, size):
        """Per-layer divisors for an image of size (width, height)."""
        out = []
        for layer in self.net.layers:
            w, h = self.net.feature_size(layer, size)
            c = 1 if self.kind == 'guide' else self.net.channels(layer)
            out.append(float(c * h * w))
        return out

    def _term(self, F, a, k):
        if self.kind == 'mean':
            return a
        if self.kind == 'mean_square':
            return a * a
        # The guide's features as a 1x1 convolution: one output channel per guide position,
        # each the dot product <a_i, g_j> (no reshape of a oneDNN-layout map: MXNet refuses).
        g = self.guide[k]                                        # (guide positions, C, 1, 1)
        scores = F.Convolution(a, g, kernel=(1, 1), num_filter=g.shape[0], no_bias=True)
        return scores.max(axis=1, keepdims=True)                 # (1, 1, h, w)

    def value_and_grad(self, crop_in, norms, core=None):
        """Objective and its gradient for a network-input crop (1, 3, h, w) numpy.

        norms: per-layer divisors (from the whole image); core: (y0, y1, x0, x1) pixel
        rows/columns of the crop whose features count toward the returned value (a tile
        without its margin); None: all.  Returns (value, gradient (1, 3, h, w) numpy)."""
        import mxnet as mx
        from mxnet import autograd
        x = mx.nd.array(crop_in, ctx=self.net.ctx)
        x.attach_grad()
        with autograd.record():
            feats = self.net(x)
            terms = [self._term(mx.nd, a, k) for k, a in enumerate(feats)]
            loss = mx.nd.add_n(*[t.sum() * (w / n) for t, w, n in zip(terms, self.weights, norms)]) \
                if len(terms) > 1 else terms[0].sum() * (self.weights[0] / norms[0])
        loss.backward()
        if core is None:
            value = float(loss.asscalar())
        else:
            value = 0.0
            for t, w, n, layer in zip(terms, self.weights, norms, self.net.layers):
                s = self.net.stride(layer)
                h, wd = t.shape[2:]
                y0, y1 = min(h, round(core[0] / s)), min(h, round(core[1] / s))
                x0, x1 = min(wd, round(core[2] / s)), min(wd, round(core[3] / s))
                if y1 > y0 and x1 > x0:
                    value += float(t[:, :, y0:y1, x0:x1].sum().asscalar()) * w / n
        return value, x.grad.asnumpy()

    def gradient(self, x_in, norms, crops=None):
        """(value, gradient) for the network input x_in (1, 3, H, W) numpy, at once or in
        `crops` ([(tile box, crop box)] from `imaging.tiles`)."""
        if not crops:
            return self.value_and_grad(x_in, norms)
        grad = np.empty_like(x_in)

        def crop_gradient(k, box, core):
            cy0, cy1, cx0, cx1 = box
            return self.value_and_grad(x_in[:, :, cy0:cy1, cx0:cx1], norms, core=core)
        return sum(gradient_in_tiles(crop_gradient, grad, crops)), grad


def guide_features(net, rgb):
    """Per layer, the guide image's features as (positions, C, 1, 1) NDArray (1x1 filters)."""
    import mxnet as mx
    feats = net(net.to_input(np.asarray(rgb, dtype=np.float32)))
    out = []
    for f in feats:
        a = f.asnumpy()[0]                                       # (C, h, w)
        out.append(mx.nd.array(a.reshape(a.shape[0], -1).T[:, :, None, None], ctx=net.ctx))
    return out
