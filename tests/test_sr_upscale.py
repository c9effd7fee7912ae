"""Whole-image upscaling: sizes, colour kept, greyscale files, the CLI and its errors."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import _need
from gluon_nst.models import srcnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPSCALE = os.path.join(ROOT, 'scripts', 'upscale.py')


@pytest.fixture(scope='module')
def sr_sets(shared):
    return _need(os.path.join(shared, 'datasets', 'sr'))


@pytest.fixture(scope='module')
def identity_model(tmp_path_factory):
    """A 9-1-5 SRCNN that passes Y through unchanged: upscale must then give exactly the
    bicubic enlargement, which isolates the colour path from what a network learnt."""
    import mxnet as mx
    net = srcnn.build(1, 'valid')
    net.initialize()
    net(mx.nd.zeros((1, 1, 33, 33)))
    c1, c2, c3 = list(net)
    for conv, centre in ((c1, 4), (c2, 0), (c3.conv, 2)):
        w = np.zeros(conv.weight.shape, dtype=np.float32)
        w[0, 0, centre, centre] = 1.0
        conv.weight.set_data(mx.nd.array(w))
    folder = tmp_path_factory.mktemp('model')
    srcnn.save(net, str(folder / 'best.params'), dict(scale=3, channels=1, kernels=[9, 1, 5]))
    return str(folder)


def run_upscale(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, UPSCALE, *args], capture_output=True, text=True, env=env)


def test_odd_sized_rgb_keeps_size_and_colour(identity_model, sr_sets):
    rgb = np.asarray(Image.open(os.path.join(sr_sets, 'Set5', 'butterfly_GT.bmp')))[50:87, 60:89]
    assert rgb.shape == (37, 29, 3)
    out = srcnn.upscale(rgb, 3, params=identity_model)
    assert out.shape == (111, 87, 3) and out.dtype == np.uint8
    bicubic = np.clip(np.round(srcnn.imresize(rgb.astype(float), shape=(111, 87))), 0, 255)
    # Y through the identity network, CbCr bicubic: the bicubic RGB enlargement (up to
    # rounding and the clipping of overshoots).
    diff = np.abs(out.astype(float) - bicubic)
    assert np.percentile(diff, 99) <= 1 and diff.max() <= 3
    # The registry's entry and the exact-size form (a coarse-to-fine hand-over) agree.
    from gluon_nst.models import get_model
    net, meta = get_model('srcnn', model=identity_model)
    assert meta['scale'] == 3 and meta['path'].endswith('best.params')
    assert (srcnn.upscale(rgb, 3, net=net, meta=meta) == out).all()
    assert srcnn.upscale_to(rgb, 100, 120, net=net, meta=meta).shape == (120, 100, 3)


@pytest.mark.orchestration
def test_greyscale_file_through_the_cli(identity_model, sr_sets, tmp_path):
    grey = np.asarray(Image.open(os.path.join(sr_sets, 'Set14', 'bridge.bmp')))[:41, :35]
    assert grey.ndim == 2
    src = tmp_path / 'bridge_crop.png'
    Image.fromarray(grey).save(src)
    r = run_upscale(str(src), '--scale', '3', '--model', identity_model)
    assert r.returncode == 0, r.stderr
    out_path = tmp_path / 'bridge_crop_x3.png'
    with Image.open(out_path) as im:
        assert im.mode == 'L' and im.size == (105, 123)
        out = np.asarray(im).astype(float)
    bicubic = np.clip(np.round(srcnn.imresize(grey.astype(float), shape=(123, 105))), 0, 255)
    assert np.abs(out - bicubic).max() <= 1


@pytest.mark.parametrize('scale, small_hw', [(2, (137, 133)), (3, (91, 89)), (4, (69, 67))])
def test_the_shipped_models_beat_bicubic_on_a_whole_odd_sized_image(
        sr_sets, tmp_path, scale, small_hw):
    """`upscale.py IMAGE --scale S` with no --model: the model in the package (trained by
    configs/sr/srcnn_xS.yaml; Set5 36.04, 32.27, 29.94 dB), hash-checked, on an odd-sized
    RGB crop of head, shrunk S times."""
    from gluon_nst.sr import data, metrics
    path, meta = srcnn.find_model(None, scale)            # checks the sha256 in its json
    assert meta['scale'] == scale and os.path.getsize(path) < 1 << 20
    h, w = small_hw
    truth = np.asarray(Image.open(os.path.join(sr_sets, 'Set5', 'head_GT.bmp')))[:h * scale, :w * scale]
    small = np.clip(np.round(srcnn.imresize(truth.astype(float), 1 / scale)), 0, 255).astype(np.uint8)
    assert small.shape == (h, w, 3)                      # odd sides
    src = tmp_path / 'head_small.png'
    Image.fromarray(small).save(src)
    r = run_upscale(str(src), '--scale', str(scale))
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(tmp_path / f'head_small_x{scale}.png'))
    assert out.shape == truth.shape
    bicubic = np.clip(np.round(srcnn.imresize(small.astype(float), shape=out.shape[:2])), 0, 255)
    y = [data.y_channel(a.astype(np.uint8)) for a in (out, bicubic, truth)]
    gain = metrics.psnr(y[0], y[2], scale) - metrics.psnr(y[1], y[2], scale)
    assert gain > 0.3, gain
    # Colour kept: the chroma of the result is the bicubic chroma.
    cbcr = [data.rgb2ycbcr(a)[..., 1:] for a in (out, bicubic)]
    assert np.abs(cbcr[0] - cbcr[1]).mean() < 1.0


@pytest.mark.orchestration
def test_cli_errors_are_one_line(tmp_path, monkeypatch, identity_model):
    r = run_upscale(str(tmp_path / 'missing.png'), '--scale', '3', '--model', identity_model)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'does not exist' in r.stderr
    img = tmp_path / 'a.png'
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(img)
    r = run_upscale(str(img), '--scale', '2', '--model', identity_model)
    assert r.returncode == 2 and 'trained for x3' in r.stderr
    r = run_upscale(str(img), '--model', str(tmp_path / 'nope'))
    assert r.returncode == 2 and 'configs/sr/srcnn_x3.yaml' in r.stderr
    # --scale without a shipped model names the configs that train one.
    monkeypatch.setattr(srcnn, 'PACKAGED_DIR', str(tmp_path))
    from gluon_nst.errors import UserError
    with pytest.raises(UserError, match='configs/sr/srcnn_x4.yaml'):
        srcnn.find_model(None, 4)
