"""gluon_nst.imaging: tiles, the tiled gradient, the memory check (no weights needed)."""
import mxnet as mx
import numpy as np
import pytest

from gluon_nst import imaging, runtime
from gluon_nst.errors import UserError


@pytest.mark.parametrize('size, tile, margin', [((500, 300), 128, 32), ((97, 61), 40, 0),
                                                ((64, 64), 64, 16)])
def test_the_tiled_gradient_keeps_each_crops_gradient_inside_its_tile(size, tile, margin):
    """Each crop's 'gradient' here is the image's own values tagged with the crop's number:
    the assembled gradient must hold every pixel once, from the crop whose tile holds it."""
    w, h = size
    image = np.arange(w * h, dtype=np.float64).reshape(1, 1, h, w)
    crops = imaging.tiles(size, tile, margin)
    seen = []

    def crop_gradient(k, box, core):
        cy0, cy1, cx0, cx1 = box
        crop = image[:, :, cy0:cy1, cx0:cx1]
        assert core[1] - core[0] <= tile and core[3] - core[2] <= tile
        seen.append(k)
        return float(k), crop + 1e7 * k
    grad = np.full_like(image, np.nan)
    values = imaging.gradient_in_tiles(crop_gradient, grad, crops)
    assert values == [float(k) for k in range(len(crops))] and seen == list(range(len(crops)))
    owner = np.zeros((h, w))
    for k, ((y0, y1, x0, x1), _) in enumerate(crops):
        owner[y0:y1, x0:x1] = k
    np.testing.assert_array_equal(grad[0, 0], image[0, 0] + 1e7 * owner)


def test_the_tiled_gradient_writes_into_an_ndarray():
    crops = imaging.same_size_tiles((10, 6), 4, 1)
    grad = mx.nd.zeros((1, 3, 6, 10))
    imaging.gradient_in_tiles(
        lambda k, box, core: (0, mx.nd.ones((1, 3, box[1] - box[0], box[3] - box[2])) * (k + 1)),
        grad, crops)
    counts = np.bincount(grad.asnumpy()[0, 0].astype(int).ravel())
    assert counts[0] == 0 and counts.sum() == 60 and len(crops) == 6


def test_needs_tiles_and_crop_pixels():
    assert not imaging.needs_tiles((1024, 768), 0) and not imaging.needs_tiles((1024, 768), 1024)
    assert imaging.needs_tiles((1025, 768), 1024) and imaging.needs_tiles((600, 1025), 1024)
    crops = imaging.tiles((300, 300), 100, 10)
    assert imaging.crop_pixels(crops) > 300 * 300
    assert imaging.largest_crop_pixels(crops) == 120 * 120          # the middle tile, margins all round


def test_the_memory_check_names_the_need_and_the_fix(monkeypatch):
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 2 << 30)
    imaging.check_memory('a small pass', 1 << 30, 'never shown')
    with pytest.raises(UserError, match=r'^a pass needs about 3\.0 GiB but 2\.0 GiB is free: '
                                        r'set tile_size \(e\.g\. tile_size: 384\)$'):
        imaging.check_memory('a pass', 3 << 30,
                             lambda avail: f'set tile_size (e.g. tile_size: '
                                           f'{imaging.tile_for_memory(avail, 5000, 0.6, 128, 128)})')

    class Gpu:
        device_type = 'gpu'
    imaging.check_memory('a pass on a GPU', 3 << 30, 'not checked here', ctx=Gpu())
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: None)     # unknown: no check
    imaging.check_memory('a pass', 3 << 30, 'unknown')


def test_tile_for_memory_stays_within_its_bounds():
    assert imaging.tile_for_memory(2 << 30, 5000, 0.6, 128, 128) == 384
    assert imaging.tile_for_memory(1 << 20, 5000, 0.6, 128, 128) == 128
    assert imaging.tile_for_memory(1 << 40, 5000, 0.6, 128, 128) == 1024
    assert imaging.tile_for_memory(2 << 30, 1400, 0.8, 64, 256) == 1024
