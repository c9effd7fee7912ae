"""Gradients of large images in tiles (TensorFlow's DeepDream tutorial,
`TiledGradients`), with a margin of context around each tile.

Each tile's crop is the tile plus `margin` pixels on every side that the image
has; the network sees the crop, and only the tile's own part of the gradient
is kept.  Tiles partition the image, so every pixel's gradient comes from one
crop in which it sits at least `margin` pixels from a cut edge: no seams, and
away from the image border the result matches the whole-image gradient to the
extent that the network's effective receptive field fits in the margin.  The
jitter roll moves tile borders across the image between steps, as TF's random
shift does.
"""
import numpy as np

from ..tiles import tile_edges, tiles  # noqa: F401  (the dream's tiles are the shared ones)
from ..tiles import crop_pixels as _crop_pixels


def crop_pixels(height, width, tile, margin):
    """Pixels the network sees for one tiled pass (the overhead over the image's own)."""
    return _crop_pixels(tiles(height, width, tile, margin))


def gradient(objective, x_in, norms, tile=0, margin=0):
    """(value, gradient) of the objective for the network input x_in (1, 3, H, W) numpy,
    in tiles of `tile` pixels (0: at once)."""
    H, W = x_in.shape[2:]
    if not tile or (H <= tile and W <= tile):
        return objective.value_and_grad(x_in, norms)
    grad = np.empty_like(x_in)
    value = 0.0
    for (y0, y1, x0, x1), (cy0, cy1, cx0, cx1) in tiles(H, W, tile, margin):
        crop = x_in[:, :, cy0:cy1, cx0:cx1]
        v, g = objective.value_and_grad(crop, norms, core=(y0 - cy0, y1 - cy0, x0 - cx0, x1 - cx0))
        value += v
        grad[:, :, y0:y1, x0:x1] = g[:, :, y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    return value, grad
