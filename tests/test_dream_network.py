"""BVLC GoogLeNet in Gluon: the conversion is right (real photographs classified),
one inception module and the LRN against numpy, blob names, hash checks."""
import os
import shutil

import mxnet as mx
import numpy as np
import pytest

from gluon_nst.errors import UserError
from gluon_nst.models import googlenet as g

try:                        # the photographs of the classification proof (the `test` extra)
    from skimage import data as skimage_data
except ImportError:
    if os.environ.get('CI'):
        raise
    pytest.skip('needs scikit-image: pip install -c constraints.txt scikit-image==0.24.0',
                allow_module_level=True)


@pytest.fixture(scope='module')
def weights(googlenet_weights):
    return googlenet_weights


@pytest.fixture(scope='module')
def classifier(weights):
    return g.get_model(['prob'], path=weights)[0], g.synset_words(weights)


def _hopper():
    import matplotlib.cbook as cbook
    from PIL import Image
    with cbook.get_sample_data('grace_hopper.jpg') as f:
        return np.asarray(Image.open(f).convert('RGB'))


# Photographs that packages ship, with their ImageNet class (index in synset_words.txt).
PHOTOS = {
    'scikit-image chelsea (a tabby cat)': (skimage_data.chelsea, 281, 'tabby, tabby cat'),
    'scikit-image coffee (an espresso)': (skimage_data.coffee, 967, 'espresso'),
    'matplotlib grace_hopper (in uniform)': (_hopper, 652, 'military uniform'),
}


@pytest.mark.parametrize('photo', list(PHOTOS))
def test_real_photographs_have_their_class_in_the_top5(classifier, photo):
    net, words = classifier
    load, label, name = PHOTOS[photo]
    assert words[label] == name
    top = g.classify(net, load())
    assert label in [i for i, _ in top], [(words[i], round(p, 3)) for i, p in top]
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and 0.3 < sum(probs) <= 1.0 + 1e-5


def test_espresso_is_the_confident_top1(classifier):
    # A sharp check on the classifier's layout: a transposed or shuffled fc gives noise.
    net, words = classifier
    (i, p), = g.classify(net, skimage_data.coffee(), top=1)
    assert words[i] == 'espresso' and p > 0.8


def _conv_relu(x, w, b, pad):
    """numpy reference: cross-correlation (Caffe's convolution) + bias + ReLU. x: (C, H, W)."""
    c, h, wd = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((w.shape[0], h + 2 * pad - k + 1, wd + 2 * pad - k + 1))
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, dy:dy + out.shape[1], dx:dx + out.shape[2]]
            out += np.einsum('oc,chw->ohw', w[:, :, dy, dx], patch)
    return np.maximum(out + b[:, None, None], 0)


def _maxpool3_same(x):
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h, w = x.shape[1:]
    return np.max([xp[:, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)], axis=0)


def test_inception_3a_matches_a_numpy_reference(weights):
    """The whole module from its input blob, in float64 numpy from the raw shared files."""
    net, _ = g.get_model(['pool2/3x3_s2', 'inception_3a/output'], path=weights, hybridize=False)
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 255, size=(1, 3, 77, 61)).astype(np.float32) - 120
    inp, out = [a.asnumpy()[0].astype(np.float64) for a in net(mx.nd.array(x))]

    def load(name, shape_out, k, cin):
        root = os.path.join(weights, 'googlenet', 'layers')
        w = np.fromfile(os.path.join(root, f'{name}_filter.bin'), '<f4').reshape(shape_out, k, k, cin)
        b = np.fromfile(os.path.join(root, f'{name}_bias.bin'), '<f4')
        return w.transpose(0, 3, 1, 2).astype(np.float64), b.astype(np.float64)

    n1, r3, n3, r5, n5, pp = g.INCEPTIONS['inception_3a']
    m = 'inception_3a'
    b1 = _conv_relu(inp, *load(f'{m}/1x1', n1, 1, 192), 0)
    b3 = _conv_relu(_conv_relu(inp, *load(f'{m}/3x3_reduce', r3, 1, 192), 0), *load(f'{m}/3x3', n3, 3, r3), 1)
    b5 = _conv_relu(_conv_relu(inp, *load(f'{m}/5x5_reduce', r5, 1, 192), 0), *load(f'{m}/5x5', n5, 5, r5), 2)
    bp = _conv_relu(_maxpool3_same(inp), *load(f'{m}/pool_proj', pp, 1, 192), 0)
    ref = np.concatenate([b1, b3, b5, bp])
    assert out.shape == ref.shape == (256,) + g.blob_hw('inception_3a/output', 77, 61)
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


