"""BVLC GoogLeNet (Inception v1, Szegedy et al. 2014): the original DeepDream network.

Written from the BVLC `deploy.prototxt` as one Gluon HybridBlock whose
outputs are any of its blobs, named as in Caffe (`inception_4c/output`,
`inception_4d/3x3`, `conv2/3x3`, `prob`...).  Caffe's ReLUs work in place,
so a convolution's blob is its output after the ReLU.  The net computes only
up to the deepest blob asked for.

Weights: the shared layout `googlenet/layers/<layer>/<name>_{filter,bias}.bin`
(raw float32, filters (out, h, w, in)).  One hash is pinned here, that of
`SHA256SUMS`; that file pins every weight file, each checked when the
weights are converted (once) into a cached Gluon parameter file.
Input: Caffe convention, BGR 0..255 minus (104, 117, 123).
"""
import difflib
import math
import os

import numpy as np

from ..errors import UserError
from . import store
from .features import Network

MEAN_BGR = (104.0, 117.0, 123.0)
CLASSIFY_SIDE = 224

# name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj (the paper's table 1)
INCEPTIONS = {
    'inception_3a': (64, 96, 128, 16, 32, 32),
    'inception_3b': (128, 128, 192, 32, 96, 64),
    'inception_4a': (192, 96, 208, 16, 48, 64),
    'inception_4b': (160, 112, 224, 24, 64, 64),
    'inception_4c': (128, 128, 256, 24, 64, 64),
    'inception_4d': (112, 144, 288, 32, 64, 64),
    'inception_4e': (256, 160, 320, 32, 128, 128),
    'inception_5a': (256, 160, 320, 32, 128, 128),
    'inception_5b': (384, 192, 384, 48, 128, 128),
}
BRANCHES = ('1x1', '3x3_reduce', '3x3', '5x5_reduce', '5x5', 'pool', 'pool_proj', 'output')

# The trunk in order: (kind, caffe name, arguments).
TRUNK = [
    ('conv', 'conv1/7x7_s2', dict(channels=64, kernel=7, stride=2, pad=3)),
    ('maxpool', 'pool1/3x3_s2', {}),
    ('lrn', 'pool1/norm1', {}),
    ('conv', 'conv2/3x3_reduce', dict(channels=64, kernel=1, stride=1, pad=0)),
    ('conv', 'conv2/3x3', dict(channels=192, kernel=3, stride=1, pad=1)),
    ('lrn', 'conv2/norm2', {}),
    ('maxpool', 'pool2/3x3_s2', {}),
    ('inception', 'inception_3a', {}),
    ('inception', 'inception_3b', {}),
    ('maxpool', 'pool3/3x3_s2', {}),
    ('inception', 'inception_4a', {}),
    ('inception', 'inception_4b', {}),
    ('inception', 'inception_4c', {}),
    ('inception', 'inception_4d', {}),
    ('inception', 'inception_4e', {}),
    ('maxpool', 'pool4/3x3_s2', {}),
    ('inception', 'inception_5a', {}),
    ('inception', 'inception_5b', {}),
    ('avgpool', 'pool5/7x7_s1', {}),
    ('fc', 'loss3/classifier', dict(units=1000)),
    ('softmax', 'prob', {}),
]


def _blob_table():
    """Every blob name in network order, with its channels and total stride."""
    names, channels, strides = [], {}, {}
    c, s = 3, 1
    for kind, name, a in TRUNK:
        if kind == 'conv':
            c, s = a['channels'], s * a['stride']
        elif kind == 'maxpool':
            s *= 2
        elif kind == 'inception':
            n1, r3, n3, r5, n5, pp = INCEPTIONS[name]
            widths = dict(zip(BRANCHES, (n1, r3, n3, r5, n5, c, pp, n1 + n3 + n5 + pp)))
            for b in BRANCHES:
                names.append(f'{name}/{b}')
                channels[f'{name}/{b}'], strides[f'{name}/{b}'] = widths[b], s
            c = widths['output']
            continue
        elif kind in ('fc', 'softmax'):
            c, s = 1000, None
        elif kind == 'avgpool':
            s = None
        names.append(name)
        channels[name], strides[name] = c, s
    return names, channels, strides


