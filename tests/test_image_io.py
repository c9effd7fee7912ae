"""Reading odd image files, and the book's pre/post-processing."""
import os

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from gluon_nst import image_io
from gluon_nst.errors import UserError

rng = np.random.RandomState(1)
RGB = rng.randint(0, 256, size=(40, 60, 3)).astype(np.uint8)


def write(tmp_path, name, im, **kw):
    p = str(tmp_path / name)
    im.save(p, **kw)
    return p


def test_preprocess_is_the_books_arithmetic():
    x = image_io.preprocess(RGB, (30, 20))
    img = mx.image.imresize(mx.nd.array(RGB, dtype='uint8'), 30, 20)
    mean, std = mx.nd.array([0.485, 0.456, 0.406]), mx.nd.array([0.229, 0.224, 0.225])
    ref = ((img.astype('float32') / 255 - mean) / std).transpose((2, 0, 1)).expand_dims(axis=0)
    assert x.shape == (1, 3, 20, 30)
    assert mx.nd.abs(x - ref).max().asscalar() < 1e-6      # float32 rounding only


@pytest.mark.parametrize('convention', ['book', 'caffe'])
def test_round_trip(convention):
    x = image_io.preprocess(RGB, (60, 40), convention)
    back = image_io.postprocess(x, convention).asnumpy()
    np.testing.assert_allclose(back * 255, RGB, atol=1e-3)
    assert image_io.to_uint8(back, 1.0).tolist() == RGB.tolist()


def test_caffe_convention_is_bgr_minus_means():
    x = image_io.preprocess(RGB, (60, 40), 'caffe').asnumpy()[0]
    ref = RGB[:, :, ::-1].astype(np.float64) - np.array([103.939, 116.779, 123.68])
    np.testing.assert_allclose(x.transpose(1, 2, 0), ref, atol=1e-3)


def test_postprocess_clips():
    x = mx.nd.ones((1, 3, 4, 4)) * 100
    assert image_io.postprocess(x).max().asscalar() == 1.0


def test_jpeg_reads_like_mxnet_imread(tmp_path):
    p = write(tmp_path, 'a.jpg', Image.fromarray(RGB), quality=90)
    assert (image_io.read_rgb(p) == mx.image.imread(p).asnumpy()).all()


def test_documented_conversions(tmp_path):
    gray = write(tmp_path, 'g.png', Image.fromarray(RGB[:, :, 0]))
    assert image_io.read_rgb(gray).shape == (40, 60, 3)
    rgba = np.dstack([RGB, np.zeros((40, 60), np.uint8)])        # fully transparent
    assert (image_io.read_rgb(write(tmp_path, 't.png', Image.fromarray(rgba))) == 255).all()
    pal = write(tmp_path, 'p.png', Image.fromarray(RGB).convert('P'))
    assert image_io.read_rgb(pal).shape == (40, 60, 3)
    sixteen = Image.fromarray(RGB[:, :, 0].astype(np.uint16) * 257)
    a = image_io.read_rgb(write(tmp_path, 's.png', sixteen))
    assert a.dtype == np.uint8 and (a[:, :, 0] == RGB[:, :, 0]).all()
    dark = Image.fromarray((RGB[:, :, 0] // 2).astype(np.uint16))      # 16-bit, all <= 127
    assert image_io.read_rgb(write(tmp_path, 'd.png', dark)).max() <= 1   # stays dark
    cmyk = write(tmp_path, 'c.jpg', Image.fromarray(RGB).convert('CMYK'))
    assert image_io.read_rgb(cmyk).shape == (40, 60, 3)


def test_exif_rotation_is_applied(tmp_path):
    im = Image.fromarray(RGB)
    exif = im.getexif()
    exif[0x0112] = 6                                             # rotate 90 CW on display
    p = write(tmp_path, 'r.jpg', im, exif=exif.tobytes(), quality=95)
    assert image_io.read_rgb(p).shape == (60, 40, 3)


@pytest.mark.parametrize('make, msg', [
    (lambda d: str(d / 'nope.jpg'), 'does not exist'),
    (lambda d: str(d), 'is a folder'),
    (lambda d: _text(d), 'is not an image'),
    (lambda d: _truncated(d), 'damaged or truncated'),
    (lambda d: write(d, 'tiny.png', Image.fromarray(RGB[:8, :8])), 'at least 16 pixels'),
])
def test_bad_files_give_one_line_errors(tmp_path, make, msg):
    with pytest.raises(UserError) as e:
        image_io.read_rgb(make(tmp_path), 'content image')
    assert msg in str(e.value) and '\n' not in str(e.value)


def _text(d):
    p = d / 'notes.jpg'
    p.write_text('not an image')
    return str(p)


def _truncated(d):
    p = write(d, 'full.jpg', Image.fromarray(np.tile(RGB, (4, 4, 1))), quality=95)
    data = open(p, 'rb').read()
    q = os.path.join(str(d), 'cut.jpg')
    open(q, 'wb').write(data[:len(data) // 3])
    return q


def test_fit_size_longest_side():
    from gluon_nst.imaging import fit_size
    assert fit_size((2048, 1365), 512) == (512, 341)
    assert fit_size((400, 800), 512) == (256, 512)
    assert fit_size((30, 20), None) == (30, 20)
    assert fit_size((4000, 10), 512) == (512, 1) and fit_size((4000, 10), 512, image_io.MIN_SIDE) == (512, 16)


def test_to_uint8_takes_the_scale_of_white():
    from gluon_nst.imaging import to_uint8
    a = np.array([[[-0.1, 0.5, 1.2]]])
    assert to_uint8(a, 1.0).tolist() == [[[0, 128, 255]]]
    assert to_uint8(a * 255, 255).tolist() == [[[0, 128, 255]]]
    assert to_uint8(np.array([[[127.4, 127.6, 300.0]]]), 255).tolist() == [[[127, 128, 255]]]
