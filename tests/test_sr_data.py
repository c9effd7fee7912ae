"""SRCNN data and metrics against hand-computed values and the paper's bicubic column."""
import os

import numpy as np
import pytest
from PIL import Image

from conftest import _need
from gluon_nst.errors import UserError
from gluon_nst.sr import data, metrics


@pytest.fixture(scope='module')
def sr_sets(shared):
    return _need(os.path.join(shared, 'datasets', 'sr'))


def test_y_channel_matches_matlab_rgb2ycbcr_by_hand():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 20, 30]]], dtype=np.uint8)
    # Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded as MATLAB's uint8 output:
    # black 16, white 235, red 16 + 65.481 = 81.48, (10, 20, 30) 16 + 3974.85 / 255 = 31.59.
    assert data.y_channel(rgb).tolist() == [[16, 235, 81, 32]]
    assert data.rgb2ycbcr(rgb)[0, 3, 0] == pytest.approx(31.5876, abs=1e-4)
    assert data.rgb2ycbcr(rgb)[0, 1].tolist() == pytest.approx([235, 128, 128], abs=1e-9)
    # Greyscale (2-D, as bridge.bmp) is read as R = G = B.
    assert data.y_channel(np.array([[0, 255]], dtype=np.uint8)).tolist() == [[16, 235]]
    back = data.ycbcr2rgb(data.rgb2ycbcr(rgb))
    assert back == pytest.approx(rgb.astype(float), abs=1e-9)


def test_psnr_by_hand_and_the_border_is_shaved():
    a = np.full((10, 12), 100.0)
    b = a + 1                                           # MSE 1: 10 log10(255^2) = 48.1308 dB
    assert metrics.psnr(a, b) == pytest.approx(48.1308, abs=1e-4)
    b = a.copy()
    b[:, :2] += 20                                      # errors only in a 2-pixel border...
    b[4, 5] += 3                                        # ...and one inside: MSE 9 / (6 * 8)
    assert metrics.psnr(a, b, border=2) == pytest.approx(10 * np.log10(255 ** 2 * 48 / 9), abs=1e-9)
    assert metrics.psnr(a, b, border=1) < metrics.psnr(a, b, border=2)
    assert metrics.psnr(a, a) == float('inf')
    # psnr_y rounds 0..1 images to 8 bits first (MATLAB's uint8(x * 255)).
    assert metrics.psnr_y(a / 255 + 0.4 / 255, a / 255, 0) == float('inf')


def test_modcrop_keeps_the_top_left_multiple_of_the_scale():
    img = np.arange(10 * 11).reshape(10, 11)
    out = data.modcrop(img, 3)
    assert out.shape == (9, 9) and (out == img[:9, :9]).all()
    assert data.modcrop(img, 2).shape == (10, 10)


def test_bicubic_resize_is_matlabs_kernel():
    m = data.resize_matrix(30, 10, 1 / 3)                # shrink: kernel widened to 12 taps
    assert m.sum(axis=1) == pytest.approx(np.ones(10))
    assert (np.count_nonzero(m, axis=1) <= 12).all() and np.count_nonzero(m[5]) > 4
    ramp = np.arange(30.0)
    # A symmetric kernel reproduces a ramp at the output centres 3i + 1 (0-based), away
    # from the mirrored border.
    assert (m @ ramp)[2:8] == pytest.approx([7.0, 10.0, 13.0, 16.0, 19.0, 22.0], abs=1e-12)
    up = data.resize_matrix(4, 12, 3.0)
    assert up.sum(axis=1) == pytest.approx(np.ones(12))
    assert (np.count_nonzero(up, axis=1) <= 4).all()     # 4 taps when enlarging
    # At x3 output 5 (1-based) sits on input 2: u = 5/3 + (1 - 1/3)/2 = 2; output 4 is 1/3
    # from input 2: the cubic kernel (a = -0.5) there is 1.5/27 - 2.5/9 + 1 = 0.7778.
    assert up[4, 1] == pytest.approx(1.0) and up[3].max() == pytest.approx(1.5 / 27 - 2.5 / 9 + 1)
    # Degradation keeps the size, a constant image, and loses detail.
    flat = np.full((12, 9, 1), 0.4)
    assert data.degrade(flat, 3) == pytest.approx(flat)
    rng = np.random.default_rng(0)
    noise = rng.random((30, 24, 1))
    blurred = data.degrade(noise, 3)
    assert blurred.shape == noise.shape and blurred.std() < 0.5 * noise.std()