BLOB_NAMES, BLOB_CHANNELS, BLOB_STRIDES = _blob_table()
# TF's GoogLeNet graph (tensorflow/lucid, TF's DeepDream notebook) names the modules mixed3a...
ALIASES = {f'mixed{n[10:12]}': f'{n}/output' for n in INCEPTIONS}
DREAM_BLOBS = [n for n in BLOB_NAMES if BLOB_STRIDES[n] is not None]   # spatial blobs


def blob_name(name):
    """The Caffe blob for `name` (a blob or a mixed4c-style alias), or a UserError that
    suggests the nearest."""
    name = ALIASES.get(str(name), str(name))
    if name in BLOB_NAMES:
        return name
    near = difflib.get_close_matches(name, BLOB_NAMES + list(ALIASES), n=1, cutoff=0.6)
    hint = f"; did you mean '{near[0]}'?" if near else ''
    raise UserError(f"unknown GoogLeNet layer {name!r}{hint} (Caffe blob names such as "
                    "conv2/3x3, inception_4c/output, inception_4d/3x3, or mixed4c)")


def blob_hw(name, height, width):
    """(h, w) of blob `name` for an (height, width) input, as the network computes it."""
    h, w = height, width
    for kind, layer, a in TRUNK:
        if kind == 'conv':
            h = (h + 2 * a['pad'] - a['kernel']) // a['stride'] + 1
            w = (w + 2 * a['pad'] - a['kernel']) // a['stride'] + 1
        elif kind == 'maxpool':                       # Caffe rounds up (ceil mode)
            h, w = math.ceil((h - 3) / 2) + 1, math.ceil((w - 3) / 2) + 1
        elif kind in ('avgpool', 'fc', 'softmax'):
            h = w = 1
        if layer == name or name.startswith(layer + '/'):
            return h, w
    raise UserError(f'unknown GoogLeNet blob {name!r}')


def trunk_index(blob):
    """Position in TRUNK of the layer (or inception module) that computes `blob`."""
    for i, (_, layer, _) in enumerate(TRUNK):
        if blob == layer or blob.startswith(layer + '/'):
            return i
    raise UserError(f'unknown GoogLeNet blob {blob!r}')


def conv_layers():
    """(caffe name, trunk index, in channels, out channels, kernel, stride) of every
    convolution, in order (padding keeps the size: (kernel - 1) / 2, as the prototxt)."""
    out, c = [], 3
    for i, (kind, name, a) in enumerate(TRUNK):
        if kind == 'conv':
            out.append((name, i, c, a['channels'], a['kernel'], a['stride']))
            c = a['channels']
        elif kind == 'inception':
            n1, r3, n3, r5, n5, pp = INCEPTIONS[name]
            out += [(f'{name}/1x1', i, c, n1, 1, 1), (f'{name}/3x3_reduce', i, c, r3, 1, 1),
                    (f'{name}/3x3', i, r3, n3, 3, 1), (f'{name}/5x5_reduce', i, c, r5, 1, 1),
                    (f'{name}/5x5', i, r5, n5, 5, 1), (f'{name}/pool_proj', i, c, pp, 1, 1)]
            c = n1 + n3 + n5 + pp
    return out


def forward_flops(height, width, deepest):
    """Multiply-adds x2 of the convolutions and the classifier up to blob `deepest`."""
    last = trunk_index(deepest)
    flops = 0
    for name, i, cin, cout, k, _ in conv_layers():
        if i > last:
            break
        h, w = blob_hw(name, height, width)
        flops += 2 * cin * cout * k * k * h * w
    if last >= trunk_index('loss3/classifier'):
        flops += 2 * 1024 * 1000
    return flops


def _param_name(caffe_name):
    return caffe_name.replace('/', '_')


