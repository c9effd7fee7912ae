"""VGG-19: layer names, the frozen truncated feature network, its weights
(the Caffe HDF5 file or the MXNet model zoo's), and the input-convention
folding into conv1_1.

Layer indices follow `gluon.model_zoo.vision.vgg19().features` (the book's
indices): conv1_1 is 0, relu1_1 is 1, ..., conv5_1 is 28.
"""
import difflib
import os

import numpy as np

from ..errors import UserError
from ..image_io import convention_affine
from . import store
from .features import Network

# VGG-19 "E" configuration: conv widths per block.
VGG19_BLOCKS = [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4]


def _layer_table():
    """Map every layer name of VGG-19 `features` to its index (and back)."""
    names = []
    for b, widths in enumerate(VGG19_BLOCKS, start=1):
        for c in range(1, len(widths) + 1):
            names += [f'conv{b}_{c}', f'relu{b}_{c}']
        names.append(f'pool{b}')
    return names


LAYER_NAMES = _layer_table()
CONV_INDICES = [i for i, n in enumerate(LAYER_NAMES) if n.startswith('conv')]
# Keras/TF layer names are accepted too.  A Keras conv layer applies its ReLU
# itself, so `block4_conv2` is the output after the ReLU: relu4_2, not conv4_2.
KERAS_ALIASES = {f'block{n[4]}_conv{n[6]}': n.replace('conv', 'relu')
                 for n in LAYER_NAMES if n.startswith('conv')}
KERAS_ALIASES.update({f'block{n[4]}_pool': n for n in LAYER_NAMES if n.startswith('pool')})


def layer_index(layer):
    """Resolve an index or a name (`conv4_2`, `relu4_2`, `block4_conv2` = relu4_2) to an index."""
    if isinstance(layer, bool):
        raise UserError(f'layer {layer!r} is not a VGG-19 layer: use an index 0..{len(LAYER_NAMES) - 1} '
                        'or a name like conv4_2')
    if isinstance(layer, int):
        if 0 <= layer < len(LAYER_NAMES):
            return layer
        raise UserError(f'layer index {layer} is out of range: VGG-19 features have indices '
                        f'0..{len(LAYER_NAMES) - 1}')
    name = KERAS_ALIASES.get(str(layer), str(layer))
    if name in LAYER_NAMES:
        return LAYER_NAMES.index(name)
    near = difflib.get_close_matches(str(layer), LAYER_NAMES + list(KERAS_ALIASES), n=1)
    hint = f'; did you mean {near[0]!r}?' if near else ''
    raise UserError(f'unknown VGG-19 layer {layer!r}{hint} (names: conv1_1..conv5_4, relu1_1.., pool1..5)')


def fold_input_convention(weight, bias, src, dst):
    """Rewrite conv1_1 trained on convention `dst` so it takes convention `src`.

    The map src -> dst is a per-channel affine map with a channel permutation,
    so it folds exactly into the first convolution (away from the zero-padded
    border, where the padding value differs).  weight: (out, in, kh, kw).
    """
    if src == dst:
        return weight, bias
    p_s, a_s, b_s = convention_affine(src)
    p_d, a_d, b_d = convention_affine(dst)
    # rgb01[c] = (x_src[k_s(c)] - b_s) / a_s, where k_s(c) is the src channel holding rgb c.
    inv_s = np.argsort(p_s)
    new_w = np.zeros_like(weight)
    new_b = bias.astype(np.float64).copy()
    for k in range(3):                       # dst channel k holds rgb channel p_d[k]
        rgb = p_d[k]
        j = inv_s[rgb]                       # src channel holding the same rgb channel
        gain = a_d[k] / a_s[j]
        shift = b_d[k] - a_d[k] * b_s[j] / a_s[j]
        new_w[:, j] += weight[:, k] * gain
        new_b += weight[:, k].sum(axis=(1, 2)) * shift
    return new_w.astype(weight.dtype), new_b.astype(bias.dtype)


POOLINGS = ('max', 'avg')


