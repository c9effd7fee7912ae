"""Enlarge any image with a trained SRCNN, in tiles, at bounded memory.

SRCNN runs on the bicubic-enlarged image; its valid convolutions see `border` pixels
around each output pixel, and the bicubic kernel a few input pixels around each
enlarged one.  A tile of the output is computed from the enlarged pixels of the tile
plus `border` on every side (the edge repeated at the image border, as the whole-image
pass pads it), and those from the input pixels under their bicubic taps: every output
pixel is the same arithmetic as in one whole-image pass, so the tiles give the whole
image's result (see tests/test_sr_upscale.py), and memory stays that of one tile plus
the uint8 input and output, whatever the size.

Y goes through the network and CbCr is enlarged bicubically (the paper's way); a
3-channel model takes RGB.
"""
import sys

import numpy as np

from ..errors import UserError
from ..models import srcnn
from . import resize

# Output tile side (pixels).  Measured (gluon-nst upscale, 1224x816 x2, 2 threads):
# tiles of 256, 512 and 1024 take 93, 76 and 87 s, peak RSS 0.28, 0.40 and 0.86 GB.
TILE = 512
# Peak RSS over the uint8 input and output (same runs): Python, MXNet and the model
# (~250 MB) and ~600 bytes per pixel of one tile (float64 enlargement, activations).
# With the PNG encoder's copy this estimates 4000x2667 x4 and 8660x5773 x2 within 4%
# of the measured 1.48 and 1.78 GiB, above them.
BASE_BYTES = 400 * 2 ** 20
TILE_BYTES_PER_PIXEL = 650


def run_network(net, padded01, ctx=None):
    """The network on an (H + 2b, W + 2b, C) 0..1 image (already padded by its border
    b): float32 (H, W, C), unclipped."""
    import mxnet as mx
    x = mx.nd.array(np.asarray(padded01, dtype=np.float32).transpose(2, 0, 1)[None],
                    ctx=ctx or mx.cpu())
    return net(x)[0].asnumpy().transpose(1, 2, 0)


def enhance(net, image01, ctx=None, pad=None):
    """Run a valid-padding network on a bicubic-enlarged (H, W, C) 0..1 image, whole:
    the border the convolutions lose is added first by repeating the edge (zero
    padding darkens the border); pad=0 for a same-padding network.  Returns float
    (H, W, C), unclipped."""
    pad = getattr(net, 'border', srcnn.border()) if pad is None else pad
    padded = np.pad(np.asarray(image01, dtype=np.float32), ((pad, pad), (pad, pad), (0, 0)), 'edge')
    return run_network(net, padded, ctx)


