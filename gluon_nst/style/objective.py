"""The style-transfer objective: features at the selected layers and the
weighted content, style and TV losses, as one hybridizable block.

Feature scales (calibration) are folded into the loss weights: features
divided by s give a content loss divided by s^2 and a style loss divided by
s^4, so no extra pass over the feature maps is needed.
"""
from mxnet import autograd
from mxnet.gluon import HybridBlock

from ..models.vgg19 import feature_shape
from .losses import ContentLoss, Gram, Scale, StyleLoss, SumLoss, TVLoss, gram_normaliser


class FeatureExtractor(HybridBlock):
    """Runs the truncated VGG and returns the outputs at `layers`, in that order."""

    def __init__(self, features, layers, **kwargs):
        super().__init__(**kwargs)
        self.layers = list(layers)
        self.register_child(features, 'features')
        self.features = features

    def hybrid_forward(self, F, x):
        wanted = {i: None for i in self.layers}
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in wanted:
                wanted[i] = x
            if i >= max(self.layers):
                break
        return [wanted[i] for i in self.layers]


class Objective(HybridBlock):
    """total, (content, style, tv) = Objective(x, *content_targets, *style_grams)."""

    def __init__(self, features, spec, image_hw, **kwargs):
        """spec: dict with content_layers, style_layers (indices), content_weights,
        style_weights (per layer, already including scales), tv_weight, gram_norm,
        content_reduction, style_reduction, tv_form, tv_power."""
        super().__init__(**kwargs)
        self.n_content = len(spec['content_layers'])
        self.n_style = len(spec['style_layers'])
        self.gram_norm = spec['gram_norm']
        h, w = image_hw
        with self.name_scope():
            self.extractor = FeatureExtractor(features, spec['content_layers'] + spec['style_layers'])
            style_losses = []
            for i, (layer, weight) in enumerate(zip(spec['style_layers'], spec['style_weights'])):
                c, fh, fw = feature_shape(layer, h, w)
                norm = gram_normaliser(spec['gram_norm'], c, fh, fw)
                loss = StyleLoss(norm, spec['style_reduction'], image_pixels=h * w)
                style_losses.append(Scale(loss, weight))
            self.content = SumLoss([Scale(ContentLoss(spec['content_reduction']), wt)
                                    for wt in spec['content_weights']]) if self.n_content else None
            self.style = SumLoss(style_losses) if self.n_style else None
            self.tv = Scale(TVLoss(spec['tv_form'], spec['tv_power']), spec['tv_weight']) \
                if spec['tv_weight'] else None

    def targets(self, content_x, style_x):
        """Content features and style Grams, computed once per stage (no graph kept)."""
        self.extractor.hybridize(False)
        with autograd.pause():
            out = []
            if self.n_content:
                out += self.extractor(content_x)[:self.n_content]
            if self.n_style:
                feats = self.extractor(style_x)[self.n_content:]
                # The style image may have its own size: its Grams use its own normaliser.
                out += [Gram(gram_normaliser(self.gram_norm, *f.shape[1:]))(f) for f in feats]
        return out

    def hybrid_forward(self, F, x, *targets):
        feats = self.extractor(x)
        zero = F.sum(x) * 0
        parts = []
        for term, n, offset in ((self.content, self.n_content, 0),
                                (self.style, self.n_style, self.n_content)):
            if term is None:
                parts.append(zero)
                continue
            args = []
            for k in range(n):
                args += [feats[offset + k], targets[offset + k]]
            parts.append(term(*args))
        parts.append(self.tv(x) if self.tv is not None else zero)
        total = F.add_n(*parts)
        return total, F.concat(*parts, dim=0)


def compile_objective(objective, static=True):
    """Hybridize into one static graph (buffers allocated once per stage)."""
    objective.hybridize(static_alloc=static, static_shape=static)
    return objective
