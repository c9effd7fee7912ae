"""models.features: one interface to VGG-19 and GoogLeNet (names, strides, map sizes,
FLOPs, the input conversion), checked against the networks' real outputs."""
import os

import mxnet as mx
import numpy as np
import pytest

from gluon_nst.errors import UserError
from gluon_nst.image_io import CONVENTIONS, convention_affine
from gluon_nst.models import features


def test_the_layer_arithmetic_of_both_networks():
    vgg, goog = features.network('vgg19'), features.network('googlenet')
    assert vgg.resolve([22, 'block4_conv2', 'pool5']) == ['relu4_2', 'relu4_2', 'pool5']
    assert [vgg.stride(n) for n in ('relu1_1', 'pool1', 'relu4_2', 'pool5')] == [1, 2, 8, 32]
    assert vgg.channels('conv3_1') == 256 and vgg.feature_size('relu4_2', (300, 200)) == (37, 25)
    assert vgg.min_side(['relu1_1', 'relu4_2']) == 16 and vgg.deepest(['relu4_2', 'relu1_1']) == 'relu4_2'
    # conv1_1 alone: 3 -> 64 channels, 3x3 kernels, every pixel.
    assert vgg.forward_flops(['conv1_1'], (30, 20)) == 2 * 9 * 3 * 64 * 30 * 20
    assert goog.resolve(['mixed4c']) == ['inception_4c/output']
    assert goog.stride('inception_4c/output') == 16 and goog.channels('inception_4c/output') == 512
    assert goog.feature_size('conv1/7x7_s2', (224, 160)) == (112, 80)
    assert goog.min_side(['inception_4c/output', 'conv2/3x3']) == 32
    assert goog.bytes_per_pixel < vgg.bytes_per_pixel


@pytest.mark.parametrize('call, msg', [
    (lambda: features.network('resnet'), "unknown feature network 'resnet'"),
    (lambda: features.network('googlenet').resolve(['prob']), 'no spatial map'),
    (lambda: features.network('vgg19').resolve(['relu4_7']), "unknown VGG-19 layer 'relu4_7'"),
    (lambda: features.network('googlenet').input_affine('book'), 'its own Caffe input convention'),
])
def test_bad_networks_and_layers_are_one_line_errors(call, msg):
    with pytest.raises(UserError, match=msg) as e:
        call()
    assert '\n' not in str(e.value)


def _unloaded(name, convention=None):
    """A FeatureNet without weights: enough for the input conversion."""
    spec = features.network(name)
    return features.FeatureNet(spec, [], None, {}, spec.input_affine(convention), mx.cpu())


@pytest.mark.parametrize('name, convention', [('vgg19', 'caffe'), ('vgg19', 'book'),
                                              ('vgg19', 'rgb01'), ('googlenet', None)])
def test_to_pixels_is_the_chain_rule_of_to_input(name, convention):
    """to_input is affine; to_pixels must be its transpose: <to_pixels(g), d> equals
    <g, to_input(rgb + d) - to_input(rgb)> for any gradient g and change d."""
    net = _unloaded(name, convention)
    rng = np.random.RandomState(0)
    rgb = rng.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    d = rng.uniform(-1, 1, (6, 5, 3)).astype(np.float32)
    g = rng.normal(size=(1, 3, 6, 5)).astype(np.float32)
    change = net.to_input(rgb + d).astype(np.float64) - net.to_input(rgb)
    assert np.sum(net.to_pixels(g) * d) == pytest.approx(np.sum(g * change), rel=1e-4)
    assert net.to_pixels(g).shape == (6, 5, 3)


def test_the_caffe_input_is_bgr_minus_the_means():
    rgb = np.random.RandomState(1).randint(0, 256, (4, 7, 3)).astype(np.uint8)
    x = _unloaded('vgg19', 'caffe').to_input(rgb)
    expected = rgb.astype(np.float32)[..., ::-1] - np.array(CONVENTIONS['caffe']['mean'], np.float32)
    np.testing.assert_array_equal(x, expected.transpose(2, 0, 1)[None])
    perm, a, b = convention_affine('book')
    book = _unloaded('vgg19', 'book').to_input(rgb)[0].transpose(1, 2, 0)
    np.testing.assert_allclose(book, rgb[..., perm] / 255.0 * a + b, rtol=1e-5, atol=1e-5)
    goog = _unloaded('googlenet').to_input(rgb)
    np.testing.assert_array_equal(goog[0, 0], rgb[..., 2].astype(np.float32) - 104.0)


def _taps_of_the_sizes_given(net, size):
    """The taps of a random image of `size`, their shapes checked against the interface."""
    rgb = np.random.RandomState(2).uniform(0, 255, size[::-1] + (3,)).astype(np.float32)
    out = net(net.to_input(rgb))
    assert [o.shape for o in out] == [(1, net.channels(n)) + net.feature_size(n, size)[::-1]
                                      for n in net.layers]
    return rgb, out


def test_vgg_taps_have_the_sizes_the_interface_gives(vgg_h5):
    layers = ['relu1_1', 'relu3_1', 'relu4_2', 'relu3_1']            # a repeat is allowed
    net = features.load('vgg19', layers, path=os.path.dirname(vgg_h5))
    assert net.layers == layers and net.record['outputs'] == layers
    rgb, out = _taps_of_the_sizes_given(net, (70, 50))
    np.testing.assert_array_equal(out[1].asnumpy(), out[3].asnumpy())
    fresh = net.extractor()(mx.nd.array(net.to_input(rgb)))        # the same weights, not hybridized
    np.testing.assert_allclose(fresh[2].asnumpy(), out[2].asnumpy(), rtol=1e-4, atol=1e-3)


def test_googlenet_taps_have_the_sizes_the_interface_gives(googlenet_weights):
    layers = ['conv2/3x3', 'inception_4c/output']
    net = features.load('googlenet', layers, path=googlenet_weights)
    _taps_of_the_sizes_given(net, (101, 75))
    assert net.forward_flops((101, 75)) > features.network('googlenet').forward_flops(['conv2/3x3'],
                                                                                      (101, 75))
    with pytest.raises(UserError, match='VGG-19 only'):
        features.load('googlenet', layers, path=googlenet_weights, pooling='avg')
