"""Two measured distances of a stylised image, the same for every run whatever its
settings (loss weights, layers, conventions, sizes), so that runs can be ranked.

- content distance: mean squared difference of VGG-19 relu4_2 features (Caffe
  weights and convention) between the result and the content image, both at
  the content's aspect with the longest side EVAL_SIDE, the features divided
  by CONTENT_FEATURE_DIVISOR (so that typical values are O(1));
- style distance: over relu1_1 .. relu5_1, the mean of
  ||G(result) - G(style)||_F / ||G(style)||_F with Grams divided by C*H*W, the
  style image at its own aspect with the same longest side; several styles
  give the blended Gram sum_i w_i G(style_i) (weights normalised to sum 1).

Every image is resized from its 8-bit pixels with Pillow's antialiased bicubic
filter, so a result scores the same whichever size or convention made it.
"""
import os

import numpy as np

from .errors import UserError

EVAL_SIDE = 512
NETWORK = 'caffe-vgg19'
CONTENT_LAYER = 'relu4_2'
STYLE_LAYERS = ('relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1')
# relu4_2 features of a photograph at 512 px have a mean square of about 3.7e5 (Rainier,
# Caffe scale); divided by 600, an image with nothing of the content (uniform grey or
# noise) scores about 1.
CONTENT_FEATURE_DIVISOR = 600.0

_SCORERS = {}          # weights file -> Scorer: the network loads once per process


def _resolve_weights(path):
    """The verified Caffe VGG-19 file from `path`, $GLUON_NST_WEIGHTS or the cache; never
    downloads (a score must not start a 80 MB download)."""
    from .models import store
    from .models.vgg19 import SOURCES
    spec = dict(SOURCES[NETWORK], url=None)
    return store.weights_file(spec, path)[0]


class Scorer:
    """The fixed network and layers; `score()` measures one result."""

    def __init__(self, weights_path=None):
        import mxnet as mx

        from .models import features
        self.net = features.load('vgg19', [CONTENT_LAYER, *STYLE_LAYERS], source=NETWORK,
                                 path=weights_path, convention='caffe', ctx=mx.cpu())
        self.weights_record = self.net.record
        self.extractor = self.net.extractor()
        self.cache = {}              # the inputs' features: a sweep scores many results

    def features(self, rgb, shape, cache=False):
        """(content features, [style Grams]) of an RGB uint8 image resized to shape (width, height)."""
        import hashlib

        import mxnet as mx
        from mxnet import autograd
        key = None
        if cache:
            key = (hashlib.sha1(np.ascontiguousarray(rgb).data).hexdigest(), rgb.shape,
                   tuple(shape))
            if key in self.cache:
                return self.cache[key]
        x = mx.nd.array(self.net.to_input(resize(rgb, shape)))
        with autograd.pause():
            feats = self.extractor(x)
        content = feats[0].asnumpy()[0].astype(np.float64) / CONTENT_FEATURE_DIVISOR
        out = content, [gram(f.asnumpy()[0]) for f in feats[1:]]
        if key is not None:
            if len(self.cache) >= 8:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = out
        return out

    def score(self, result, content, styles, weights=None, size=EVAL_SIDE):
        styles, weights = _style_list(styles, weights)
        shape = eval_shape(content, size)
        result_content, result_grams = self.features(result, shape)
        content_feats, _ = self.features(content, shape, cache=True)
        target = None
        for style, w in zip(styles, weights):
            _, grams = self.features(style, eval_shape(style, size), cache=True)
            target = [w * g for g in grams] if target is None else \
                [t + w * g for t, g in zip(target, grams)]
        per_layer = [float(np.linalg.norm(g - t) / max(np.linalg.norm(t), 1e-30))
                     for g, t in zip(result_grams, target)]
        return dict(content_distance=float(np.mean(np.square(result_content - content_feats))),
                    style_distance=float(np.mean(per_layer)),
                    style_distance_per_layer=per_layer,
                    layers=dict(content=CONTENT_LAYER, style=list(STYLE_LAYERS)),
                    size=size,
                    network=f"VGG-19 {NETWORK} ({self.weights_record['hash_name']} "
                            f"{self.weights_record['hash'][:12]}), caffe convention",
                    content_feature_divisor=CONTENT_FEATURE_DIVISOR)


