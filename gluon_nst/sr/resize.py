"""MATLAB's bicubic `imresize` and `rgb2ycbcr`, the operations SRCNN was trained and
evaluated with (the paper's demo_SR.m).

The resize is kept as per-output-pixel taps (indices and weights along each axis), not
as a dense matrix: any region of an enlargement can be computed alone, and a pixel's
value does not depend on which region it was computed in (each is the same sum in the
same order), which is what lets `upscale` work in tiles and still give the whole
image's result exactly.
"""
import numpy as np

# MATLAB rgb2ycbcr (ITU-R BT.601, studio swing) on 0..255 values.
_YCBCR = np.array([[65.481, 128.553, 24.966],
                   [-37.797, -74.203, 112.0],
                   [112.0, -93.786, -18.214]]) / 255.0
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])
_RGB = np.linalg.inv(_YCBCR)


def _colour_transform(x, matrix, offset_in, offset_out):
    """(..., 3) -> (..., 3): matrix @ (x - offset_in) + offset_out, written out per channel
    so each pixel is the same arithmetic whatever the array's shape (BLAS is not)."""
    x = np.asarray(x, dtype=np.float64)
    c = [x[..., i] - offset_in[i] for i in range(3)]
    out = np.empty(x.shape[:-1] + (3,))
    for i in range(3):
        out[..., i] = matrix[i, 0] * c[0] + matrix[i, 1] * c[1] + matrix[i, 2] * c[2] + offset_out[i]
    return out


def rgb2ycbcr(rgb):
    """(H, W, 3) uint8 RGB -> (H, W, 3) float64 YCbCr in 0..255, as MATLAB's rgb2ycbcr
    before its rounding to uint8 (round the result for MATLAB's uint8 output)."""
    return _colour_transform(rgb, _YCBCR, np.zeros(3), _YCBCR_OFFSET)


def ycbcr2rgb(ycc):
    """Inverse of rgb2ycbcr on float 0..255 values; returns float RGB (unclipped)."""
    return _colour_transform(ycc, _RGB, _YCBCR_OFFSET, np.zeros(3))


def _cubic(x):
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def contributions(in_len, out_len, scale, antialias=True):
    """MATLAB's contributions() along one axis: (indices, weights), each (out_len, taps),
    0-based input indices (symmetric border) and weights summing to 1 per output pixel;
    taps with zero weight for every pixel are dropped."""
    kernel_width = 4.0
    if scale < 1 and antialias:
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)          # output pixel centre in input coordinates
    left = np.floor(u - kernel_width / 2)
    taps = int(np.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]   # 1-based input indices
    dist = u[:, None] - idx
    if scale < 1 and antialias:
        weights = scale * _cubic(dist * scale)
    else:
        weights = _cubic(dist)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    idx = mirror[np.mod(idx.astype(np.int64) - 1, len(mirror))]
    used = np.any(weights != 0, axis=0)
    return idx[:, used], weights[:, used]


def resize_matrix(in_len, out_len, scale, antialias=True):
    """(out_len, in_len) dense weights of MATLAB's bicubic imresize along one axis."""
    idx, weights = contributions(in_len, out_len, scale, antialias)
    m = np.zeros((out_len, in_len))
    np.add.at(m, (np.repeat(np.arange(out_len), idx.shape[1]), idx.ravel()), weights.ravel())
    return m


def resize_axis(img, taps, positions, axis, first=0):
    """Output pixels `positions` (any 0-based indices, repeats allowed) of a resize along
    `axis` (0 rows, 1 columns), from that axis's contributions(); `img` holds the input
    from index `first` on along that axis (a crop)."""
    idx, weights = taps
    idx, weights = idx[positions] - first, weights[positions]
    shape = (-1,) + (1,) * (img.ndim - 1) if axis == 0 else (1, -1) + (1,) * (img.ndim - 2)
    out = None
    for k in range(idx.shape[1]):
        term = weights[:, k].reshape(shape) * np.take(img, idx[:, k], axis=axis)
        out = term if out is None else out + term
    return out


def imresize(img, scale=None, shape=None, antialias=True):
    """MATLAB's imresize(img, scale, 'bicubic') (or to shape=(H, W)) on a float array
    (H, W) or (H, W, C); returns float64, unrounded (as on MATLAB doubles)."""
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    if shape is None:
        shape = (int(np.ceil(h * scale)), int(np.ceil(w * scale)))
        sh = sw = scale
    else:
        sh, sw = shape[0] / h, shape[1] / w
    rows = resize_axis(img, contributions(h, shape[0], sh, antialias), np.arange(shape[0]), 0)
    return resize_axis(rows, contributions(w, shape[1], sw, antialias), np.arange(shape[1]), 1)
