"""Octaves: the sizes a dream works at, and how the image goes from one to the next.

Google's pyramid (deepdream's `deepdream()`): the base image shrunk octave_n - 1
times by octave_scale; the dream starts at the smallest, and at each larger
octave the *detail* it made so far (dream minus base) is upscaled and added to
that octave's own sharp base image.

The cookbook's power factors (`DeepDreamer.dream`): for each p in the list the
current image is resized to base * scale ** p and dreamt on; at the end the
image goes back to the base size.
"""
import numpy as np


def resize(img, hw):
    """Bilinear resize of an (H, W, 3) float image to exactly (h, w) (scipy's zoom,
    order 1, as Google's notebook)."""
    from scipy import ndimage
    h0, w0 = img.shape[:2]
    if (h0, w0) == tuple(hw):
        return img.copy()
    return ndimage.zoom(img, (hw[0] / h0, hw[1] / w0, 1), order=1)


def pyramid(base, n, scale):
    """[base, base / scale, base / scale^2, ...]: n images, largest first."""
    octaves = [np.asarray(base, dtype=np.float32)]
    for _ in range(n - 1):
        octaves.append(resize(octaves[-1], (round(octaves[-1].shape[0] / scale),
                                            round(octaves[-1].shape[1] / scale))))
    return octaves


def pyramid_sizes(hw, n, scale):
    """(h, w) of each octave, smallest first, without computing the images."""
    sizes = [tuple(hw)]
    for _ in range(n - 1):
        sizes.append((round(sizes[-1][0] / scale), round(sizes[-1][1] / scale)))
    return sizes[::-1]


def power_sizes(hw, powers, scale):
    """(h, w) for each power factor (TF's cast truncates)."""
    return [(int(hw[0] * scale ** p), int(hw[1] * scale ** p)) for p in powers]


def carry_detail(detail, octave_base):
    """The start of the next octave: its base plus the detail dreamt so far, upscaled."""
    return octave_base + resize(detail, octave_base.shape[:2])
