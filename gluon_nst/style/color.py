"""Colour control (Gatys et al. 2016, "Preserving colour in neural artistic style
transfer"): luminance-only transfer and colour matching of the style image.

Images are RGB arrays; `float` ones are in 0..1, (H, W, 3).  YCbCr is full-range
BT.601 (JPEG's): Y in 0..1, Cb and Cr centred on 0, so that
R, G, B = Y + (offsets that depend on Cb, Cr only).
"""
import numpy as np

from ..imaging import to_uint8

RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                         [-0.168736, -0.331264, 0.5],
                         [0.5, -0.418688, -0.081312]])
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)
# Regularises the style covariance before its inverse square root (a flat or
# grayscale style image has a singular one); in (0..1)^2 units.
COVARIANCE_EPS = 1e-5


def rgb_to_ycbcr(rgb):
    return np.asarray(rgb, dtype=np.float64) @ RGB_TO_YCBCR.T


def ycbcr_to_rgb(ycbcr):
    return np.asarray(ycbcr, dtype=np.float64) @ YCBCR_TO_RGB.T


def to_float(rgb8):
    return np.asarray(rgb8, dtype=np.float64) / 255.0


def luminance_image(rgb8, match_to=None):
    """The image's luminance in three equal channels (uint8).

    match_to: another uint8 image whose luminance mean and standard deviation
    this one's is given (the paper's luminance-only transfer does this to the
    style image, so that its luminance histogram is on the content's scale).
    """
    y = rgb_to_ycbcr(to_float(rgb8))[..., 0]
    if match_to is not None:
        target = rgb_to_ycbcr(to_float(match_to))[..., 0]
        y = (y - y.mean()) * (target.std() / max(y.std(), 1e-8)) + target.mean()
    return to_uint8(np.repeat(y[..., None], 3, axis=2), 1.0)


def with_chroma(result01, content01):
    """Y of `result`, Cb and Cr of `content` (both float RGB of one size).

    Y is kept in the range where the content's chroma fits in RGB 0..1 (the range
    always holds the content's own Y), so the result's chroma is the content's
    exactly instead of being bent by clipping a too bright or too dark pixel.
    """
    ycc = rgb_to_ycbcr(content01)
    ycc[..., 0] = 0
    offsets = ycbcr_to_rgb(ycc)                      # RGB = Y + offsets
    low, high = (-offsets).max(axis=2), (1.0 - offsets).min(axis=2)
    y = np.clip(rgb_to_ycbcr(result01)[..., 0], low, np.maximum(low, high))
    return np.clip(y[..., None] + offsets, 0.0, 1.0)


def _sqrtm(cov, inverse=False):
    """Symmetric (inverse) square root of a covariance matrix by its eigen decomposition."""
    values, vectors = np.linalg.eigh(cov)
    values = np.maximum(values, 0.0)
    root = 1.0 / np.sqrt(values) if inverse else np.sqrt(values)
    return (vectors * root) @ vectors.T


def linear_color_transfer(source01, target01):
    """`source`'s pixels mapped by x -> A (x - mean_s) + mean_t so that their RGB
    mean and covariance are `target`'s (float, not clipped).

    A = Cov_t^(1/2) Cov_s^(-1/2), the symmetric matrix square roots (the paper's
    "image analogies" variant of the linear transfer; the other is Cholesky's).
    """
    src = np.asarray(source01, dtype=np.float64).reshape(-1, 3)
    tgt = np.asarray(target01, dtype=np.float64).reshape(-1, 3)
    mean_s, mean_t = src.mean(axis=0), tgt.mean(axis=0)
    cov_s = np.cov(src, rowvar=False) + COVARIANCE_EPS * np.eye(3)
    cov_t = np.cov(tgt, rowvar=False)
    a = _sqrtm(cov_t) @ _sqrtm(cov_s, inverse=True)
    out = (src - mean_s) @ a.T + mean_t
    return out.reshape(np.shape(source01))


def histogram_match(source8, target8):
    """Per-channel histogram matching of uint8 images: each source level goes to the
    target level at the same quantile, interpolated (scikit-image's
    `exposure.match_histograms` algorithm).  Returns float levels 0..255."""
    source8, target8 = np.asarray(source8), np.asarray(target8)
    out = np.empty(source8.shape, dtype=np.float64)
    for k in range(3):
        src, tgt = source8[..., k].ravel(), target8[..., k].ravel()
        src_counts = np.bincount(src, minlength=256)
        tgt_counts = np.bincount(tgt, minlength=256)
        tgt_levels = np.nonzero(tgt_counts)[0]
        src_quantiles = np.cumsum(src_counts) / src.size
        tgt_quantiles = np.cumsum(tgt_counts[tgt_levels]) / tgt.size
        levels = np.interp(src_quantiles, tgt_quantiles, tgt_levels)
        out[..., k] = levels[source8[..., k]]
    return out


def match_colors(style8, content8, method='linear'):
    """The style image (uint8) with its colours matched to the content's (uint8)."""
    if method == 'histogram':
        return to_uint8(histogram_match(style8, content8), 255)
    return to_uint8(linear_color_transfer(to_float(style8), to_float(content8)), 1.0)
