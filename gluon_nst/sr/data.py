"""SRCNN data, prepared as the authors' MATLAB code does (generate_train.m,
demo_SR.m): Y of `rgb2ycbcr`, `modcrop`, bicubic `imresize` down by the scale
and back up, 33x33 input / 21x21 label sub-images.

MATLAB's `imresize` antialiases when it shrinks (the cubic kernel is widened by
the scale); Pillow's bicubic uses a = -0.5 too but rounds to 8 bits at each
pass.  Both are here (`degradation: matlab | pil`) so the difference can be
measured; the paper's figures need `matlab`.
"""
import glob
import hashlib
import json
import os

import numpy as np

from ..errors import UserError
from .resize import imresize, resize_matrix, rgb2ycbcr, ycbcr2rgb  # noqa: F401

ENV_DATA = 'GLUON_NST_SR_DATA'
IMAGE_PATTERNS = ('*.bmp', '*.png', '*.jpg', '*.jpeg', '*.tif', '*.tiff')
CACHE_VERSION = 1          # bump when the patch layout or the degradation changes


def y_channel(rgb):
    """Y of MATLAB's rgb2ycbcr on uint8 input: uint8, 16..235 (the paper's luminance)."""
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:               # greyscale: MATLAB sees R = G = B
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return np.round(rgb2ycbcr(rgb)[..., 0]).astype(np.uint8)


def modcrop(img, scale):
    """Crop the bottom and right so that height and width are multiples of `scale`."""
    h, w = img.shape[:2]
    return img[:h - h % scale, :w - w % scale]


def pil_resize(img01, shape):
    """Pillow's bicubic on a float 0..1 image (8-bit per pass, as a PIL-based recipe)."""
    from PIL import Image
    a = np.clip(np.round(np.asarray(img01) * 255), 0, 255).astype(np.uint8)
    single = a.ndim == 3 and a.shape[2] == 1
    out = np.asarray(Image.fromarray(a[..., 0] if single else a)
                     .resize((shape[1], shape[0]), Image.BICUBIC))
    out = out[..., None] if single else out
    return out.astype(np.float64) / 255.0


