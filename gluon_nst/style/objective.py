"""The style-transfer objective: features at the selected layers and the
weighted content, style and TV losses, as one hybridizable block.

Feature scales (calibration) are folded into the loss weights: features
divided by s give a content loss divided by s^2 and a style loss divided by
s^4, so no extra pass over the feature maps is needed.

Several style images: without masks their Gram matrices are blended into one
target per layer (sum of blend weight x Gram, jcjohnson's -style_blend_weights);
with masks each style has its own term per layer, on features multiplied by its
mask (neural-style-tf's), weighted by its blend weight.
"""
from mxnet import autograd
from mxnet.gluon import HybridBlock

from ..imaging import tiles
from .losses import ContentLoss, Gram, Scale, StyleLoss, SumLoss, TVLoss, gram_normaliser
from .masks import at_feature_size


class Objective(HybridBlock):
    """total, (content, style, tv) = Objective(x, *targets), targets from `targets()`:
    content features, style Grams, then (masked) the masks."""

    def __init__(self, net, spec, size, **kwargs):
        """net: the `models.features.FeatureNet` whose taps are the content layers then
        the style layers; size: the image's (width, height).  spec: dict with
        content_layers, style_layers (indices), content_weights, style_weights (per
        layer, already including scales), tv_weight, gram_norm,
        content_reduction, style_reduction, tv_form, tv_power; optional
        blend_weights (one per style image, summing to 1; default [1]) and masked
        (one term per style and layer on masked features; default False)."""
        super().__init__(**kwargs)
        self.n_content = len(spec['content_layers'])
        self.n_style = len(spec['style_layers'])
        self.gram_norm = spec['gram_norm']
        self.blend_weights = list(spec.get('blend_weights') or [1.0])
        self.masked = bool(spec.get('masked'))
        # Style terms per layer: one per style image when masked, else one blended target.
        self.terms = len(self.blend_weights) if self.masked else 1
        layers = net.spec.resolve(spec['content_layers'] + spec['style_layers'])
        if layers != net.layers:
            raise ValueError(f'the objective needs the taps {layers}, the network has {net.layers}')
        # The style layers' map shapes (h, w), for the masks.
        self.feature_hw = [net.feature_size(layer, size)[::-1] for layer in spec['style_layers']]
        with self.name_scope():
            self.extractor = net.extractor()
            style_losses = []
            for i, (layer, weight) in enumerate(zip(spec['style_layers'], spec['style_weights'])):
                fw, fh = net.feature_size(layer, size)
                norm = gram_normaliser(spec['gram_norm'], net.channels(layer), fh, fw)
                for k in range(self.terms):
                    loss = StyleLoss(norm, spec['style_reduction'], image_pixels=size[0] * size[1],
                                     channels=net.channels(layer))
                    style_losses.append(Scale(loss, weight * self.blend_weights[k]
                                              if self.masked else weight))
            self.content = SumLoss([Scale(ContentLoss(spec['content_reduction']), wt)
                                    for wt in spec['content_weights']]) if self.n_content else None
            self.style = SumLoss(style_losses) if self.n_style else None
            self.tv = Scale(TVLoss(spec['tv_form'], spec['tv_power']), spec['tv_weight']) \
                if spec['tv_weight'] else None

    def targets(self, content_x, style_x, masks=None, tile=0, margin=0):
        """Content features, then style Grams (then, masked, the masks at each style
        layer's size), computed once per stage (no graph kept).

        style_x: one style image or a list, one per blend weight; masks: with
        `masked`, one (H, W) array in 0..1 per style image; content_x None: no content
        features (a tiled stage computes them per crop).  `tile`, `margin`: a style image
        larger than `tile` goes through the network in crops (`style_grams`)."""
        styles = list(style_x) if isinstance(style_x, (list, tuple)) else [style_x]
        if len(styles) != len(self.blend_weights):
            raise ValueError(f'{len(styles)} style images for {len(self.blend_weights)} weights')
        if self.masked and (masks is None or len(masks) != len(styles)):
            raise ValueError('a masked objective needs one mask per style image')
        self.extractor.hybridize(False)
        with autograd.pause():
            out = []
            if self.n_content and content_x is not None:
                out += self.extractor(content_x)[:self.n_content]
            if self.n_style:
                grams = [self.style_grams(sx, masks[k] if self.masked else None, tile, margin)
                         for k, sx in enumerate(styles)]           # [style][layer]
                if self.masked:
                    ctx = styles[0].context
                    out += [grams[k][i] for i in range(self.n_style) for k in range(self.terms)]
                    out += [at_feature_size(masks[k], hw, ctx)
                            for hw in self.feature_hw for k in range(self.terms)]
                elif len(styles) == 1:
                    out += grams[0]
                else:
                    out += [sum(b * g[i] for b, g in zip(self.blend_weights, grams))
                            for i in range(self.n_style)]
        return out

    def style_grams(self, style_x, mask=None, tile=0, margin=0):
        """The Gram matrix of one style image at each style layer.  The style image may
        have its own size: its Grams use its own normaliser.  With `tile`, a larger
        image goes through the network in crops (each tile plus `margin` pixels of
        context), and each layer's Gram sums the tiles' own feature locations: the
        whole image's Gram up to the crops' edge effects, in one crop's memory."""
        h, w = style_x.shape[2:]
        if not (tile and (h > tile or w > tile)):
            with autograd.pause():
                feats = self.extractor(style_x)[self.n_content:]
            if mask is not None:
                feats = [f * at_feature_size(mask, f.shape[2:], f.context) for f in feats]
            return [Gram(gram_normaliser(self.gram_norm, *f.shape[1:]))(f) for f in feats]
        sums, counts = None, None
        for (y0, y1, x0, x1), (cy0, cy1, cx0, cx1) in tiles((w, h), tile, margin):
            with autograd.pause():
                feats = self.extractor(style_x[:, :, cy0:cy1, cx0:cx1])[self.n_content:]
            part = []
            for f in feats:
                fh, fw = f.shape[2:]      # the tile's own locations at this layer's stride
                sy, sx = fh / (cy1 - cy0), fw / (cx1 - cx0)
                core = f[:, :, int(round((y0 - cy0) * sy)):int(round((y1 - cy0) * sy)),
                         int(round((x0 - cx0) * sx)):int(round((x1 - cx0) * sx))]
                part.append((Gram(1.0)(core), core.shape[2] * core.shape[3]))
            sums = [g for g, _ in part] if sums is None else [a + g for a, (g, _) in zip(sums, part)]
            counts = [n for _, n in part] if counts is None else \
                [a + n for a, (_, n) in zip(counts, part)]
        return [g / gram_normaliser(self.gram_norm, g.shape[0], n, 1)
                for g, n in zip(sums, counts)]

    def content_features(self, content_x):
        """The content targets of one image (or crop)."""
        self.extractor.hybridize(False)
        with autograd.pause():
            return self.extractor(content_x)[:self.n_content]

    def hybrid_forward(self, F, x, *targets):
        feats = self.extractor(x)
        zero = F.sum(x) * 0
        parts = []
        if self.content is None:
            parts.append(zero)
        else:
            args = []
            for k in range(self.n_content):
                args += [feats[k], targets[k]]
            parts.append(self.content(*args))
        if self.style is None:
            parts.append(zero)
        else:
            n_terms = self.n_style * self.terms
            grams = targets[self.n_content:self.n_content + n_terms]
            masks = targets[self.n_content + n_terms:]
            args = []
            for j in range(n_terms):
                f = feats[self.n_content + j // self.terms]
                if self.masked:
                    f = F.broadcast_mul(f, masks[j])
                args += [f, grams[j]]
            parts.append(self.style(*args))
        parts.append(self.tv(x) if self.tv is not None else zero)
        total = F.add_n(*parts)
        return total, F.concat(*parts, dim=0)


def compile_objective(objective, static=True):
    """Hybridize into one static graph (buffers allocated once per stage)."""
    objective.hybridize(static_alloc=static, static_shape=static)
    return objective
