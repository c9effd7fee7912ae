"""hand_over: srcnn enlarges the image between coarse-to-fine stages with our SRCNN."""
import os

import numpy as np
import pytest

from gluon_nst import config, image_io
from gluon_nst.errors import UserError
from gluon_nst.models import srcnn
from gluon_nst.sr.resize import imresize
from gluon_nst.sr.upscale import upscale_to
from gluon_nst.sr.metrics import psnr


def _cfg(shared, d2l, **extra):
    return config.load(data=dict(
        content_image=os.path.join(d2l, 'rainier.jpg'), style_image=os.path.join(d2l, 'autumn_oak.jpg'),
        weights=dict(path=os.path.join(shared, 'weights')),
        stages=[dict(image_shape=[100, 66], steps=2), dict(image_shape=[300, 198], steps=2)],
        output=dict(sync_every=1), **extra))


def _handed_over(session, small):
    x = image_io.preprocess(small, (small.shape[1], small.shape[0]), session.convention)
    y = session.hand_over(x, session.stages[1])
    assert y.shape == (1, 3, 198, 300)
    return image_io.postprocess(y, session.convention).asnumpy() * 255


def test_srcnn_hand_over_is_nearer_the_photo_than_bilinear(shared, d2l):
    from gluon_nst.style.engine import Session
    bilinear, sr = Session(_cfg(shared, d2l)), Session(_cfg(shared, d2l, hand_over='srcnn'))
    assert list(sr.srcnn) == [3]                      # 100 -> 300 wide: the shipped x3 model
    photo = imresize(sr.content.astype(np.float64), shape=(198, 300))
    small = np.clip(imresize(photo, shape=(66, 100)), 0, 255).astype(np.float32)
    got_bilinear, got_sr = _handed_over(bilinear, small), _handed_over(sr, small)
    # The same enlargement as upscale_to, kept in floats (no rounding to 8 bits).
    want = upscale_to(small, 300, 198, net=sr.srcnn[3][0], meta=sr.srcnn[3][1], rounded=False)
    assert np.abs(got_sr - want).max() < 0.05
    p_bilinear, p_sr = psnr(got_bilinear, photo, border=3), psnr(got_sr, photo, border=3)
    assert p_sr > p_bilinear + 0.5, (p_sr, p_bilinear)


def test_srcnn_hand_over_runs_the_stages(shared, d2l):
    from gluon_nst.style.engine import Session, iterate
    cfg = _cfg(shared, d2l, hand_over='srcnn')
    its = list(iterate(cfg, Session(cfg)))
    assert [it.stage for it in its] == [1, 1, 2, 2]
    assert its[-1].image.shape[2:] == (198, 300)


def test_srcnn_hand_over_without_a_model_for_the_ratio_names_the_config(shared, d2l, monkeypatch):
    from gluon_nst.style.engine import Session
    monkeypatch.setattr(srcnn, 'PACKAGED_DIR', os.path.join(shared, 'no_such_folder'))
    with pytest.raises(UserError, match='configs/sr/srcnn_x3.yaml'):
        Session(_cfg(shared, d2l, hand_over='srcnn'))
