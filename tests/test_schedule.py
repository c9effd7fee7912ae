"""The lr schedule's exact decay steps, stage planning and the hand-over."""
import mxnet as mx
import numpy as np
import pytest

from gluon_nst import image_io
from gluon_nst.style.schedule import Stage, hand_over, plan


def book_lrs(lr, steps, decay, factor=0.1):
    """The book's loop: record the lr each step uses, decay after i % d == 0 and i != 0."""
    out = []
    for i in range(steps):
        out.append(lr)
        if i % decay == 0 and i != 0:
            lr *= factor
    return out


@pytest.mark.parametrize('steps, decay', [(500, 200), (300, 100), (7, 3), (5, 1)])
def test_lr_schedule_matches_the_books_loop(steps, decay):
    st = Stage(1, 30, 20, steps, 0.01, decay, 0.1)
    assert [st.lr_at(i) for i in range(steps)] == pytest.approx(book_lrs(0.01, steps, decay))


def test_decay_steps_of_the_press_edition():
    st = Stage(1, 300, 200, 500, 0.01, 200, 0.1)
    lrs = [st.lr_at(i) for i in range(500)]
    assert [i for i in range(1, 500) if lrs[i] != lrs[i - 1]] == [201, 401]   # decayed after 200, 400
    assert st.lr_at(200) == 0.01 and st.lr_at(201) == pytest.approx(0.001)
    assert st.lr_at(401) == pytest.approx(1e-4)
    assert Stage(1, 30, 20, 10, 0.5, 0, 0.1).lr_at(9) == 0.5          # 0: never


def test_plan_fits_longest_side_to_content():
    stages = plan([dict(image_shape=[300, 200], longest_side=None, steps=1, lr=0.1,
                        lr_decay_epoch=0, lr_decay_factor=0.1),
                   dict(image_shape=None, longest_side=512, steps=1, lr=0.1,
                        lr_decay_epoch=0, lr_decay_factor=0.1)], (2048, 1365))
    assert [s.shape for s in stages] == [(300, 200), (512, 341)]
    assert [s.index for s in stages] == [1, 2]


def test_hand_over_is_the_books_formula():
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.randn(1, 3, 20, 30) * 2)         # some values outside 0..1 once decoded
    nxt = Stage(2, 120, 80, 1, 0.01, 100, 0.1)
    got = hand_over(x, nxt, 'book')
    # preprocess(postprocess(x) * 255, (1200, 800)) in the book, scaled down here.
    rgb = image_io.postprocess(x) * 255
    resized = mx.image.imresize(rgb, 120, 80)
    mean, std = mx.nd.array([0.485, 0.456, 0.406]), mx.nd.array([0.229, 0.224, 0.225])
    ref = ((resized / 255 - mean) / std).transpose((2, 0, 1)).expand_dims(axis=0)
    assert got.shape == (1, 3, 80, 120)
    assert mx.nd.abs(got - ref).max().asscalar() < 1e-6
    # no rounding to 8 bits on the way: an 8-bit hand-over differs
    rounded = image_io.preprocess(np.round(rgb.asnumpy()).astype(np.uint8), (120, 80))
    assert mx.nd.abs(got - rounded).max().asscalar() > 1e-3