def lrn_band(channels, size=5):
    """(C, C, 1, 1) 0/1 weights: output channel c sums input channels c - size//2 .. c + size//2."""
    c = np.arange(channels)
    return (np.abs(c[:, None] - c[None, :]) <= size // 2).astype(np.float32)[:, :, None, None]


def lrn(F, x, band, channels, alpha=1e-4, beta=0.75, size=5):
    """Caffe's LRN across channels: x / (1 + alpha / size * sum of x^2 over `size`
    neighbouring channels) ^ beta, the window sum as a 1x1 convolution with `band`.

    Not MXNet's LRN operator: in MXNet 1.9.1 its oneDNN backward is wrong when a
    convolution follows (measured: 24% off the reference gradient; right with
    MXNET_MKLDNN_ENABLED=0), which made gradients depend on the crop.  The 1x1
    convolution is 3x faster than a pooling window along the channel axis."""
    window = F.Convolution(F.square(x), band, kernel=(1, 1), num_filter=channels, no_bias=True)
    return x / F.power(1 + (alpha / size) * window, beta)


def _make_block(outputs):
    """The network class for the requested blobs (import of mxnet deferred)."""
    from mxnet.gluon import HybridBlock, nn

    class GoogLeNet(HybridBlock):
        """Computes the trunk up to the deepest of `outputs`; returns their values in order."""

        def __init__(self, outputs, **kwargs):
            super().__init__(**kwargs)
            self.outputs = [blob_name(o) for o in outputs]
            self.last = max(trunk_index(o) for o in self.outputs)
            self.layers = {}
            with self.name_scope():
                for name, i, cin, cout, k, stride in conv_layers():
                    if i > self.last:
                        break
                    conv = nn.Conv2D(cout, k, strides=stride, padding=(k - 1) // 2, in_channels=cin,
                                     prefix=_param_name(name) + '_')
                    self.register_child(conv, _param_name(name))
                    self.layers[name] = conv
                for kind, name, _ in TRUNK[:self.last + 1]:
                    if kind == 'lrn':              # an attribute: hybrid_forward receives it
                        c = BLOB_CHANNELS[name]
                        band = self.params.get_constant(f'lrn_band_{c}', lrn_band(c))
                        setattr(self, f'lrn_band_{c}', band)
                if self.last >= trunk_index('loss3/classifier'):
                    fc = nn.Dense(1000, in_units=1024, prefix='loss3_classifier_')
                    self.register_child(fc, 'loss3_classifier')
                    self.layers['loss3/classifier'] = fc

        def hybrid_forward(self, F, x, **constants):
            blobs = {}

            def keep(name, value):
                blobs[name] = value
                return value

            def conv(name, v):
                # Activation, not F.relu: oneDNN runs it, 7x faster forward and backward.
                return keep(name, F.Activation(self.layers[name](v), act_type='relu'))

            def maxpool(name, v, stride=2, pad=0):
                return keep(name, F.Pooling(v, kernel=(3, 3), stride=(stride, stride), pad=(pad, pad),
                                            pool_type='max', pooling_convention='full'))

            for kind, name, _ in TRUNK[:self.last + 1]:
                if kind == 'conv':
                    x = conv(name, x)
                elif kind == 'maxpool':
                    x = maxpool(name, x)
                elif kind == 'lrn':
                    c = BLOB_CHANNELS[name]
                    x = keep(name, lrn(F, x, constants[f'lrn_band_{c}'], c))
                elif kind == 'inception':
                    b1 = conv(f'{name}/1x1', x)
                    b3 = conv(f'{name}/3x3', conv(f'{name}/3x3_reduce', x))
                    b5 = conv(f'{name}/5x5', conv(f'{name}/5x5_reduce', x))
                    bp = conv(f'{name}/pool_proj', maxpool(f'{name}/pool', x, stride=1, pad=1))
                    x = keep(f'{name}/output', F.concat(b1, b3, b5, bp, dim=1))
                elif kind == 'avgpool':       # 7x7 at 224x224 input: the whole map
                    x = keep(name, F.Pooling(x, kernel=(7, 7), pool_type='avg', global_pool=True))
                elif kind == 'fc':            # dropout is the identity at inference
                    x = keep(name, self.layers[name](x))
                elif kind == 'softmax':
                    x = keep(name, F.softmax(x, axis=1))
            out = [blobs[o] for o in self.outputs]
            return out[0] if len(out) == 1 else tuple(out)

    return GoogLeNet(outputs, prefix='googlenet_')


# The pinned hash of the shared SHA256SUMS (which lists every weight file's sha256).
SOURCE = dict(
    filename='SHA256SUMS', subdir='googlenet', url=None, hash_name='sha256',
    hash='eff4698064ae2acec9dec20497d025548c2645afcdbaa28e61530ea6963b9ab7',
    description='BVLC GoogLeNet (Caffe model zoo, unrestricted use), raw float32 files of the '
                'chaosmail/caffejs layout')
SYNSET_FILE = dict(filename='synset_words.txt', hash_name='sha256',
                   hash='acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355')


def _locate(path):
    """The verified SHA256SUMS of the weights folder (config path or $GLUON_NST_WEIGHTS)."""
    if not path and not os.environ.get(store.ENV_WEIGHTS):
        raise UserError('the GoogLeNet weights are not in the cache: set weights.path (or '
                        f'{store.ENV_WEIGHTS}) to the folder holding googlenet/ (e.g. ../shared/weights)')
    return store.weights_file(SOURCE, path)


def read_sums(sums_path):
    sums = {}
    with open(sums_path) as f:
        for line in f:
            if line.strip():
                digest, name = line.split(maxsplit=1)
                sums[name.strip().lstrip('*')] = digest
    return sums


def convert(sums_path):
    """{param name: array} in Gluon layout from the raw files, each checked against SHA256SUMS."""
    root, sums = os.path.dirname(sums_path), read_sums(sums_path)
    wanted = [(name, cin, cout, k) for name, _, cin, cout, k, _ in conv_layers()]
    wanted.append(('loss3/classifier', 1024, 1000, None))
    params = {}
    for name, cin, cout, k in wanted:
        for part, suffix in (('filter', 'weight'), ('bias', 'bias')):
            rel = f'layers/{name}_{part}.bin'
            path = os.path.join(root, rel)
            spec = dict(filename=rel, hash_name='sha256', hash=sums.get(rel))
            if spec['hash'] is None:
                raise UserError(f'{sums_path} lists no {rel}: the weights folder is incomplete')
            store.weights_file(spec, path)               # the file's sha256 against the list
            a = np.fromfile(path, dtype='<f4')
            if part == 'bias':
                a = a.reshape(cout)
            elif k is None:                              # classifier: (out, in)
                a = a.reshape(cout, cin)
            else:                                        # (out, h, w, in) -> (out, in, h, w)
                a = a.reshape(cout, k, k, cin).transpose(0, 3, 1, 2)
            params[f'{_param_name(name)}_{suffix}'] = np.ascontiguousarray(a, dtype=np.float32)
    return params


def arrays(path=None):
    """The converted parameters (cached) and a record of where they came from."""
    found = {}

    def locate():
        if not found:
            sums_path, origin = _locate(path)
            found.update(sums=sums_path, file=os.path.abspath(os.path.dirname(sums_path)),
                         found_in=origin)
        return found['sums']

    if path or os.environ.get(store.ENV_WEIGHTS):
        locate()                 # a folder given is checked even when the cache serves

    def build():
        return convert(locate())
    params = store.cached_params('googlenet-bvlc', SOURCE['hash'], build)
    record = dict(network='googlenet', source='bvlc-googlenet', found_in=found.get('found_in', 'cache'),
                  folder=found.get('file'), hash_name='sha256 of SHA256SUMS', hash=SOURCE['hash'],
                  description=SOURCE['description'])
    return params, record


def get_model(outputs=('prob',), path=None, ctx=None, hybridize=True):
    """The frozen GoogLeNet returning the blobs `outputs` for a Caffe-convention input.

    Returns (net, record)."""
    import mxnet as mx
    ctx = ctx or mx.cpu()
    params, record = arrays(path)
    net = _make_block(list(outputs))
    net.initialize(mx.init.Zero(), ctx=ctx)
    for name, p in net.collect_params().items():
        key = name[len('googlenet_'):]
        if not key.startswith('lrn_band'):
            p.set_data(mx.nd.array(params[key], ctx=ctx))
    net.collect_params().setattr('grad_req', 'null')     # frozen: no weight gradients
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=False)
    record.update(outputs=net.outputs)
    return net, record


