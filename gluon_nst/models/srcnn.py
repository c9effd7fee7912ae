"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): patch extraction (9x9, 64),
non-linear mapping (1x1, 32), reconstruction (5x5) with ReLU between, on a
bicubic-enlarged image.

The network alone: build, parameters (load, save, find a trained model).  Enlarging
an image with it is `gluon_nst.sr.upscale` (the srcnn method's), which the style
method's coarse-to-fine hand-over uses too.
"""
import json
import os

from ..errors import UserError

# The paper's 9-1-5 network (the one trained on T91 alone).
KERNELS = (9, 1, 5)
FILTERS = (64, 32)
# Files of a trained model: weights and what they were trained for.
PARAMS_FILE, META_FILE = 'best.params', 'best.json'
# Models trained by our code and shipped in the package (scale -> file stem).
PACKAGED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sr',
                            'trained')


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
    """A trained SRCNN (valid padding: sr.upscale pads the image): returns (net, record)."""
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
