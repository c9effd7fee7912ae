"""init: fast starts the style optimisation from Magenta's feed-forward result."""
import os

import numpy as np
import pytest

from gluon_nst import config, image_io

pytest.importorskip('onnxruntime', reason='the fast extra: pip install -e ".[fast]"')


@pytest.fixture
def fast_cfg(shared, d2l):
    return config.load(data=dict(
        content_image=os.path.join(d2l, 'rainier.jpg'), style_image=os.path.join(d2l, 'autumn_oak.jpg'),
        init='fast', weights=dict(path=os.path.join(shared, 'weights')),
        stages=[dict(image_shape=[96, 64], steps=3, lr=0.05)], output=dict(sync_every=1)))


def test_fast_init_hands_the_fast_result_over(fast_cfg):
    from gluon_nst.fast import stylize
    from gluon_nst.style.engine import Session, iterate
    s = Session(fast_cfg)
    x = s.initial_image(s.stages[0])
    start = image_io.to_uint8(image_io.postprocess(x, s.convention), 1.0)
    fast = stylize(s.content, s.style, size=(96, 64), path=fast_cfg['weights']['path'])
    assert start.shape == fast.shape == (64, 96, 3)
    assert np.abs(start.astype(int) - fast.astype(int)).max() <= 1          # the same image
    content = image_io.to_uint8(image_io.postprocess(
        image_io.preprocess(s.content, (96, 64), s.convention), s.convention), 1.0)
    assert np.abs(start.astype(float) - content).mean() > 10               # not the content
    its = list(iterate(fast_cfg, s))
    assert its[0].content > 0 and its[-1].total < its[0].total              # it optimises from there
