"""Spatial control (cysmith/neural-style-tf's style masks): a grayscale image per
style, white where that style acts, and a content mask, white where the content
is kept (no style there).

A mask is stretched to whatever it is applied to, like the book stretches the
style image: at each style layer it is area-averaged to the feature map's size,
and the features (of the image being optimised and of the style image alike)
are multiplied by it before their Gram matrix.
"""
import numpy as np

from .. import image_io
from .color import rgb_to_ycbcr


def read_mask(path, key):
    """A mask file as an (H, W) float32 array in 0..1 (its luminance); errors name `key`."""
    rgb = image_io.read_rgb(path, f"mask (config key '{key}')")
    return rgb_to_ycbcr(rgb / 255.0)[..., 0].clip(0, 1).astype(np.float32)


def style_masks(masks, content_mask, n_styles):
    """The mask each style acts through: its own mask (white if none) times the
    inverse of the content mask.  None when neither is given (no masking)."""
    if masks is None and content_mask is None:
        return None
    out = []
    for i in range(n_styles):
        m = masks[i] if masks is not None else None
        if content_mask is not None:
            keep = 1.0 - _resize(content_mask, m.shape) if m is not None else 1.0 - content_mask
            m = keep if m is None else m * keep
        out.append(m.astype(np.float32))
    return out


def _resize(mask, hw):
    """Area (box) resize of an (H, W) float mask to (h, w)."""
    from PIL import Image
    if mask.shape == tuple(hw):
        return mask
    return np.asarray(Image.fromarray(np.ascontiguousarray(mask, dtype=np.float32))
                      .resize((int(hw[1]), int(hw[0])), Image.BOX))


def at_feature_size(mask, feature_hw, ctx=None):
    """The mask at a feature map's (h, w), as a (1, 1, h, w) NDArray to broadcast."""
    import mxnet as mx
    m = _resize(mask, feature_hw)
    return mx.nd.array(m[None, None], ctx=ctx)
