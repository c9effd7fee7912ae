"""The model store and VGG-19: conversion, input-convention folding, hash checks, lookup order."""
import hashlib
import os

import mxnet as mx
import numpy as np
import pytest

from gluon_nst.models import store
from gluon_nst.models import vgg19 as network
from gluon_nst.style import calibration
from gluon_nst.errors import UserError


def test_layer_names_and_indices():
    assert network.layer_index('conv1_1') == 0
    assert network.layer_index('relu1_1') == 1
    assert network.layer_index('conv4_4') == 25
    assert network.layer_index('conv5_1') == 28
    assert network.layer_index('conv4_2') == 21
    # Keras conv layers include their ReLU.
    assert network.layer_index('block4_conv2') == network.layer_index('relu4_2') == 22
    assert network.CONV_INDICES == [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    assert network.feature_shape(28, 200, 300) == (512, 12, 18)


def test_features_are_the_model_zoo_vgg19_cut_after_the_deepest_layer():
    from mxnet.gluon.model_zoo import vision
    zoo = vision.vgg19().features
    ours = network.build_features(26)
    assert len(ours) == 26
    for i, (a, b) in enumerate(zip(zoo, ours)):
        assert type(a) is type(b), i
        if isinstance(a, mx.gluon.nn.Conv2D):
            assert a._kwargs == b._kwargs, i
    ours.initialize()
    # Shapes are known before the first forward, so weights can be set right away.
    assert ours[0].weight.shape == (64, 3, 3, 3)
    assert ours[25].weight.shape == (512, 512, 3, 3)
    assert ours(mx.nd.random.uniform(shape=(1, 3, 32, 32))).shape == (1, 512, 4, 4)


@pytest.fixture(scope='module')
def caffe_arrays(vgg_h5):
    arrays, record = network.conv_arrays('caffe-vgg19', vgg_h5)
    return arrays


def _np_correlate(x, w, b):
    """Direct 3x3 cross-correlation with zero padding, (c, h, w) -> (o, h, w)."""
    c, h, wd = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum('oc,chw->ohw', w[:, :, i, j], p[:, i:i + h, j:j + wd])
    return out + b[:, None, None]


def test_conversion_conv1_1_equals_numpy_convolution(vgg_h5, caffe_arrays):
    w, b = caffe_arrays[0]
    assert w.shape == (64, 3, 3, 3) and b.shape == (64,)
    assert [a[0].shape[0] for a in caffe_arrays] == [64, 64, 128, 128] + [256] * 4 + [512] * 8
    net, _ = network.get_model(source='caffe-vgg19', path=vgg_h5, depth=1, convention='caffe')
    x = np.random.RandomState(0).uniform(-120, 130, size=(3, 12, 10)).astype(np.float32)
    got = net(mx.nd.array(x[None]))[0].asnumpy()
    np.testing.assert_allclose(got, _np_correlate(x.astype(np.float64), w, b), rtol=1e-4, atol=1e-2)


def test_h5_layout_is_read_as_documented(vgg_h5, caffe_arrays):
    import h5py
    with h5py.File(vgg_h5, 'r') as f:
        raw = np.asarray(f['block3_conv2']['block3_conv2_W_1:0'])
    np.testing.assert_array_equal(caffe_arrays[5][0], raw.transpose(3, 2, 0, 1))


def test_folded_book_convention_equals_caffe_features(vgg_h5):
    from gluon_nst import image_io
    rgb = np.random.RandomState(2).randint(0, 256, size=(48, 64, 3)).astype(np.uint8)
    book_net, _ = network.get_model(source='caffe-vgg19', path=vgg_h5, depth=4, convention='book')
    caffe_net, _ = network.get_model(source='caffe-vgg19', path=vgg_h5, depth=4, convention='caffe')
    a = book_net(image_io.preprocess(rgb, (64, 48), 'book')).asnumpy()
    b = caffe_net(image_io.preprocess(rgb, (64, 48), 'caffe')).asnumpy()
    # Two convs deep: the zero padding differs on a 2-pixel border only.
    inner_a, inner_b = a[..., 2:-2, 2:-2], b[..., 2:-2, 2:-2]
    assert np.abs(inner_a - inner_b).max() < 1e-4 * np.abs(b).max()
    assert np.abs(a - b).max() > 0        # and the border really differs


def test_network_is_frozen(vgg_h5):
    net, _ = network.get_model(source='caffe-vgg19', path=vgg_h5, depth=3)
    assert all(p.grad_req == 'null' for p in net.collect_params().values())


def test_wrong_file_is_refused_with_expected_hash(tmp_path):
    bad = tmp_path / network.SOURCES['caffe-vgg19']['filename']
    bad.write_bytes(b'not weights')
    with pytest.raises(UserError) as e:
        store.weights_file(network.SOURCES['caffe-vgg19'], str(bad))
    assert network.SOURCES['caffe-vgg19']['hash'] in str(e.value)
    assert '253f8cb515780f3b799900260a226db6' in str(e.value)       # the published md5 too
    with pytest.raises(UserError, match='does not exist'):
        store.weights_file(network.SOURCES['caffe-vgg19'], str(tmp_path / 'empty-folder-x'))


def test_lookup_order_config_then_env_then_cache(tmp_path, monkeypatch, vgg_h5):
    monkeypatch.setenv('GLUON_NST_WEIGHTS', os.path.dirname(vgg_h5))
    path, origin = store.weights_file(network.SOURCES['caffe-vgg19'])
    assert origin == 'env' and os.path.samefile(path, vgg_h5)
    shared_weights = os.path.dirname(os.path.dirname(vgg_h5))
    path, origin = store.weights_file(network.SOURCES['caffe-vgg19'], shared_weights)
    assert origin == 'config'                    # a folder holding vgg19/<file> works too
    monkeypatch.setenv('GLUON_NST_WEIGHTS', str(tmp_path / 'missing'))
    with pytest.raises(UserError, match='GLUON_NST_WEIGHTS'):
        store.weights_file(network.SOURCES['caffe-vgg19'])


def test_download_goes_to_cache_and_is_verified(tmp_path, monkeypatch):
    payload = b'pretend weights' * 1000
    src = tmp_path / 'remote.bin'
    src.write_bytes(payload)
    fake = dict(filename='fake.bin', url=src.as_uri(), hash_name='sha256',
                hash=hashlib.sha256(payload).hexdigest(), convention='caffe', description='')
    path, origin = store.weights_file(fake)
    assert origin == 'download' and open(path, 'rb').read() == payload
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask     # shareable, unlike mkstemp's 0600
    assert store.weights_file(fake)[1] == 'cache'
    with pytest.raises(UserError, match='0' * 64):
        store.weights_file(dict(fake, filename='f2.bin', hash='0' * 64))


def test_offline_download_error_says_what_to_do():
    nowhere = dict(network.SOURCES['caffe-vgg19'], filename='nowhere.h5', url='http://127.0.0.1:9/x.h5')
    with pytest.raises(UserError, match='set weights.path or GLUON_NST_WEIGHTS'):
        store.weights_file(nowhere)


def test_converted_weights_are_cached_as_gluon_params(vgg_h5, caffe_arrays):
    from mxnet.gluon.model_zoo import vision
    network.conv_arrays('caffe-vgg19', vgg_h5)
    digest = network.SOURCES['caffe-vgg19']['hash'][:8]
    cached = os.path.join(store.cache_dir(), f'vgg19-caffe-{digest}.params')
    assert os.path.isfile(cached) and os.path.isfile(cached + '.sha256')
    # A plain Gluon parameter file: the model zoo's features load it by name.
    features = vision.vgg19().features
    features.load_parameters(cached, allow_missing=True)
    np.testing.assert_array_equal(features[25].weight.data().asnumpy(), caffe_arrays[11][0])
    again, _ = network.conv_arrays('caffe-vgg19', vgg_h5)       # read back from the cache
    np.testing.assert_array_equal(again[0][0], caffe_arrays[0][0])


def test_mxnet_zoo_params_file_is_read(tmp_path, monkeypatch):
    """The book's weights path: a model-zoo vgg19 .params file (here a random one)."""
    from mxnet.gluon.model_zoo import vision
    zoo = vision.vgg19()
    zoo.initialize(mx.init.Xavier())
    zoo(mx.nd.zeros((1, 3, 224, 224)))
    p = tmp_path / 'vgg19-ad2f660d.params'
    zoo.save_parameters(str(p))
    digest = hashlib.sha1(p.read_bytes()).hexdigest()
    monkeypatch.setitem(network.SOURCES, 'mxnet-zoo', dict(network.SOURCES['mxnet-zoo'], hash=digest))
    net, rec = network.get_model(source='mxnet-zoo', path=str(tmp_path), depth=3, convention='book')
    assert rec['found_in'] == 'config' and rec['native_convention'] == 'book'
    np.testing.assert_array_equal(net[2].weight.data().asnumpy(), zoo.features[2].weight.data().asnumpy())
    x = mx.nd.random.uniform(shape=(1, 3, 20, 20))
    np.testing.assert_allclose(net(x).asnumpy(), zoo.features[:3](x).asnumpy(), rtol=1e-5, atol=1e-5)


def test_calibrated_scales_follow_the_pixel_count():
    lo, hi = calibration.CALIBRATION_PIXELS
    anchors = (80.0, 120.0)
    assert calibration.calibrated_scale(anchors, lo) == pytest.approx(80.0)
    assert calibration.calibrated_scale(anchors, hi) == pytest.approx(120.0)
    # Log-linear in the pixel count between the two sizes: the geometric mean halfway.
    assert calibration.calibrated_scale(anchors, np.sqrt(lo * hi)) == pytest.approx(np.sqrt(80 * 120))
    # Constant outside them.
    assert calibration.calibrated_scale(anchors, lo / 4) == pytest.approx(80.0)
    assert calibration.calibrated_scale(anchors, hi * 4) == pytest.approx(120.0)
    table = calibration.feature_scales('caffe-vgg19', [25, 0, 2], 'calibrated', hi)
    assert table[:2] == [pytest.approx(calibration.CAFFE_FEATURE_SCALE[k][1]) for k in (25, 0)]
    assert table[2] == calibration.DEFAULT_CAFFE_SCALE
    assert calibration.feature_scales('caffe-vgg19', [25, 0], 2.0, hi) == [2.0, 2.0]
    assert calibration.feature_scales('mxnet-zoo', [25, 0], 'calibrated', hi) == [1.0, 1.0]


def test_unwritable_cache_and_unreadable_weights_are_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv('GLUON_NST_HOME', '/dev/null/cache')
    with pytest.raises(UserError, match='set GLUON_NST_HOME to a writable folder'):
        store.cache_dir()
    f = tmp_path / network.SOURCES['caffe-vgg19']['filename']
    f.write_bytes(b'x')

    def denied(*a, **k):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(store, 'open', denied, raising=False)
    with pytest.raises(UserError, match='cannot be read .Permission denied.'):
        store.weights_file(network.SOURCES['caffe-vgg19'], str(f))