def degrade(label01, scale, method='matlab'):
    """The network input of a label image (float 0..1, H and W multiples of `scale`):
    bicubic down by `scale`, then back up to the label's size."""
    h, w = label01.shape[:2]
    if method == 'matlab':
        small = imresize(label01, 1.0 / scale)
        return imresize(small, shape=(h, w))
    small = pil_resize(label01, (h // scale, w // scale))
    return pil_resize(small, (h, w))


def to_network_image(rgb, channels):
    """uint8 RGB -> float32 0..1 (H, W, C): Y (channels 1) or RGB (channels 3)."""
    if channels == 1:
        return y_channel(rgb).astype(np.float64)[..., None] / 255.0
    return np.asarray(rgb, dtype=np.float64) / 255.0


def patch_grid(h, w, size, stride):
    """Top-left corners of the sub-images, as generate_train.m's loops (row-major)."""
    return [(y, x) for y in range(0, h - size + 1, stride) for x in range(0, w - size + 1, stride)]


def extract_patches(inp, label, input_size, label_size, stride):
    """(N, C, input_size, input_size) inputs and the centred (N, C, label_size,
    label_size) labels of one image pair (H, W, C)."""
    pad = (input_size - label_size) // 2
    corners = patch_grid(inp.shape[0], inp.shape[1], input_size, stride)
    xs = np.stack([inp[y:y + input_size, x:x + input_size] for y, x in corners]) if corners else \
        np.zeros((0, input_size, input_size, inp.shape[2]))
    ys = np.stack([label[y + pad:y + pad + label_size, x + pad:x + pad + label_size]
                   for y, x in corners]) if corners else \
        np.zeros((0, label_size, label_size, inp.shape[2]))
    return xs.transpose(0, 3, 1, 2), ys.transpose(0, 3, 1, 2)


def list_images(folder, what='dataset'):
    if not os.path.isdir(folder):
        raise UserError(f'{what} folder {folder} does not exist: the standard sets are in '
                        f'../shared/datasets/sr (T91, Set5, Set14); point data.root or '
                        f'${ENV_DATA} at that folder')
    files = sorted({f for p in IMAGE_PATTERNS for f in glob.glob(os.path.join(folder, p))})
    if not files:
        raise UserError(f'{what} folder {folder} holds no images (.bmp, .png, .jpg): '
                        f'point data.root or ${ENV_DATA} at ../shared/datasets/sr')
    return files


def read_image(path):
    """uint8 RGB of any image (greyscale files such as bridge.bmp become R = G = B)."""
    from ..image_io import read_rgb
    return read_rgb(path, 'image')


def build_patches(files, scale, input_size, label_size, stride, channels, degradation):
    """Every sub-image pair of `files`; returns (inputs, labels, skipped names)."""
    xs, ys, skipped = [], [], []
    for path in files:
        label = modcrop(to_network_image(read_image(path), channels), scale)
        if min(label.shape[:2]) < input_size:
            skipped.append(os.path.basename(path))
            continue
        inp = degrade(label, scale, degradation)
        x, y = extract_patches(inp, label, input_size, label_size, stride)
        xs.append(x.astype(np.float32))
        ys.append(y.astype(np.float32))
    if not xs:
        raise UserError(f'no image of {os.path.dirname(files[0])} is at least {input_size} pixels '
                        f'a side: use larger training images or a smaller data.input_size')
    return np.concatenate(xs), np.concatenate(ys), skipped


def patch_key(files, **settings):
    """Cache key: the images' contents and every setting that shapes the patches."""
    from ..models.store import file_hash
    h = hashlib.sha256(json.dumps(dict(settings, version=CACHE_VERSION), sort_keys=True).encode())
    for path in files:
        h.update(os.path.basename(path).encode())
        h.update(file_hash(path).encode())
    return h.hexdigest()


def cached_patches(files, scale, input_size, label_size, stride, channels, degradation):
    """build_patches, cached under $GLUON_NST_HOME/sr_patches/<hash>.npz, so that a
    second training with the same data and settings starts at once.  Returns
    (inputs, labels, skipped, cache_path, was_cached)."""
    from ..models.store import _temporary_file, cache_dir
    settings = dict(scale=scale, input_size=input_size, label_size=label_size, stride=stride,
                    channels=channels, degradation=degradation)
    key = patch_key(files, **settings)
    folder = os.path.join(cache_dir(), 'sr_patches')
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, key[:24] + '.npz')
    if os.path.isfile(path):
        try:
            with np.load(path) as z:
                return z['inputs'], z['labels'], [str(s) for s in z['skipped']], path, True
        except (OSError, ValueError, KeyError):
            pass                                  # damaged: build again
    xs, ys, skipped = build_patches(files, scale, input_size, label_size, stride, channels,
                                    degradation)
    tmp = _temporary_file(path, '.npz')
    with open(tmp, 'wb') as f:
        np.savez(f, inputs=xs, labels=ys, skipped=np.array(skipped, dtype=str))
    os.replace(tmp, path)
    return xs, ys, skipped, path, False


class TestImage:
    """One evaluation image: ground truth, bicubic input (Y or RGB, 0..1) and its colour."""

    def __init__(self, path, scale, channels, degradation='matlab'):
        self.name = os.path.splitext(os.path.basename(path))[0]
        rgb = modcrop(read_image(path), scale)
        self.rgb = rgb
        self.label = to_network_image(rgb, channels)
        self.bicubic = degrade(self.label, scale, degradation)
        if channels == 1:      # colour for pictures: CbCr bicubic from the small image
            ycc = rgb2ycbcr(rgb) / 255.0
            self.ycc_bicubic = degrade(ycc, scale, degradation)
