"""Hash-checked pretrained weights: `get_model(name)`.

Lookup order for a weights file: the config's `weights.path`, then the
environment variable GLUON_NST_WEIGHTS, then the cache
(`$GLUON_NST_HOME` or ~/.cache/gluon_nst), then a download (with a progress
bar).  A file or folder given explicitly must hold the expected file and
match its hash; otherwise the run stops with the expected hash in the error.
"""
import hashlib
import os
import shutil
import tempfile
import zipfile

import numpy as np

from . import network
from .errors import UserError

ENV_WEIGHTS = 'GLUON_NST_WEIGHTS'
ENV_HOME = 'GLUON_NST_HOME'

# Per-layer feature divisors that give the Caffe weights the book's loss
# scale (see README, "Calibration").  Fitted by scripts/calibrate.py against
# ../shared/d2l/press_losses.txt at the book's two stage sizes; the two
# networks' features do not grow alike with resolution, so the divisor of a
# layer runs log-linearly in the pixel count between those sizes (constant
# outside them).  Layers not listed (other choices of layers) use
# DEFAULT_CAFFE_SCALE, the single divisor that gives the book's step-0 style loss.
CALIBRATION_PIXELS = (300 * 200, 1200 * 800)
CAFFE_FEATURE_SCALE = {25: (144.083, 115.892), 0: (94.817, 99.435), 5: (67.554, 120.759),
                       10: (142.359, 174.406), 19: (105.300, 96.235), 28: (90.975, 100.335)}
DEFAULT_CAFFE_SCALE = 105.125


def calibrated_scale(anchors, pixels):
    """A layer's divisor at `pixels`: log-linear in log(pixels) between the anchors."""
    lo, hi = CALIBRATION_PIXELS
    t = min(max((np.log(pixels) - np.log(lo)) / (np.log(hi) - np.log(lo)), 0.0), 1.0)
    return float(np.exp((1 - t) * np.log(anchors[0]) + t * np.log(anchors[1])))


SOURCES = {
    'caffe-vgg19': dict(
        filename='vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
        url='https://storage.googleapis.com/tensorflow/keras-applications/vgg19/'
            'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
        hash_name='sha256',
        hash='bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35',
        md5='253f8cb515780f3b799900260a226db6',      # as the file is usually published
        convention='caffe',
        description='VGG-19 (Simonyan & Zisserman, Caffe), Keras notop HDF5, CC BY 4.0'),
    'mxnet-zoo': dict(
        filename='vgg19-ad2f660d.params',
        url='https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/vgg19-ad2f660d.zip',
        hash_name='sha1',
        hash='ad2f660d101905472b83590b59708b71ea22b2e5',
        convention='book',
        description='VGG-19 from the MXNet Gluon model zoo (the book\'s weights)'),
}


def cache_dir():
    root = os.environ.get(ENV_HOME) or os.path.join(os.path.expanduser('~'), '.cache', 'gluon_nst')
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise UserError(f'cannot create the weights cache {root} ({e.strerror}): set '
                        f'{ENV_HOME} to a writable folder') from None
    return root


def file_hash(path, hash_name='sha256', chunk=1 << 20):
    h = hashlib.new(hash_name)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def _check(path, spec, origin):
    if not os.path.isfile(path):
        raise UserError(f'weights file {path} ({origin}) does not exist: point it at '
                        f'{spec["filename"]} or a folder holding it')
    try:
        got = file_hash(path, spec['hash_name'])
    except OSError as e:
        raise UserError(f'weights file {path} ({origin}) cannot be read ({e.strerror}): '
                        'check its permissions') from None
    if got != spec['hash']:
        raise UserError(f'weights file {path} ({origin}) has {spec["hash_name"]} {got[:16]}..., '
                        f'expected {spec["hash"]}'
                        + (f' (md5 {spec["md5"]})' if 'md5' in spec else '') +
                        ': the file is wrong or corrupt; '
                        f'replace it with {spec["filename"]}')
    return path


def _explicit(path, spec, origin):
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        path = os.path.join(path, spec['filename'])
        if not os.path.isfile(path):
            # Also accept the shared layout: <folder>/vgg19/<file>.
            alt = os.path.join(os.path.dirname(path), 'vgg19', spec['filename'])
            path = alt if os.path.isfile(alt) else path
    return _check(path, spec, origin)


def _temporary_file(dest, suffix):
    """A new file beside `dest`, with the mode a plain open() would give (mkstemp's is 0600)."""
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=os.path.dirname(dest))
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def _download(url, dest):
    """Download with a progress bar to a temporary name, then move into place."""
    import urllib.request
    from tqdm import tqdm
    tmp = _temporary_file(dest, '.part')   # unique: parallel runs may download at once
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, 'wb') as f:
            total = int(r.headers.get('Content-Length') or 0) or None
            with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(dest)) as bar:
                for block in iter(lambda: r.read(1 << 20), b''):
                    f.write(block)
                    bar.update(len(block))
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise UserError(f'could not download {url} ({e.__class__.__name__}: {e}); without internet, '
                        f'set weights.path or {ENV_WEIGHTS} to a local copy') from None
    os.replace(tmp, dest)