def to_input(rgb, side=None):
    """(H, W, 3) RGB uint8/float 0..255 -> (1, 3, H, W) float32 Caffe input (numpy).

    side: resize to side x side first (bilinear, Pillow), as classification expects."""
    if side:
        from PIL import Image
        rgb = np.asarray(Image.fromarray(np.asarray(rgb, dtype=np.uint8)).resize(
            (side, side), Image.BILINEAR), dtype=np.float32)
    x = np.asarray(rgb, dtype=np.float32)[..., ::-1] - np.array(MEAN_BGR, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def synset_words(path=None):
    """The 1000 class names in output order, from synset_words.txt (sha256-checked)."""
    if path is None:
        sums_path, _ = _locate(None)
        path = os.path.join(os.path.dirname(sums_path), SYNSET_FILE['filename'])
    elif os.path.isdir(path):
        cand = os.path.join(path, SYNSET_FILE['filename'])
        path = cand if os.path.isfile(cand) else os.path.join(path, 'googlenet', SYNSET_FILE['filename'])
    store.weights_file(SYNSET_FILE, path)
    with open(path) as f:
        return [line.strip().split(' ', 1)[1] for line in f if line.strip()]


def classify(net, rgb, top=5, ctx=None):
    """[(class index, probability)] of the top-`top` classes of an RGB image at 224x224."""
    import mxnet as mx
    p = net(mx.nd.array(to_input(rgb, CLASSIFY_SIDE), ctx=ctx or mx.cpu())).asnumpy()[0]
    order = np.argsort(-p)[:top]
    return [(int(i), float(p[i])) for i in order]


class GoogLeNetFeatures(Network):
    """GoogLeNet's blobs with a spatial map (up to inception_5b/output) as a feature
    network; input in its own Caffe convention (BGR 0..255 minus MEAN_BGR)."""

    name = 'googlenet'
    # To inception_4c/output measured 1.1 KB/pixel (peak RSS 519, 1153, 2179 MB at
    # 512x384, 1024x768, 1536x1152; gluon-nst bench dream), kept with a margin.
    bytes_per_pixel = 1400

    def resolve(self, layers):
        out = []
        for n in layers:
            b = blob_name(n)
            if b not in DREAM_BLOBS:
                raise UserError(f"layer {n!r} has no spatial map to dream on: use a blob up to "
                                'inception_5b/output (e.g. inception_4c/output)')
            out.append(b)
        return out

    def stride(self, layer):
        return BLOB_STRIDES[blob_name(layer)]

    def channels(self, layer):
        return BLOB_CHANNELS[blob_name(layer)]

    def feature_size(self, layer, size):
        h, w = blob_hw(blob_name(layer), size[1], size[0])
        return w, h

    def forward_flops(self, layers, size):
        return forward_flops(size[1], size[0], max(self.resolve(layers), key=BLOB_NAMES.index))

    def input_affine(self, convention):
        if convention not in (None, 'googlenet'):
            raise UserError(f'GoogLeNet takes its own Caffe input convention, not {convention!r}')
        return (2, 1, 0), (255.0, 255.0, 255.0), tuple(-m for m in MEAN_BGR)

    def build(self, layers, *, path, source, convention, pooling, ctx):
        if pooling != 'max':
            raise UserError(f"GoogLeNet's pooling is its own: pooling {pooling!r} applies to VGG-19 only")
        self.input_affine(convention)
        block, record = get_model(outputs=layers, path=path, ctx=ctx)
        return (lambda: block), record, 'googlenet'


FEATURES = GoogLeNetFeatures()