def test_bicubic_psnr_matches_the_papers_column(sr_sets):
    """Paper (MATLAB imresize): Set5 x2 33.66, x3 30.39, x4 28.42; Set14 x3 27.54."""
    def mean_psnr(folder, scale, how):
        out = []
        for f in data.list_images(os.path.join(sr_sets, folder)):
            t = data.TestImage(f, scale, 1, how)
            out.append(metrics.psnr_y(t.bicubic, t.label, scale))
        return np.mean(out)
    for scale, paper in ((2, 33.66), (3, 30.39), (4, 28.42)):
        assert mean_psnr('Set5', scale, 'matlab') == pytest.approx(paper, abs=0.02)
    set14 = mean_psnr('Set14', 3, 'matlab')               # measured 27.635
    assert set14 == pytest.approx(27.54, abs=0.1)
    # Pillow's bicubic (8-bit per pass) is a little worse than MATLAB's.
    assert mean_psnr('Set5', 3, 'pil') < mean_psnr('Set5', 3, 'matlab')


def test_patch_count_and_alignment():
    h, w = 47, 60
    label = np.arange(h * w, dtype=np.float64).reshape(h, w, 1)
    inp = label + 0.5
    xs, ys = data.extract_patches(inp, label, 33, 21, 14)
    # rows 0, 14 (0..47-33) and columns 0, 14 (0..60-33): 4 sub-images, row-major
    assert xs.shape == (4, 1, 33, 33) and ys.shape == (4, 1, 21, 21)
    assert data.patch_grid(h, w, 33, 14) == [(0, 0), (0, 14), (14, 0), (14, 14)]
    for x, y in zip(xs, ys):
        # the label is the centre of its input sub-image (6 pixels in on every side)
        assert (x[0, 6:27, 6:27] - 0.5 == y[0]).all()
    assert xs[3, 0, 0, 0] == inp[14, 14, 0]


def test_t91_gives_the_usual_21884_subimages_at_x3(sr_sets):
    total = 0
    for f in data.list_images(os.path.join(sr_sets, 'T91')):
        with Image.open(f) as im:
            w, h = im.size
        total += len(data.patch_grid(h - h % 3, w - w % 3, 33, 14))
    assert total == 21884


def test_patches_are_cached_and_small_images_skipped(tmp_path, sr_sets):
    src = np.asarray(Image.open(os.path.join(sr_sets, 'Set5', 'bird_GT.bmp')))
    Image.fromarray(src[:60, :50]).save(tmp_path / 'a.png')
    Image.fromarray(src[:20, :30]).save(tmp_path / 'small.png')       # smaller than 33
    files = data.list_images(str(tmp_path))
    x1, y1, skipped, path, hit = data.cached_patches(files, 3, 33, 21, 14, 1, 'matlab')
    assert skipped == ['small.png'] and not hit and os.path.isfile(path)
    assert x1.shape == (4, 1, 33, 33) and y1.shape == (4, 1, 21, 21)   # 60x48 after modcrop
    x2, y2, _, path2, hit2 = data.cached_patches(files, 3, 33, 21, 14, 1, 'matlab')
    assert hit2 and path2 == path and (x2 == x1).all() and (y2 == y1).all()
    _, _, _, path3, hit3 = data.cached_patches(files, 2, 33, 21, 14, 1, 'matlab')
    assert not hit3 and path3 != path                   # another scale: another key


def test_missing_dataset_folder_names_the_shared_folder_and_the_variable(tmp_path):
    with pytest.raises(UserError) as e:
        data.list_images(str(tmp_path / 'nope'), 'training set')
    assert '../shared/datasets/sr' in str(e.value) and 'GLUON_NST_SR_DATA' in str(e.value)


def test_bridge_greyscale_is_read(sr_sets):
    t = data.TestImage(os.path.join(sr_sets, 'Set14', 'bridge.bmp'), 3, 1)
    assert t.label.shape == (510, 510, 1) and t.rgb.shape == (510, 510, 3)
