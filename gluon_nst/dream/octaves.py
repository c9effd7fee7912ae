"""Octaves: the sizes a dream works at, and how the image goes from one to the next.

Google's pyramid (deepdream's `deepdream()`): the base image shrunk octave_n - 1
times by octave_scale; the dream starts at the smallest, and at each larger
octave the *detail* it made so far (dream minus base) is upscaled and added to
that octave's own sharp base image.

The cookbook's power factors (`DeepDreamer.dream`): for each p in the list the
current image is resized to base * scale ** p and dreamt on; at the end the
image goes back to the base size.

Sizes are (width, height), as everywhere in the package (gluon_nst.imaging).
"""
import numpy as np


def resize(img, size):
    """Bilinear resize of an (H, W, 3) float image to exactly size (width, height) (scipy's
    zoom, order 1, as Google's notebook)."""
    from scipy import ndimage
    h0, w0 = img.shape[:2]
    if (w0, h0) == tuple(size):
        return img.copy()
    return ndimage.zoom(img, (size[1] / h0, size[0] / w0, 1), order=1)


def pyramid(base, n, scale):
    """[base, base / scale, base / scale^2, ...]: n images, largest first."""
    octaves = [np.asarray(base, dtype=np.float32)]
    for _ in range(n - 1):
        h, w = octaves[-1].shape[:2]
        octaves.append(resize(octaves[-1], (round(w / scale), round(h / scale))))
    return octaves


def pyramid_sizes(size, n, scale):
    """(width, height) of each octave, smallest first, without computing the images."""
    sizes = [tuple(size)]
    for _ in range(n - 1):
        sizes.append((round(sizes[-1][0] / scale), round(sizes[-1][1] / scale)))
    return sizes[::-1]


def power_sizes(size, powers, scale):
    """(width, height) for each power factor (TF's cast truncates)."""
    return [(int(size[0] * scale ** p), int(size[1] * scale ** p)) for p in powers]


def carry_detail(detail, octave_base):
    """The start of the next octave: its base plus the detail dreamt so far, upscaled."""
    return octave_base + resize(detail, octave_base.shape[1::-1])