def build_features(depth, pooling='max'):
    """`gluon.model_zoo.vision.vgg19().features`, cut after layer `depth - 1`.

    Conv shapes are set here, so the net can be initialised and its weights
    set before any forward pass (the zoo defers them to the first input).
    pooling 'avg': each max pool becomes an average pool of the same window and
    stride (Gatys et al. 2015; no rescaling, as they did).
    """
    from mxnet.gluon import nn
    from mxnet.gluon.model_zoo import vision
    if pooling not in POOLINGS:
        raise UserError(f'unknown pooling {pooling!r}: use one of {", ".join(POOLINGS)}')
    net = vision.vgg19().features[:depth]
    if pooling == 'avg':
        blocks = []
        for blk in net:
            if isinstance(blk, nn.MaxPool2D):
                k = blk._kwargs
                blk = nn.AvgPool2D(pool_size=k['kernel'], strides=k['stride'], padding=k['pad'])
            blocks.append(blk)
        net = nn.HybridSequential()
        net.add(*blocks)
    channels = 3
    for name, blk in zip(LAYER_NAMES[:depth], net):
        if name.startswith('conv'):
            width = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
            blk.weight.shape = (width, channels, 3, 3)
            channels = width
    return net


def feature_shape(index, height, width):
    """(c, h, w) of the output of layer `index` for an (height, width) input (array order,
    as the maps' shape)."""
    c, h, w = 3, height, width
    for name in LAYER_NAMES[:index + 1]:
        if name.startswith('conv'):
            c = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
        elif name.startswith('pool'):
            h, w = h // 2, w // 2
    return c, h, w


SOURCES = {
    'caffe-vgg19': dict(
        filename='vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
        url='https://storage.googleapis.com/tensorflow/keras-applications/vgg19/'
            'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
        hash_name='sha256',
        hash='bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35',
        md5='253f8cb515780f3b799900260a226db6',      # as the file is usually published
        convention='caffe', subdir='vgg19',
        description='VGG-19 (Simonyan & Zisserman, Caffe), Keras notop HDF5, CC BY 4.0'),
    'mxnet-zoo': dict(
        filename='vgg19-ad2f660d.params',
        url='https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/vgg19-ad2f660d.zip',
        hash_name='sha1',
        hash='ad2f660d101905472b83590b59708b71ea22b2e5',
        convention='book', archive='zip',
        description='VGG-19 from the MXNet Gluon model zoo (the book\'s weights)'),
}


def caffe_h5_to_arrays(h5_path):
    """Read the Keras/Caffe VGG-19 HDF5 into Gluon layout: [(W[out,in,h,w], b)] x 16."""
    import h5py
    out = []
    with h5py.File(h5_path, 'r') as f:
        for name in LAYER_NAMES:
            if not name.startswith('conv'):
                continue
            g = f'block{name[4]}_conv{name[6]}'
            w = np.asarray(f[g][f'{g}_W_1:0'], dtype=np.float32).transpose(3, 2, 0, 1)
            b = np.asarray(f[g][f'{g}_b_1:0'], dtype=np.float32)
            out.append((np.ascontiguousarray(w), b))
    return out


def _converted_cache(h5_path, digest):
    """Convert once to a Gluon parameter file keyed by the source file's hash.  Its
    names are those of `vision.vgg19().features` ('0.weight', ...), in the Caffe
    input convention, so `vision.vgg19().features.load_parameters(path,
    allow_missing=True)` reads it too."""
    def build():
        params = {}
        for i, (w, b) in zip(CONV_INDICES, caffe_h5_to_arrays(h5_path)):
            params[f'{i}.weight'], params[f'{i}.bias'] = w, b
        return params
    saved = store.cached_params('vgg19-caffe', digest, build)
    return [(saved[f'{i}.weight'], saved[f'{i}.bias']) for i in CONV_INDICES]


def _zoo_arrays(params_path):
    """Conv arrays of a model-zoo vgg19 .params file (either naming scheme MXNet wrote)."""
    import mxnet as mx
    from mxnet.gluon.model_zoo import vision
    full = vision.vgg19()
    try:
        full.load_parameters(params_path, ctx=mx.cpu())
    except (AssertionError, mx.MXNetError) as e:
        raise UserError(f'{params_path} is not a VGG-19 model-zoo parameter file ({e}); '
                        'use vgg19-ad2f660d.params') from None
    return [(full.features[i].weight.data().asnumpy(), full.features[i].bias.data().asnumpy())
            for i in CONV_INDICES]