def weights_file(source, path=None):
    """Return (path, origin) of the verified weights file for `source`."""
    spec = SOURCES[source]
    if path:
        return _explicit(path, spec, 'weights.path'), 'config'
    if os.environ.get(ENV_WEIGHTS):
        return _explicit(os.environ[ENV_WEIGHTS], spec, ENV_WEIGHTS), 'env'
    cached = os.path.join(cache_dir(), spec['filename'])
    if os.path.isfile(cached) and file_hash(cached, spec['hash_name']) == spec['hash']:
        return cached, 'cache'
    if source == 'mxnet-zoo':
        _download(spec['url'], cached + '.zip')
        with zipfile.ZipFile(cached + '.zip') as zf, tempfile.TemporaryDirectory(dir=cache_dir()) as t:
            zf.extractall(t)
            shutil.move(os.path.join(t, spec['filename']), cached)
        os.remove(cached + '.zip')
    else:
        _download(spec['url'], cached)
    return _check(cached, spec, 'download'), 'download'


def caffe_h5_to_arrays(h5_path):
    """Read the Keras/Caffe VGG-19 HDF5 into Gluon layout: [(W[out,in,h,w], b)] x 16."""
    import h5py
    out = []
    with h5py.File(h5_path, 'r') as f:
        for name in network.LAYER_NAMES:
            if not name.startswith('conv'):
                continue
            g = f'block{name[4]}_conv{name[6]}'
            w = np.asarray(f[g][f'{g}_W_1:0'], dtype=np.float32).transpose(3, 2, 0, 1)
            b = np.asarray(f[g][f'{g}_b_1:0'], dtype=np.float32)
            out.append((np.ascontiguousarray(w), b))
    return out


def _converted_cache(h5_path, digest):
    """Convert once to a Gluon parameter file (with a sha256 sidecar), keyed by the
    source file's hash.  Its names are those of `vision.vgg19().features`
    ('0.weight', ...), in the Caffe input convention, so
    `vision.vgg19().features.load_parameters(path, allow_missing=True)` reads it too."""
    import mxnet as mx
    dest = os.path.join(cache_dir(), f'vgg19-caffe-{digest[:8]}.params')
    if os.path.isfile(dest) and os.path.isfile(dest + '.sha256'):
        with open(dest + '.sha256') as f:
            if f.read().strip() == file_hash(dest):
                saved = mx.nd.load(dest)
                return [(saved[f'{i}.weight'].asnumpy(), saved[f'{i}.bias'].asnumpy())
                        for i in network.CONV_INDICES]
    arrays = caffe_h5_to_arrays(h5_path)
    params = {}
    for i, (w, b) in zip(network.CONV_INDICES, arrays):
        params[f'{i}.weight'], params[f'{i}.bias'] = mx.nd.array(w), mx.nd.array(b)
    # Unique temporary names: parallel runs (sweeps) may convert at the same time.
    tmp = _temporary_file(dest, '.params')
    mx.nd.save(tmp, params)
    digest_tmp = tmp + '.sha256'
    with open(digest_tmp, 'w') as f:
        f.write(file_hash(tmp))
    os.replace(tmp, dest)
    os.replace(digest_tmp, dest + '.sha256')
    return arrays


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
            for i in network.CONV_INDICES]


def conv_arrays(source, path=None):
    """The 16 conv (weight, bias) pairs of `source` in Gluon layout, and a record."""
    if source not in SOURCES:
        raise UserError(f'unknown weights source {source!r}: use one of {sorted(SOURCES)}')
    f, origin = weights_file(source, path)
    spec = SOURCES[source]
    arrays = _converted_cache(f, spec['hash']) if source == 'caffe-vgg19' else _zoo_arrays(f)
    record = dict(source=source, file=os.path.abspath(f), found_in=origin,
                  hash_name=spec['hash_name'], hash=spec['hash'], description=spec['description'])
    return arrays, record


def feature_scales(source, layers, setting, pixels=CALIBRATION_PIXELS[0]):
    """Per-layer divisors applied to extracted features, for an image of `pixels`.

    setting: 'calibrated' (the source's table), 'none', a number, or a list per layer.
    """
    if setting == 'none':
        return [1.0] * len(layers)
    if setting == 'calibrated':
        if source != 'caffe-vgg19':
            return [1.0] * len(layers)
        return [calibrated_scale(CAFFE_FEATURE_SCALE[i], pixels) if i in CAFFE_FEATURE_SCALE
                else DEFAULT_CAFFE_SCALE for i in layers]
    if isinstance(setting, (int, float)):
        return [float(setting)] * len(layers)
    return [float(s) for s in setting]


def get_model(name='vgg19', source='caffe-vgg19', path=None, depth=None,
              convention='book', ctx=None):
    """The frozen VGG-19 `features`, cut after `depth` layers, taking `convention` input.

    Returns (net, record).  The input convention is folded into conv1_1, so
    `net(x)` with x in `convention` equals the original network on its own
    convention (away from the zero-padded border).
    """
    if name != 'vgg19':
        raise UserError(f'unknown model {name!r}: only vgg19 is available')
    import mxnet as mx
    depth = depth or len(network.LAYER_NAMES)
    arrays, record = conv_arrays(source, path)
    native = SOURCES[source]['convention']
    w0, b0 = network.fold_input_convention(arrays[0][0], arrays[0][1], convention, native)
    arrays = [(w0, b0)] + arrays[1:]
    net = network.build_features(depth)
    ctx = ctx or mx.cpu()
    net.initialize(mx.init.Zero(), ctx=ctx)
    convs = [blk for blk in net if blk.__class__.__name__ == 'Conv2D']
    for blk, (w, b) in zip(convs, arrays):
        blk.weight.set_data(mx.nd.array(w, ctx=ctx))
        blk.bias.set_data(mx.nd.array(b, ctx=ctx))
    # Frozen: no weight gradients are ever computed or stored.
    net.collect_params().setattr('grad_req', 'null')
    record.update(native_convention=native, input_convention=convention, depth=depth)
    return net, record
