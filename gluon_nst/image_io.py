"""Image I/O and the book's pre/post-processing.

Input conventions (how a network wants its pixels) live here because every
network uses one of them.  Reading goes through Pillow so that odd files get a documented conversion
(EXIF rotation applied; grayscale, palette, CMYK, 16-bit and RGBA become
8-bit RGB, transparency composited onto white) or a one-line error.
Resizing is the book's: `mxnet.image.imresize` (OpenCV bilinear), on the
8-bit image for inputs and on the float image for the coarse-to-fine hand-over.
"""
import os
import warnings

import numpy as np

from .errors import UserError
from .imaging import to_uint8

MIN_SIDE = 16          # VGG-19 halves the image four times before conv5_1

# Input conventions: x_net = (pixel01[perm] * scale - offset) / div, per channel,
# with pixel01 the RGB image in 0..1.
CONVENTIONS = {
    # The book / MXNet model zoo: RGB, 0..1, ImageNet mean/std.
    'book': dict(perm=(0, 1, 2), scale=(1.0, 1.0, 1.0),
                 mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    # Caffe / Keras "caffe" mode: BGR, 0..255, minus the BGR means.
    'caffe': dict(perm=(2, 1, 0), scale=(255.0, 255.0, 255.0),
                  mean=(103.939, 116.779, 123.68), std=(1.0, 1.0, 1.0)),
    # Plain RGB in 0..1 (TF2 recipes optimise this image, preprocessing inside the model).
    'rgb01': dict(perm=(0, 1, 2), scale=(1.0, 1.0, 1.0), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)),
}


def convention_affine(name):
    """(perm, a, b) such that x[k] = a[k] * rgb01[perm[k]] + b[k]."""
    c = CONVENTIONS[name]
    a = np.array(c['scale']) / np.array(c['std'])
    b = -np.array(c['mean']) / np.array(c['std'])
    return np.array(c['perm']), a, b


def pixel_range(convention):
    """Per-channel (low, high) of valid pixels in the network's input space."""
    _, a, b = convention_affine(convention)
    lo, hi = b, a + b
    return np.minimum(lo, hi), np.maximum(lo, hi)


def read_rgb(path, what='image'):
    """Read any common image file as an (H, W, 3) uint8 RGB array."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    if not path or not os.path.exists(path):
        raise UserError(f'{what} {path} does not exist: check the path (relative paths in a '
                        'config file are read from its folder, on the command line from the '
                        'current one)')
    if os.path.isdir(path):
        raise UserError(f'{what} {path} is a folder: give an image file')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                im = ImageOps.exif_transpose(im)
                arr = _to_rgb8(im)
    except UnidentifiedImageError:
        raise UserError(f'{what} {path} is not an image Pillow can read: give a PNG, JPEG, '
                        'BMP, TIFF or WebP file') from None
    except PermissionError:
        raise UserError(f'{what} {path} cannot be read (permission denied): fix its '
                        'permissions') from None
    except (OSError, SyntaxError, ValueError) as e:
        raise UserError(f'{what} {path} is damaged or truncated ({e}): re-export or '
                        're-download it') from None
    except Image.DecompressionBombError:
        raise UserError(f'{what} {path} is too large to decode safely: downscale it '
                        'first') from None
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise UserError(f'{what} {path} is {w}x{h}: VGG-19 needs at least {MIN_SIDE} pixels '
                        'per side; use a larger image')
    return arr


def _to_rgb8(im):
    """Documented conversions of Pillow modes to 8-bit RGB."""
    from PIL import Image
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        a = np.asarray(im, dtype=np.float64)
        # 16-bit modes are 0..65535; 32-bit 'I' has no fixed range: guess from the values.
        top = 255.0 if (im.mode == 'I' and a.max() <= 255) else 65535.0
        a = np.clip(np.round(a / top * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    if im.mode == 'F':
        a = np.asarray(im, dtype=np.float64)
        a = np.clip(np.round(a * 255.0 if a.max() <= 1.0 else a), 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    if im.mode == 'P':
        im = im.convert('RGBA') if 'transparency' in im.info else im.convert('RGB')
    if im.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La'):
        rgba = im.convert('RGBA')
        white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if im.mode != 'RGB':
        im = im.convert('RGB')          # L, 1, CMYK, YCbCr, LAB, HSV
    return np.asarray(im, dtype=np.uint8).copy()


def preprocess(img, image_shape, convention='book', ctx=None):
    """(H, W, 3) RGB array (uint8, or float 0..255) -> (1, 3, H, W) network input at
    size image_shape (width, height).

    The book: imresize to (W, H), /255, minus mean, over std, CHW, batch of 1.
    """
    import mxnet as mx
    nd_img = img if isinstance(img, mx.nd.NDArray) else mx.nd.array(img, dtype=img.dtype)
    nd_img = mx.image.imresize(nd_img, int(image_shape[0]), int(image_shape[1]))
    c = CONVENTIONS[convention]
    x = nd_img.astype('float32') / 255
    x = mx.nd.stack(*[x[:, :, p] for p in c['perm']], axis=2) if c['perm'] != (0, 1, 2) else x
    scale = mx.nd.array(c['scale']).reshape((1, 1, 3))
    mean, std = mx.nd.array(c['mean']).reshape((1, 1, 3)), mx.nd.array(c['std']).reshape((1, 1, 3))
    if c['scale'] != (1.0, 1.0, 1.0):
        x = x * scale
    x = (x - mean) / std
    x = x.transpose((2, 0, 1)).expand_dims(axis=0)
    return x.as_in_context(ctx) if ctx is not None else x


def postprocess(x, convention='book'):
    """(1, 3, H, W) network input -> (H, W, 3) RGB float NDArray in 0..1 (clipped), on CPU."""
    import mxnet as mx
    c = CONVENTIONS[convention]
    img = x[0].as_in_context(mx.cpu()).transpose((1, 2, 0))
    std, mean = mx.nd.array(c['std']).reshape((1, 1, 3)), mx.nd.array(c['mean']).reshape((1, 1, 3))
    img = img * std + mean
    if c['scale'] != (1.0, 1.0, 1.0):
        img = img / mx.nd.array(c['scale']).reshape((1, 1, 3))
    if c['perm'] != (0, 1, 2):
        inv = np.argsort(c['perm'])
        img = mx.nd.stack(*[img[:, :, int(k)] for k in inv], axis=2)
    return img.clip(0, 1)


def save_png(rgb, path):
    """Write an RGB image (uint8 array, or float 0..1) as PNG, atomically."""
    from PIL import Image
    a = rgb if (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8) else to_uint8(rgb, 1.0)
    tmp = path + '.tmp.png'
    Image.fromarray(a).save(tmp)
    os.replace(tmp, path)
    return path