def scorer(weights_path=None):
    """The shared Scorer for the weights found from `weights_path` (see _resolve_weights)."""
    f = os.path.abspath(_resolve_weights(weights_path))
    if f not in _SCORERS:
        _SCORERS[f] = Scorer(f)
    return _SCORERS[f]


def _style_list(styles, weights):
    if isinstance(styles, (str, np.ndarray)):
        styles = [styles]
    styles = list(styles)
    if not styles:
        raise UserError('quality: give at least one style image')
    weights = [1.0] * len(styles) if weights is None else [float(w) for w in weights]
    if len(weights) != len(styles) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise UserError(f'quality: {len(weights)} blend weights for {len(styles)} style images; '
                        'give one weight >= 0 per style, with a positive sum')
    total = sum(weights)
    return styles, [w / total for w in weights]


def _rgb(image, what):
    from .image_io import read_rgb
    if isinstance(image, str):
        return read_rgb(image, what)
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3:
        raise UserError(f'quality: the {what} must be an (H, W, 3) RGB array, got shape {a.shape}')
    if a.dtype != np.uint8:            # floats: 0..1 as the engine's images
        a = np.clip(np.round(a * 255.0 if a.max() <= 1.0 else a), 0, 255).astype(np.uint8)
    return a


def eval_shape(rgb, size=EVAL_SIDE):
    """(width, height) of an image at longest side `size`, its aspect kept."""
    from .image_io import MIN_SIDE
    from .imaging import fit_size
    h, w = np.asarray(rgb).shape[:2]
    return fit_size((w, h), size, MIN_SIDE)


def resize(rgb, shape):
    """Antialiased bicubic resize (Pillow) of a uint8 RGB image to shape (width, height)."""
    from PIL import Image
    if tuple(rgb.shape[1::-1]) == tuple(shape):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(tuple(int(s) for s in shape), Image.BICUBIC))


def gram(feature):
    """(C, C) Gram of a (C, H, W) feature map divided by C*H*W, in float64."""
    c, h, w = feature.shape
    f = feature.reshape(c, h * w).astype(np.float64)
    return f @ f.T / (c * h * w)


def measure(result_rgb, content_rgb, style_rgbs, weights=None, *, size=EVAL_SIDE,
            weights_path=None):
    """Content and style distances of a result (see the module doc).

    Images are (H, W, 3) uint8 RGB arrays (floats in 0..1 are accepted) or file
    paths; style_rgbs is one image or a list, blended by `weights` (default equal).
    weights_path: the Caffe VGG-19 file or a folder holding it (else
    $GLUON_NST_WEIGHTS, then the cache).  Returns a dict with content_distance,
    style_distance, style_distance_per_layer, layers, size and network.
    """
    if isinstance(style_rgbs, (str, np.ndarray)):
        style_rgbs = [style_rgbs]
    result = _rgb(result_rgb, 'result image')
    content = _rgb(content_rgb, 'content image')
    styles = [_rgb(s, 'style image') for s in style_rgbs]
    return scorer(weights_path).score(result, content, styles, weights, size)


def for_run(result, content, styles, weights=None, weights_path=None):
    """measure() for a finished run's record: an error is recorded, never raised, so a
    missing Caffe file (e.g. a run on the model zoo's weights) cannot fail the run."""
    try:
        q = measure(result, content, styles, weights, weights_path=weights_path)
    except UserError as e:
        return dict(error=str(e))
    q['style_distance_per_layer'] = [round(v, 6) for v in q['style_distance_per_layer']]
    return q
