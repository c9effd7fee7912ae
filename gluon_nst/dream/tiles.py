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


def tile_edges(length, tile):
    """[(start, end)] covering 0..length in tiles of at most `tile`, equal-ish sizes."""
    n = max(1, -(-length // tile))
    cuts = [round(i * length / n) for i in range(n + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def tiles(height, width, tile, margin):
    """[(core (y0, y1, x0, x1), crop (y0, y1, x0, x1))] of every tile."""
    out = []
    for y0, y1 in tile_edges(height, tile):
        for x0, x1 in tile_edges(width, tile):
            crop = (max(0, y0 - margin), min(height, y1 + margin),
                    max(0, x0 - margin), min(width, x1 + margin))
            out.append(((y0, y1, x0, x1), crop))
    return out


def crop_pixels(height, width, tile, margin):
    """Pixels the network sees for one tiled pass (the overhead over the image's own)."""
    return sum((c[1] - c[0]) * (c[3] - c[2]) for _, c in tiles(height, width, tile, margin))


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
