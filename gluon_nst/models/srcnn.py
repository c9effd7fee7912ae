"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): patch extraction (9x9, 64),
non-linear mapping (1x1, 32), reconstruction (5x5) with ReLU between, on a
bicubic-enlarged image.  Fully convolutional, so `upscale` runs a whole image
at once (no patch loop).

Here so that any method can enlarge an image with a trained SRCNN (the style
method's coarse-to-fine hand-over) without importing the sr package.
"""
import json
import os

import numpy as np

from ..errors import UserError

# The paper's 9-1-5 network (the one trained on T91 alone).
KERNELS = (9, 1, 5)
FILTERS = (64, 32)
# Files of a trained model: weights and what they were trained for.
PARAMS_FILE, META_FILE = 'best.params', 'best.json'
# Models trained by our code and shipped in the package (scale -> file stem).
PACKAGED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sr',
                            'trained')


# MATLAB rgb2ycbcr (ITU-R BT.601, studio swing) on 0..255 values.
_YCBCR = np.array([[65.481, 128.553, 24.966],
                   [-37.797, -74.203, 112.0],
                   [112.0, -93.786, -18.214]]) / 255.0
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb2ycbcr(rgb):
    """(H, W, 3) uint8 RGB -> (H, W, 3) float64 YCbCr in 0..255, as MATLAB's rgb2ycbcr
    before its rounding to uint8 (round the result for MATLAB's uint8 output)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return rgb @ _YCBCR.T + _YCBCR_OFFSET


def ycbcr2rgb(ycc):
    """Inverse of rgb2ycbcr on float 0..255 values; returns float RGB (unclipped)."""
    return (np.asarray(ycc, dtype=np.float64) - _YCBCR_OFFSET) @ np.linalg.inv(_YCBCR).T


def _cubic(x):
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def resize_matrix(in_len, out_len, scale, antialias=True):
    """(out_len, in_len) weights of MATLAB's bicubic imresize along one axis
    (contributions(): widened kernel when shrinking, symmetric border)."""
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
    m = np.zeros((out_len, in_len))
    np.add.at(m, (np.repeat(np.arange(out_len), taps), idx.ravel()), weights.ravel())
    return m


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
    mh = resize_matrix(h, shape[0], sh, antialias)
    mw = resize_matrix(w, shape[1], sw, antialias)
    if img.ndim == 2:
        return mh @ img @ mw.T
    return np.einsum('ih,hwc,jw->ijc', mh, img, mw, optimize=True)


def border(kernels=KERNELS):
    """Pixels a valid-padding network loses on each side (6 for 9-1-5)."""
    return sum(k // 2 for k in kernels)


# The reconstruction layer computes at least this many output channels and keeps the
# first `channels`: oneDNN's backward of a 5x5 convolution with one output channel took
# 300 ms for a batch of 64 sub-images, with 8 outputs 57 ms (1 thread, measured).
COMPUTED_CHANNELS = 8


def build(channels=1, padding='valid', kernels=KERNELS, filters=FILTERS):
    """The network: valid padding (the paper's training: 33x33 in, 21x21 out) or same
    (zero padding, output the size of the input)."""
    from mxnet.gluon import nn

    class Reconstruction(nn.HybridBlock):
        """The last (linear) convolution; its extra outputs get no gradient."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.channels = channels
            with self.name_scope():
                self.conv = nn.Conv2D(max(channels, COMPUTED_CHANNELS), kernels[2],
                                      padding=kernels[2] // 2 if padding == 'same' else 0,
                                      in_channels=filters[1])

        def hybrid_forward(self, F, x):
            return F.slice_axis(self.conv(x), axis=1, begin=0, end=self.channels)

    net = nn.HybridSequential(prefix='srcnn_')
    with net.name_scope():
        for k, c, cin in zip(kernels[:2], filters, (channels, filters[0])):
            net.add(nn.Conv2D(c, k, padding=k // 2 if padding == 'same' else 0,
                              activation='relu', in_channels=cin))
        net.add(Reconstruction(prefix='conv2_'))
    net.channels = channels
    return net


def output_size(in_size, padding='valid', kernels=KERNELS):
    return in_size if padding == 'same' else in_size - 2 * border(kernels)


def weight_names(net):
    """Stable names of the parameters, whatever the Gluon prefix: conv0_weight,
    conv0_bias, conv1_..., conv2_... (the layers in order)."""
    params = list(net.collect_params())
    return {name: f'conv{i // 2}_{"weight" if i % 2 == 0 else "bias"}'
            for i, name in enumerate(params)}


def save(net, path, meta):
    """Parameters with stable names and the paper's shapes (the reconstruction layer's
    computed-only outputs dropped), and a JSON file beside them saying what they are."""
    import mxnet as mx
    names = weight_names(net)
    arrays = {}
    for full, p in net.collect_params().items():
        v = p.data()
        if names[full].startswith('conv2_'):
            v = v[:net.channels]
        arrays[names[full]] = v
    mx.nd.save(path, arrays)
    with open(os.path.splitext(path)[0] + '.json', 'w') as f:
        json.dump(meta, f, indent=2)


def load_params(net, path):
    import mxnet as mx
    arrays = mx.nd.load(path)
    names = weight_names(net)
    for full, short in names.items():
        param = net.collect_params()[full]
        value = arrays[short]
        if value.shape != param.shape:          # the reconstruction layer: pad with zeros
            padded = mx.nd.zeros(param.shape, dtype=value.dtype)
            padded[:value.shape[0]] = value
            value = padded
        param.set_data(value)


def find_model(model=None, scale=None):
    """(params path, meta) of a trained model: a run folder, a .params file, or
    (model None) the model shipped in the package for `scale`."""
    if model is None:
        if scale is None:
            raise UserError('give --scale or --model')
        path = os.path.join(PACKAGED_DIR, f'srcnn_x{scale}.params')
        if not os.path.isfile(path):
            raise UserError(f'no trained x{scale} SRCNN ships with the package: train one with '
                            f'python scripts/train.py configs/sr/srcnn_x{scale}.yaml (configs: '
                            'srcnn_x2, srcnn_x3, srcnn_x4) and pass --model RUN_DIR')
    elif os.path.isdir(model):
        path = os.path.join(model, PARAMS_FILE)
        if not os.path.isfile(path):
            raise UserError(f'{model} holds no {PARAMS_FILE}: give the folder of a run of '
                            'configs/sr/*.yaml that finished at least one epoch, or a .params file')
    elif os.path.isfile(model):
        path = model
    else:
        raise UserError(f'model {model} does not exist: give a run folder or a .params file '
                        '(or train one with python scripts/train.py configs/sr/srcnn_x3.yaml)')
    meta_path = os.path.splitext(path)[0] + '.json'
    if not os.path.isfile(meta_path):
        raise UserError(f'{path} has no {os.path.basename(meta_path)} beside it (scale, '
                        'channels): keep the two files together')
    with open(meta_path) as f:
        meta = json.load(f)
    if 'sha256' in meta:
        from .store import file_hash
        got = file_hash(path)
        if got != meta['sha256']:
            raise UserError(f'{path} has sha256 {got[:16]}..., expected {meta["sha256"]}: the '
                            'file is wrong or corrupt; train it again')
    return path, meta


def get_model(model=None, scale=None, ctx=None):
    """A trained SRCNN (valid padding: `enhance` pads the image): returns (net, record)."""
    import mxnet as mx
    path, meta = find_model(model, scale)
    kernels = meta.get('kernels', list(KERNELS))
    net = build(meta.get('channels', 1), 'valid', kernels)
    net.initialize(ctx=ctx or mx.cpu())
    net(mx.nd.zeros((1, meta.get('channels', 1), 33, 33), ctx=ctx or mx.cpu()))
    load_params(net, path)
    net.border = border(kernels)
    net.hybridize(static_alloc=True)
    return net, dict(meta, path=path)


def enhance(net, image01, ctx=None, pad=None):
    """Run a valid-padding network on a bicubic-enlarged (H, W, C) 0..1 image, whole:
    the border the convolutions lose is added first by repeating the edge (zero
    padding darkens the border); pad=0 for a same-padding network.  Returns float
    (H, W, C), unclipped."""
    import mxnet as mx
    pad = getattr(net, 'border', border()) if pad is None else pad
    x = np.pad(np.asarray(image01, dtype=np.float32), ((pad, pad), (pad, pad), (0, 0)), 'edge')
    x = mx.nd.array(x.transpose(2, 0, 1)[None], ctx=ctx or mx.cpu())
    return net(x)[0].asnumpy().transpose(1, 2, 0)


def upscale(rgb, scale, params=None, net=None, meta=None, ctx=None, rounded=True):
    """Enlarge a uint8 RGB (or greyscale) image `scale` times with SRCNN.

    `params`: a run folder or .params file (default: the model shipped for `scale`);
    or a loaded `net` and its `meta` (from get_model).  Y goes through the network and
    CbCr is enlarged bicubically (the paper's way); a 3-channel model takes RGB.
    Returns uint8 RGB, the input's size times `scale` (rounded=False: float 0..255, for
    a caller that goes on in floats)."""
    if net is None:
        net, meta = get_model(params, scale, ctx)
    meta = meta or {}
    if meta.get('scale') not in (None, scale):
        raise UserError(f'the model {meta.get("path")} was trained for x{meta["scale"]}, not '
                        f'x{scale}: pass a x{scale} model or --scale {meta["scale"]}')
    rgb = np.asarray(rgb)
    grey = rgb.ndim == 2
    if grey:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    h, w = rgb.shape[:2]
    shape = (h * scale, w * scale)
    if meta.get('channels', _channels(net)) == 3:
        big = imresize(rgb.astype(np.float64) / 255.0, shape=shape)
        out = np.clip(enhance(net, big, ctx), 0, 1) * 255.0
    else:
        ycc = imresize(rgb2ycbcr(rgb), shape=shape)
        y = enhance(net, ycc[..., :1] / 255.0, ctx)[..., 0] * 255.0
        ycc[..., 0] = np.clip(y, 0, 255)
        out = ycbcr2rgb(ycc)
    out = np.clip(out, 0, 255)
    return np.round(out).astype(np.uint8) if rounded else out


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
        net, meta = get_model(params, scale, ctx)
    scale = (meta or {}).get('scale', 3)
    out = upscale(rgb, scale, net=net, meta=meta, ctx=ctx, rounded=False)
    if out.shape[:2] != (height, width):
        out = np.clip(imresize(out, shape=(height, width)), 0, 255)
    return np.round(out).astype(np.uint8) if rounded else out


def _channels(net):
    return net.channels
