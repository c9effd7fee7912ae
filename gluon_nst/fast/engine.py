"""The fast method's stylisation on arrays: blends, strength, automatic strength, sizes.

Style strength and blends work on style vectors (Magenta's own way): a blend is
the weighted mean of the styles' vectors, and strength s gives
s * style + (1 - s) * (the content image's own vector).

Automatic strength: the content measure is the correlation of the result's
luminance with the content's, both at CONTENT_MEASURE_SIDE on their longest side.
Luminance carries the shapes (ridges, tree line, a house); the style may change
the colours freely, and its brush texture is finer than that scale, so the measure
asks "are the content's shapes still where they were", not "is it still a photo".
`auto_strength` finds the largest strength that keeps it at or above a threshold by
bisection on a small copy of the content (one pass at strength 1, then
AUTO_PASSES halvings), before the full-size pass.
"""
import time

import numpy as np

from ..errors import UserError
from ..imaging import fit_size, to_uint8
from ..models import magenta

CONTENT_MEASURE_SIDE = 256     # pixels: the scale of the shapes the measure compares
AUTO_SIDE = 320                # the small copy the automatic strength is searched on
AUTO_PASSES = 5                # bisection halvings after strength 1: a step of 1/32


def blend(vectors, weights=None):
    """Weighted mean of style vectors (weights >= 0, normalised to sum 1)."""
    vectors = [np.asarray(v, np.float32).reshape(magenta.VECTOR_SIZE) for v in vectors]
    if not vectors:
        raise UserError('blend: give at least one style')
    if weights is None:
        weights = [1.0] * len(vectors)
    weights = np.asarray(weights, np.float64)
    if len(weights) != len(vectors):
        raise UserError(f'blend: {len(weights)} weights for {len(vectors)} styles; give one '
                        'weight per style')
    if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise UserError(f'blend: weights {weights.tolist()} must be >= 0 with a positive sum')
    weights = weights / weights.sum()
    return np.tensordot(weights, np.stack(vectors), axes=1).astype(np.float32)


def check_strength(strength):
    if not (strength == 'auto' or (isinstance(strength, (int, float)) and 0.0 <= strength <= 1.0)):
        raise UserError(f"strength {strength}: give a value in [0, 1] or 'auto'")


def interpolate(style_vector, content_vector, strength):
    """strength 1: the style; 0: the content image's own style vector."""
    check_strength(strength)
    return (strength * np.asarray(style_vector, np.float32)
            + (1.0 - strength) * np.asarray(content_vector, np.float32)).astype(np.float32)


def luminance(rgb):
    """ITU-R BT.601 luma of an RGB image (uint8 or float 0..1), float64 0..1."""
    a = magenta.to_float01(rgb).astype(np.float64)
    return a @ np.array([0.299, 0.587, 0.114])


def content_correlation(result, content, side=CONTENT_MEASURE_SIDE):
    """Pearson correlation of the result's luminance with the content's, both resized to
    `side` on their longest side: 1 the same shapes, 0 none of them."""
    h, w = np.asarray(content).shape[:2]
    width, height = fit_size((w, h), min(side, max(h, w)))
    a, b = (luminance(magenta.resize(x, width, height)).ravel() for x in (result, content))
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def auto_strength(model, content, style_vector, content_vector, threshold,
                  side=AUTO_SIDE, passes=AUTO_PASSES):
    """(strength, its content measure, [(strength, measure) tried]): the largest strength
    whose result on a copy of `content` at `side` keeps `content_correlation` >= threshold.

    Strength 1 first (a gentle style keeps it); else bisection between 0 and 1.  If even
    strength 0 stays below the threshold (the network's own softness), 0 is returned."""
    h, w = np.asarray(content).shape[:2]
    small = magenta.resize(content, *fit_size((w, h), min(side, max(h, w))))
    tried = []

    def measure(s):
        out = model.transform(small, interpolate(style_vector, content_vector, s))
        tried.append((round(s, 4), round(content_correlation(out, small), 4)))
        return tried[-1][1]

    if measure(1.0) >= threshold:
        return 1.0, tried[0][1], tried
    lo, hi, lo_measure = 0.0, 1.0, None
    for _ in range(passes):
        mid = (lo + hi) / 2
        m = measure(mid)
        if m >= threshold:
            lo, lo_measure = mid, m
        else:
            hi = mid
    if lo_measure is None:
        lo_measure = measure(0.0)
    return lo, lo_measure, tried


def stylize_vector(model, content, vector, strength=1.0, size=None, style_fit='crop',
                   threshold=None):
    """Stylise one content image with a (blended) style vector: (uint8 result, info).

    content: (H, W, 3) uint8 or float 0..1; size: (width, height) of the result (None:
    the content's); strength: 0..1 or 'auto' (then `threshold` is the content measure
    to keep).  info: strength (the one used), for 'auto' the measure and the tries, and
    the seconds before the transformer (predict_s: style vector, search) and in it."""
    check_strength(strength)
    info, start = dict(strength=strength), time.perf_counter()
    if strength != 1.0:
        own = model.style_vector(content, style_fit)
        if strength == 'auto':
            if threshold is None:
                raise UserError("strength 'auto' needs a threshold (the content measure to keep)")
            strength, measure, tried = auto_strength(model, content, vector, own, threshold)
            info.update(strength=strength, auto_measure=measure, auto_tried=tried)
        vector = interpolate(vector, own, strength)
    h, w = np.asarray(content).shape[:2]
    width, height = size or (w, h)
    x = magenta.resize(content, width, height)
    info['predict_s'], start = time.perf_counter() - start, time.perf_counter()
    result = to_uint8(model.transform(x, vector), 1.0)
    info['transform_s'] = time.perf_counter() - start
    return result, info


def stylize(content_rgb, style_rgbs, weights=None, strength=1.0, longest_side=None,
            style_fit='crop', path=None, threads=0, model=None, size=None, precision='int8',
            threshold=None):
    """Stylise one image in one forward pass: (H', W', 3) uint8.

    content_rgb: (H, W, 3) uint8 (or float 0..1); style_rgbs: one such image or a
    list (blended with `weights`, default equal); strength in [0, 1] or 'auto' (with
    `threshold`); longest_side: resize the content first (None: its own size); size:
    (width, height) exactly instead (e.g. a style stage's shape).  `path`: the weights
    (a folder holding magenta/ or the files); `model`: a loaded Magenta (else loaded
    with `threads` and `precision`)."""
    check_strength(strength)                # before any work
    m = model or magenta.load(path, threads, precision=precision)
    if isinstance(style_rgbs, np.ndarray) and style_rgbs.ndim == 3:
        style_rgbs = [style_rgbs]
    vector = blend([m.style_vector(s, style_fit) for s in style_rgbs], weights)
    h, w = np.asarray(content_rgb).shape[:2]
    return stylize_vector(m, content_rgb, vector, strength, size or fit_size((w, h), longest_side),
                          style_fit, threshold)[0]