def conv_arrays(source, path=None):
    """The 16 conv (weight, bias) pairs of `source` in Gluon layout, and a record."""
    if source not in SOURCES:
        raise UserError(f'unknown weights source {source!r}: use one of {sorted(SOURCES)}')
    f, origin = store.weights_file(SOURCES[source], path)
    spec = SOURCES[source]
    arrays = _converted_cache(f, spec['hash']) if source == 'caffe-vgg19' else _zoo_arrays(f)
    record = dict(source=source, file=os.path.abspath(f), found_in=origin,
                  hash_name=spec['hash_name'], hash=spec['hash'], description=spec['description'])
    return arrays, record


def get_model(source='caffe-vgg19', path=None, depth=None, convention='book', ctx=None,
              pooling='max'):
    """The frozen VGG-19 `features`, cut after `depth` layers, taking `convention` input,
    with max (the network's) or avg pooling.

    Returns (net, record).  The input convention is folded into conv1_1, so
    `net(x)` with x in `convention` equals the original network on its own
    convention (away from the zero-padded border).
    """
    import mxnet as mx
    depth = depth or len(LAYER_NAMES)
    arrays, record = conv_arrays(source, path)
    native = SOURCES[source]['convention']
    w0, b0 = fold_input_convention(arrays[0][0], arrays[0][1], convention, native)
    arrays = [(w0, b0)] + arrays[1:]
    net = build_features(depth, pooling)
    ctx = ctx or mx.cpu()
    net.initialize(mx.init.Zero(), ctx=ctx)
    convs = [blk for blk in net if blk.__class__.__name__ == 'Conv2D']
    for blk, (w, b) in zip(convs, arrays):
        blk.weight.set_data(mx.nd.array(w, ctx=ctx))
        blk.bias.set_data(mx.nd.array(b, ctx=ctx))
    # Frozen: no weight gradients are ever computed or stored.
    net.collect_params().setattr('grad_req', 'null')
    record.update(native_convention=native, input_convention=convention, depth=depth,
                  pooling=pooling)
    return net, record


def forward_flops(last, height, width):
    """Multiply-adds x2 of the convolutions up to layer index `last`."""
    flops, cin = 0, 3
    for i, name in enumerate(LAYER_NAMES[:last + 1]):
        if name.startswith('conv'):
            cout = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
            _, h, w = feature_shape(i, height, width)
            flops += 2 * 9 * cin * cout * h * w
            cin = cout
    return flops


def taps(features, indices):
    """A block over `features` (the truncated trunk) returning the outputs of the layers
    `indices`, in that order (repeats allowed)."""
    from mxnet.gluon import HybridBlock

    class Taps(HybridBlock):
        def __init__(self, features, indices, **kwargs):
            super().__init__(**kwargs)
            self.indices = list(indices)
            self.register_child(features, 'features')
            self.features = features

        def hybrid_forward(self, F, x):
            wanted = {i: None for i in self.indices}
            last = max(self.indices)
            for i, layer in enumerate(self.features):
                x = layer(x)
                if i in wanted:
                    wanted[i] = x
                if i >= last:
                    break
            return [wanted[i] for i in self.indices]

    return Taps(features, indices)


class VGG19Features(Network):
    """VGG-19's `features` as a feature network: any input convention (folded into
    conv1_1; default Caffe's, the weights' own), max or avg pooling."""

    name = 'vgg19'
    # 4.6 KB measured from 150x100 to 1600x1067 with the book's layers (gluon-nst bench
    # style --scaling), plus a margin.
    bytes_per_pixel = 5000

    def resolve(self, layers):
        return [LAYER_NAMES[layer_index(n)] for n in layers]

    def stride(self, layer):
        return 2 ** sum(n.startswith('pool') for n in LAYER_NAMES[:layer_index(layer) + 1])

    def channels(self, layer):
        return feature_shape(layer_index(layer), 32, 32)[0]

    def feature_size(self, layer, size):
        _, h, w = feature_shape(layer_index(layer), size[1], size[0])
        return w, h

    def forward_flops(self, layers, size):
        return forward_flops(max(layer_index(n) for n in layers), size[1], size[0])

    def input_affine(self, convention):
        return convention_affine(convention)

    def build(self, layers, *, path, source, convention, pooling, ctx):
        indices = [layer_index(n) for n in layers]
        convention = convention or 'caffe'
        features, record = get_model(source=source or 'caffe-vgg19', path=path, depth=max(indices) + 1,
                                     convention=convention, ctx=ctx, pooling=pooling)
        record = dict(record, network=self.name, outputs=list(layers))
        return (lambda: taps(features, indices)), record, convention


FEATURES = VGG19Features()
