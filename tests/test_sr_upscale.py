"""Upscaling: sizes, colour kept, greyscale files, tiles equal to the whole image, the
memory check, the CLI (output in the current folder) and its errors."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import _need
from gluon_nst import cli
from gluon_nst.models import srcnn
from gluon_nst.sr import resize, upscale
from gluon_nst.sr.resize import imresize

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


def run_upscale(*args, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, UPSCALE, *args], capture_output=True, text=True, env=env,
                          cwd=cwd)


def test_odd_sized_rgb_keeps_size_and_colour(identity_model, sr_sets):
    rgb = np.asarray(Image.open(os.path.join(sr_sets, 'Set5', 'butterfly_GT.bmp')))[50:87, 60:89]
    assert rgb.shape == (37, 29, 3)
    out = upscale.upscale(rgb, 3, params=identity_model)
    assert out.shape == (111, 87, 3) and out.dtype == np.uint8
    bicubic = np.clip(np.round(imresize(rgb.astype(float), shape=(111, 87))), 0, 255)
    # Y through the identity network, CbCr bicubic: the bicubic RGB enlargement (up to
    # rounding and the clipping of overshoots).
    diff = np.abs(out.astype(float) - bicubic)
    assert np.percentile(diff, 99) <= 1 and diff.max() <= 3
    # The registry's entry and the exact-size form (a coarse-to-fine hand-over) agree.
    from gluon_nst.models import get_model
    net, meta = get_model('srcnn', model=identity_model)
    assert meta['scale'] == 3 and meta['path'].endswith('best.params')
    assert (upscale.upscale(rgb, 3, net=net, meta=meta) == out).all()
    assert upscale.upscale_to(rgb, 100, 120, net=net, meta=meta).shape == (120, 100, 3)


@pytest.mark.orchestration
def test_greyscale_file_through_the_cli(identity_model, sr_sets, tmp_path):
    grey = np.asarray(Image.open(os.path.join(sr_sets, 'Set14', 'bridge.bmp')))[:41, :35]
    assert grey.ndim == 2
    (tmp_path / 'in').mkdir()
    (tmp_path / 'work').mkdir()
    src = tmp_path / 'in' / 'bridge_crop.png'
    Image.fromarray(grey).save(src)
    r = run_upscale(str(src), '--scale', '3', '--model', identity_model, cwd=tmp_path / 'work')
    assert r.returncode == 0, r.stderr
    # Written to the current folder, never beside the input (it may be shared).
    assert os.listdir(tmp_path / 'in') == ['bridge_crop.png']
    out_path = tmp_path / 'work' / 'bridge_crop_x3.png'
    with Image.open(out_path) as im:
        assert im.mode == 'L' and im.size == (105, 123)
        out = np.asarray(im).astype(float)
    bicubic = np.clip(np.round(imresize(grey.astype(float), shape=(123, 105))), 0, 255)
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
    small = np.clip(np.round(imresize(truth.astype(float), 1 / scale)), 0, 255).astype(np.uint8)
    assert small.shape == (h, w, 3)                      # odd sides
    src = tmp_path / 'head_small.png'
    Image.fromarray(small).save(src)
    r = run_upscale(str(src), '--scale', str(scale), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(tmp_path / f'head_small_x{scale}.png'))
    assert out.shape == truth.shape
    bicubic = np.clip(np.round(imresize(small.astype(float), shape=out.shape[:2])), 0, 255)
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


def test_tiles_cover_the_image_in_one_size():
    boxes = upscale.tile_boxes(250, 130, 100)
    assert {(y1 - y0, x1 - x0) for y0, y1, x0, x1 in boxes} == {(100, 100)}
    covered = np.zeros((250, 130), bool)
    for y0, y1, x0, x1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered.all() and len(boxes) == 3 * 2
    assert upscale.tile_boxes(250, 130, 0) == [(0, 250, 0, 130)]
    assert upscale.tile_boxes(50, 40, 100) == [(0, 50, 0, 40)]


def test_bicubic_taps_give_matlabs_dense_resize():
    """The per-pixel taps (what tiles use) against the dense (out, in) matrices."""
    rgb = np.random.RandomState(0).randint(0, 256, (23, 17, 3)).astype(np.float64)
    dense = np.einsum('ih,hwc,jw->ijc', resize.resize_matrix(23, 69, 3.0), rgb,
                      resize.resize_matrix(17, 51, 3.0))
    assert np.abs(imresize(rgb, 3) - dense).max() < 1e-9
    shrunk = np.einsum('ih,hwc,jw->ijc', resize.resize_matrix(23, 8, 1 / 3), rgb,
                       resize.resize_matrix(17, 6, 1 / 3))
    assert np.abs(imresize(rgb, 1 / 3) - shrunk).max() < 1e-9
    tiled = upscale.enlarge(rgb, (69, 51), rounded=False, tile=10)     # bicubic alone, in tiles
    assert np.abs(tiled - np.clip(dense, 0, 255)).max() < 1e-9


def assert_same_uint8(a, b):
    diff = np.abs(a.astype(int) - b.astype(int))
    assert a.shape == b.shape and diff.max() <= 1 and (diff > 0).mean() < 1e-4


def test_tiled_upscale_equals_the_whole_image(d2l):
    """The shipped x3 model on an odd-sized photo crop: tiles of 37 and 64 output pixels
    (cut everywhere, last ones overlapping) give exactly the one-pass result, colour
    and greyscale, and a tile larger than the image is the one pass."""
    rgb = np.asarray(Image.open(os.path.join(d2l, 'rainier.jpg')).convert('RGB'))[200:271, 300:359]
    net, meta = srcnn.get_model(None, 3)
    whole = upscale.upscale(rgb, 3, net=net, meta=meta, rounded=False, tile=0)
    assert whole.shape == (213, 177, 3)
    for tile in (37, 64):
        tiled = upscale.upscale(rgb, 3, net=net, meta=meta, rounded=False, tile=tile)
        assert np.abs(tiled - whole).max() < 1e-5, tile
        # Rounded: the same image (identical here; another CPU's kernels may move a value
        # that sits on a .5 boundary by one level).
        assert_same_uint8(upscale.upscale(rgb, 3, net=net, meta=meta, tile=tile),
                          np.round(whole).astype(np.uint8))
    grey = rgb[..., 1]
    assert_same_uint8(upscale.upscale(grey, 3, net=net, meta=meta, tile=50),
                      upscale.upscale(grey, 3, net=net, meta=meta, tile=0))
    # SRCNN did something: the result is not the bicubic enlargement.
    assert np.abs(whole - np.clip(imresize(rgb.astype(float), 3), 0, 255)).mean() > 0.2


def test_memory_check_refuses_an_output_that_cannot_fit(monkeypatch, tmp_path, capsys, identity_model):
    from gluon_nst import runtime
    from gluon_nst.errors import UserError
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 8 * 2 ** 30)
    upscale.check_memory((10000, 10000), (20000, 20000))          # 1.1 GiB output: fits
    with pytest.raises(UserError, match=r'^upscaling 10000x10000 to 40000x40000 \(the output image alone '
                       r'8\.9 GiB\) needs about 9\.\d GiB but 8\.0 GiB is free: use a smaller --scale'):
        upscale.check_memory((10000, 10000), (40000, 40000), extra_output_copies=1)
    # Through the command: one line, exit 2, nothing written.
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 100 * 2 ** 20)
    img = tmp_path / 'a.png'
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(img)
    monkeypatch.chdir(tmp_path)
    assert cli.main(['upscale', str(img), '--model', identity_model]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1
    assert 'upscaling 20x20 to 60x60 (the output image alone 0.0 GiB) needs about' in err
    assert os.listdir(tmp_path) == ['a.png']


def test_unwritable_output_names_the_users_path(identity_model, tmp_path, capsys, monkeypatch):
    img = tmp_path / 'a.png'
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(img)
    monkeypatch.chdir(tmp_path)
    assert cli.main(['upscale', str(img), '--model', identity_model, '-o', '/proc/x.png']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: output /proc/x.png cannot be written (') and '.tmp' not in err
    assert err.count('\n') == 1
    missing = str(tmp_path / 'no' / 'x.png')
    assert cli.main(['upscale', str(img), '--model', identity_model, '-o', missing]) == 2
    assert 'does not exist: create it' in capsys.readouterr().err


def test_scale_help_says_where_the_default_comes_from(capsys):
    with pytest.raises(SystemExit):
        cli.main(['upscale', '--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert "with --model, default the scale it was trained for; without --model, required" in text
    assert 'in the current folder' in text