def tile_boxes(height, width, tile=TILE):
    """[(y0, y1, x0, x1)] covering the image with tiles all of one size (the last row
    and column moved back inside the image, overlapping their neighbours), so one
    network graph serves every tile; tile 0: the whole image."""
    def spans(length):
        size = min(tile, length) if tile else length
        starts = list(range(0, length - size, size)) + [length - size]
        return [(s, s + size) for s in starts]
    return [(y0, y1, x0, x1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


def needed_bytes(in_shape, out_shape, tile=TILE, rounded=True, border=6):
    """Estimated peak memory of an enlargement: the uint8 input, the output (uint8, or
    float64 with rounded=False) and one tile's work."""
    (h, w), (oh, ow) = in_shape, out_shape
    th, tw = (min(tile, oh), min(tile, ow)) if tile else (oh, ow)
    out = oh * ow * 3 * (1 if rounded else 8)
    return BASE_BYTES + h * w * 3 + out + (th + 2 * border) * (tw + 2 * border) * TILE_BYTES_PER_PIXEL


def check_memory(in_shape, out_shape, tile=TILE, extra_output_copies=0):
    """UserError when the enlargement (plus `extra_output_copies` of its uint8 output,
    e.g. the PNG encoder's) would not fit in the free memory."""
    from ..imaging import check_memory as check
    (h, w), (oh, ow) = in_shape, out_shape
    out = (1 + extra_output_copies) * oh * ow * 3
    check(f'upscaling {w}x{h} to {ow}x{oh} (the output image alone {out / 2 ** 30:.1f} GiB)',
          needed_bytes(in_shape, out_shape, tile) + extra_output_copies * oh * ow * 3,
          'use a smaller --scale or shrink the image first')


def enlarge(rgb, shape, net=None, meta=None, ctx=None, rounded=True, tile=TILE, progress=False):
    """`rgb` (H, W, 3, uint8 or float 0..255) enlarged to shape (height, width): SRCNN on
    MATLAB's bicubic enlargement (net None: the bicubic enlargement alone), tile by tile.
    Returns uint8 RGB (rounded=False: float64 0..255, clipped)."""
    h, w = rgb.shape[:2]
    oh, ow = shape
    taps_y = resize.contributions(h, oh, oh / h)
    taps_x = resize.contributions(w, ow, ow / w)
    b = 0 if net is None else getattr(net, 'border', srcnn.border())
    channels = (meta or {}).get('channels', getattr(net, 'channels', 1))
    out = np.empty((oh, ow, 3), np.uint8 if rounded else np.float64)
    boxes = tile_boxes(oh, ow, tile)
    from tqdm import tqdm
    bar = tqdm(boxes, desc='upscale', unit='tile', file=sys.stderr, leave=False,
               disable=True if not progress or len(boxes) < 2 else None)
    for y0, y1, x0, x1 in bar:
        rows = np.clip(np.arange(y0 - b, y1 + b), 0, oh - 1)     # edge repeated past the border
        cols = np.clip(np.arange(x0 - b, x1 + b), 0, ow - 1)
        r_lo, r_hi = taps_y[0][rows].min(), taps_y[0][rows].max() + 1
        c_lo, c_hi = taps_x[0][cols].min(), taps_x[0][cols].max() + 1
        src = rgb[r_lo:r_hi, c_lo:c_hi].astype(np.float64)
        if net is not None and channels == 1:
            src = resize.rgb2ycbcr(src)
        big = resize.resize_axis(resize.resize_axis(src, taps_y, rows, 0, r_lo), taps_x, cols, 1, c_lo)
        own = big[b:b + y1 - y0, b:b + x1 - x0]
        if net is None:
            px = own
        elif channels == 3:
            px = np.clip(run_network(net, big / 255.0, ctx), 0, 1) * 255.0
        else:
            y = run_network(net, big[..., :1] / 255.0, ctx)[..., 0] * 255.0
            own[..., 0] = np.clip(y, 0, 255)
            px = resize.ycbcr2rgb(own)
        px = np.clip(px, 0, 255)
        out[y0:y1, x0:x1] = np.round(px) if rounded else px
    bar.close()
    return out


def _model(params, net, meta, scale, ctx):
    if net is None:
        net, meta = srcnn.get_model(params, scale, ctx)
    meta = meta or {}
    if scale is not None and meta.get('scale') not in (None, scale):
        raise UserError(f'the model {meta.get("path")} was trained for x{meta["scale"]}, not '
                        f'x{scale}: pass a x{scale} model or --scale {meta["scale"]}')
    return net, meta


def _as_rgb(rgb):
    rgb = np.asarray(rgb)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb


def upscale(rgb, scale, params=None, net=None, meta=None, ctx=None, rounded=True, tile=TILE,
            progress=False):
    """Enlarge a uint8 RGB (or greyscale) image `scale` times with SRCNN.

    `params`: a run folder or .params file (default: the model shipped for `scale`);
    or a loaded `net` and its `meta` (from srcnn.get_model).  Returns uint8 RGB, the
    input's size times `scale` (rounded=False: float64 0..255, for a caller that goes on
    in floats).  `tile`: output tile side (0: the whole image at once)."""
    net, meta = _model(params, net, meta, scale, ctx)
    rgb = _as_rgb(rgb)
    h, w = rgb.shape[:2]
    return enlarge(rgb, (h * scale, w * scale), net, meta, ctx, rounded, tile, progress)


def scale_for(ratio):
    """The shipped model's scale for an enlargement by `ratio` (2, 3 or 4; bicubic does
    the rest)."""
    return int(min(max(round(ratio), 2), 4))


def upscale_to(rgb, width, height, params=None, net=None, meta=None, ctx=None, rounded=True):
    """Enlarge to exactly width x height (e.g. a coarse-to-fine hand-over): SRCNN at the
    model's scale (default: the shipped model nearest the ratio), then MATLAB bicubic for
    what is left.  Returns uint8 RGB (rounded=False: float 0..255)."""
    if net is None:
        scale = None if params else scale_for(width / np.asarray(rgb).shape[1])
        net, meta = srcnn.get_model(params, scale, ctx)
    scale = (meta or {}).get('scale', 3)
    out = upscale(rgb, scale, net=net, meta=meta, ctx=ctx, rounded=False)
    if out.shape[:2] != (height, width):
        out = enlarge(out, (height, width), rounded=False)
    return np.round(out).astype(np.uint8) if rounded else out