def test_lrn_and_ceil_pooling_match_caffe(weights):
    net, _ = g.get_model(['conv1/7x7_s2', 'pool1/3x3_s2', 'pool1/norm1'], path=weights,
                         hybridize=False)
    x = np.random.RandomState(1).uniform(-120, 130, size=(1, 3, 52, 40)).astype(np.float32)
    conv, pool, norm = [a.asnumpy()[0].astype(np.float64) for a in net(mx.nd.array(x))]
    # Caffe's MAX pool rounds the output size up: 26x20 -> 13x10 (floor would give 12x9).
    assert conv.shape[1:] == (26, 20) and pool.shape[1:] == (13, 10) == g.blob_hw('pool1/3x3_s2', 52, 40)
    cp = np.pad(conv, ((0, 0), (0, 2), (0, 2)), constant_values=-np.inf)
    ref_pool = np.max([cp[:, dy:dy + 26:2, dx:dx + 20:2] for dy in range(3) for dx in range(3)], axis=0)
    np.testing.assert_allclose(pool, ref_pool, rtol=1e-6)
    # Caffe LRN (across channels): x / (1 + alpha / n * sum of x^2 over n = 5 channels) ^ beta
    sq = np.pad(pool ** 2, ((2, 2), (0, 0), (0, 0)))
    window = sum(sq[i:i + pool.shape[0]] for i in range(5))
    np.testing.assert_allclose(norm, pool / (1 + 1e-4 / 5 * window) ** 0.75, rtol=1e-4)


def test_blob_names_aliases_and_shapes(weights):
    assert g.blob_name('inception_4c/output') == 'inception_4c/output'
    assert g.blob_name('mixed4c') == 'inception_4c/output'
    with pytest.raises(UserError, match="did you mean 'inception_4c/output'"):
        g.blob_name('inception_4c/outptu')
    with pytest.raises(UserError, match="did you mean 'inception_4d/3x3'"):
        g.blob_name('inception_4d/3x33')
    names = ['conv2/3x3', 'inception_3b/5x5', 'inception_4c/output', 'inception_4d/3x3',
             'pool4/3x3_s2', 'inception_5b/output']
    net, _ = g.get_model(names, path=weights)
    outs = net(mx.nd.zeros((1, 3, 203, 147)))
    for name, a in zip(names, outs):
        assert a.shape[1:] == (g.BLOB_CHANNELS[name],) + g.blob_hw(name, 203, 147), name
    assert len(set(g.BLOB_NAMES)) == len(g.BLOB_NAMES) and 'prob' == g.BLOB_NAMES[-1]


def test_every_weight_file_is_checked_against_sha256sums(weights, tmp_path):
    folder = tmp_path / 'googlenet'
    shutil.copytree(os.path.join(weights, 'googlenet'), folder)
    victim = folder / 'layers' / 'inception_4c' / '3x3_filter.bin'
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[100] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r'inception_4c/3x3_filter\.bin.*expected'):
        g.convert(str(folder / 'SHA256SUMS'))
    sums = folder / 'SHA256SUMS'
    sums.chmod(0o644)
    sums.write_text(sums.read_text().replace('f418a01f', '00000000'))
    with pytest.raises(UserError, match='SHA256SUMS.*expected eff46980'):
        g.get_model(['prob'], path=str(tmp_path))


def test_without_weights_the_error_names_weights_path(tmp_path, monkeypatch):
    monkeypatch.setenv('GLUON_NST_HOME', str(tmp_path / 'empty_cache'))
    with pytest.raises(UserError, match=r'set weights\.path .*folder holding googlenet/'):
        g.get_model(['prob'])
    with pytest.raises(UserError, match='weights file .*SHA256SUMS.* does not exist'):
        g.get_model(['prob'], path=str(tmp_path))
