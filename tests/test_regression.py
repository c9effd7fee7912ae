"""Pinned losses of a small two-stage run: speed work must never change the result.

Values recorded with 2 threads; oneDNN's reduction order differs with the
thread count, which moves the 4th significant digit after a few Adam steps.
"""
import os

import pytest

from gluon_nst import config
from gluon_nst.style.engine import iterate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PINNED = [  # (stage, step, content, style, tv)
    (1, 0, 0.0, 389.524292, 3.60654),
    (1, 1, 2.196183, 322.402069, 3.669214),
    (1, 2, 6.725048, 265.993744, 3.765502),
    (1, 3, 12.245565, 215.8638, 3.880688),
    (1, 4, 17.548698, 173.379807, 4.007163),
    (1, 5, 18.006794, 169.522003, 4.019911),
    (2, 0, 18.088976, 278.517365, 2.116579),
    (2, 1, 19.305199, 218.029434, 2.261177),
    (2, 2, 21.567381, 165.258148, 2.437768),
]


def test_small_run_losses_are_pinned(vgg_h5, d2l):
    cfg = config.load(os.path.join(ROOT, 'configs', 'rainier.yaml'), [
        f'weights.path={os.path.dirname(vgg_h5)}',
        f'content_image={os.path.join(d2l, "rainier.jpg")}',
        f'style_image={os.path.join(d2l, "autumn_oak.jpg")}',
        'weights.feature_scale=100', 'output.sync_every=4',
        'stages=[{image_shape: [64, 48], steps: 6, lr: 0.05, lr_decay_epoch: 3},'
        ' {image_shape: [96, 64], steps: 3, lr: 0.05}]'])
    got = [(it.stage, it.step, it.content, it.style, it.tv) for it in iterate(cfg)]
    assert [g[:2] for g in got] == [p[:2] for p in PINNED]
    for g, p in zip(got, PINNED):
        assert g[2:] == pytest.approx(p[2:], rel=2e-3, abs=1e-6), g[:2]
