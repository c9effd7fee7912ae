"""Image helpers every method shares: the longest-side fit, 8-bit conversion, tiles
and the tiled gradient, and the memory check.

Conventions, stated once for the package:
- a *size* is (width, height), as Pillow and `mx.image.imresize` take it;
  arrays keep numpy's layouts ((H, W, 3) images, (1, C, H, W) network tensors);
- a *box* is (y0, y1, x0, x1), the array slice [y0:y1, x0:x1].

Tiles (TensorFlow's DeepDream tutorial, `TiledGradients`, with a margin): tiles
partition the image in equal-ish sizes; each tile's crop adds `margin` pixels of
context on every side, and only the tile's own part of a crop's gradient is kept,
so every pixel's gradient comes from a crop in which it sits `margin` pixels from
a cut edge: no seams.
"""
import numpy as np

from . import runtime
from .errors import UserError


# ---- sizes and pixels ----------------------------------------------------------------

def fit_size(size, longest_side=None, min_side=1):
    """(width, height) of an image of `size` (width, height) scaled so its longest side is
    `longest_side` (None or 0: unchanged), the aspect kept, no side below `min_side`."""
    width, height = size
    if not longest_side:
        return width, height
    if width >= height:
        return int(longest_side), max(min_side, round(height * longest_side / width))
    return max(min_side, round(width * longest_side / height)), int(longest_side)


def to_uint8(image, scale):
    """An image (numpy or NDArray) whose white is `scale` (1.0: pixels in 0..1; 255: in
    0..255) as uint8 0..255, rounded and clipped."""
    a = image.asnumpy() if hasattr(image, 'asnumpy') else np.asarray(image)
    if scale != 255:
        a = a * (255.0 / scale)
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


# ---- tiles ---------------------------------------------------------------------------

def tile_edges(length, tile):
    """[(start, end)] covering 0..length in tiles of at most `tile`, equal-ish sizes."""
    n = max(1, -(-length // tile))
    cuts = [round(i * length / n) for i in range(n + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def needs_tiles(size, tile):
    """Whether an image of `size` is larger than one tile (tile 0: never tiled)."""
    return bool(tile) and (size[0] > tile or size[1] > tile)


def tiles(size, tile, margin):
    """[(core box, crop box)] of every tile of an image of `size`; crops are cut at the
    image border."""
    width, height = size
    out = []
    for y0, y1 in tile_edges(height, tile):
        for x0, x1 in tile_edges(width, tile):
            crop = (max(0, y0 - margin), min(height, y1 + margin),
                    max(0, x0 - margin), min(width, x1 + margin))
            out.append(((y0, y1, x0, x1), crop))
    return out


def same_size_tiles(size, tile, margin):
    """As `tiles`, but every crop has the same size (the largest core plus two margins,
    at most the image), moved inside the image at its border instead of cut: one
    network graph serves every crop."""
    width, height = size
    cores = [core for core, _ in tiles(size, tile, margin)]
    ch = min(height, max(y1 - y0 for y0, y1, _, _ in cores) + 2 * margin)
    cw = min(width, max(x1 - x0 for _, _, x0, x1 in cores) + 2 * margin)

    def place(start, end, length, total):
        begin = min(max(0, (start + end) // 2 - length // 2), total - length)
        return begin, begin + length
    return [((y0, y1, x0, x1), place(y0, y1, ch, height) + place(x0, x1, cw, width))
            for y0, y1, x0, x1 in cores]


def crop_pixels(crops):
    """Pixels the network sees for one tiled pass (the overhead over the image's own)."""
    return sum((c[1] - c[0]) * (c[3] - c[2]) for _, c in crops)


def largest_crop_pixels(crops):
    """Pixels of the largest crop: what one pass through the network holds at once."""
    return max((c[1] - c[0]) * (c[3] - c[2]) for _, c in crops)


def gradient_in_tiles(crop_gradient, grad, crops):
    """The tiled gradient: for each (core, crop) box pair, crop_gradient(k, crop box, core
    box within the crop) -> (value, gradient of the crop, (1, C, h, w)); the gradient's
    core goes into `grad` (numpy or NDArray, (1, C, H, W)), the rest is dropped (each
    pixel's gradient comes from the one crop whose tile holds it).  Returns the values,
    one per crop."""
    values = []
    for k, ((y0, y1, x0, x1), (cy0, cy1, cx0, cx1)) in enumerate(crops):
        core = (y0 - cy0, y1 - cy0, x0 - cx0, x1 - cx0)
        value, g = crop_gradient(k, (cy0, cy1, cx0, cx1), core)
        grad[:, :, y0:y1, x0:x1] = g[:, :, core[0]:core[1], core[2]:core[3]]
        values.append(value)
    return values


# ---- memory --------------------------------------------------------------------------

def tile_for_memory(available, bytes_per_pixel, share, multiple, smallest, largest=1024):
    """A tile side whose pass takes about `share` of `available` bytes, a multiple of
    `multiple`, within [smallest, largest]: the suggestion of a memory error."""
    side = int((share * available / bytes_per_pixel) ** 0.5) // multiple * multiple
    return max(smallest, min(largest, side))


def check_memory(what, need_bytes, fix, ctx=None):
    """A one-line UserError when `what` needs more than the free memory.  fix: the advice,
    or a function of the free bytes giving it.  ctx: a device other than the CPU has its
    own memory, not checked here."""
    if ctx is not None and ctx.device_type != 'cpu':
        return
    avail = runtime.available_memory_bytes()
    if avail and need_bytes > avail:
        advice = fix(avail) if callable(fix) else fix
        raise UserError(f'{what} needs about {need_bytes / 2 ** 30:.1f} GiB but '
                        f'{avail / 2 ** 30:.1f} GiB is free: {advice}')
