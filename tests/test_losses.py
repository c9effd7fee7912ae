"""Every loss against plain numpy."""
import mxnet as mx
import numpy as np
import pytest

from gluon_nst.style.losses import ContentLoss, Gram, Scale, StyleLoss, SumLoss, TVLoss, gram_normaliser

rng = np.random.RandomState(0)


def nd(a):
    return mx.nd.array(a, dtype='float32')


def np_gram(y, norm):
    c = y.shape[1]
    f = y.reshape(c, -1).astype(np.float64)
    return f @ f.T / norm


@pytest.mark.parametrize('hybrid', [False, True])
def test_content_loss_matches_numpy(hybrid):
    a, b = rng.randn(1, 8, 5, 7), rng.randn(1, 8, 5, 7)
    for red, ref in (('mean', np.mean((a - b) ** 2)), ('sum', np.sum((a - b) ** 2))):
        loss = ContentLoss(red)
        if hybrid:
            loss.hybridize()
        assert loss(nd(a), nd(b)).asscalar() == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize('norm', ['chw', 'hw', 'none'])
def test_gram_normalisation(norm):
    y = rng.randn(1, 6, 4, 5)
    d = gram_normaliser(norm, 6, 4, 5)
    assert d == {'chw': 120.0, 'hw': 20.0, 'none': 1.0}[norm]
    g = Gram(d)(nd(y)).asnumpy()
    np.testing.assert_allclose(g, np_gram(y, d), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, g.T, rtol=1e-6)


def test_book_gram_is_y_yt_over_chw():
    # The book: gram = Y Y^T / (c * h * w) with Y reshaped to (c, h*w).
    y = rng.rand(1, 3, 2, 2)
    f = y.reshape(3, 4)
    np.testing.assert_allclose(Gram(12.0)(nd(y)).asnumpy(), f @ f.T / 12, rtol=1e-5)


def test_gram_gradient_matches_numpy():
    """d sum(W * G) / dY = (W + W^T) F / norm: the inner product with Y as its own weights
    gets both halves of the gradient."""
    from mxnet import autograd
    y, w = rng.randn(1, 6, 4, 5), rng.randn(6, 6)
    x = nd(y)
    x.attach_grad()
    gram = Gram(12.0, channels=6)
    gram.hybridize()
    with autograd.record():
        loss = (gram(x) * nd(w)).sum()
    loss.backward()
    f = y.reshape(6, -1)
    np.testing.assert_allclose(x.grad.asnumpy().reshape(6, -1), (w + w.T) @ f / 12, rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'keras'])
def test_style_loss_matches_numpy(reduction):
    y, t = rng.randn(1, 6, 4, 5), rng.randn(1, 6, 4, 5)
    norm = gram_normaliser('chw', 6, 4, 5)
    target = np_gram(t, norm)
    sq = (np_gram(y, norm) - target) ** 2
    pixels = 32 * 40
    ref = {'mean': sq.mean(), 'sum': sq.sum(), 'keras': sq.sum() / (4 * 9 * pixels ** 2)}[reduction]
    loss = StyleLoss(norm, reduction, image_pixels=pixels, channels=6)
    loss.hybridize()
    assert loss(nd(y), nd(target)).asscalar() == pytest.approx(ref, rel=1e-4)


def test_tv_book_form():
    x = rng.randn(1, 3, 6, 9)
    ref = 0.5 * (np.abs(x[:, :, 1:] - x[:, :, :-1]).mean() + np.abs(x[:, :, :, 1:] - x[:, :, :, :-1]).mean())
    assert TVLoss('l1_mean')(nd(x)).asscalar() == pytest.approx(ref, rel=1e-5)


def test_tv_keras_form():
    x = rng.randn(1, 3, 6, 9) * 50
    a = (x[:, :, :-1, :-1] - x[:, :, 1:, :-1]) ** 2
    b = (x[:, :, :-1, :-1] - x[:, :, :-1, 1:]) ** 2
    ref = np.sum((a + b) ** 1.25)
    assert TVLoss('keras', 1.25)(nd(x)).asscalar() == pytest.approx(ref, rel=1e-4)


def test_tv_gradient_matches_finite_difference():
    x = nd(rng.randn(1, 3, 5, 6))
    x.attach_grad()
    with mx.autograd.record():
        v = TVLoss('keras')(x)
    v.backward()
    g = x.grad.asnumpy()
    eps, idx = 1e-2, (0, 1, 2, 3)
    xp, xm = x.asnumpy().astype(np.float64), x.asnumpy().astype(np.float64)
    xp[idx] += eps
    xm[idx] -= eps

    def f(a):
        dy = a[:, :, :-1, :-1] - a[:, :, 1:, :-1]
        dx = a[:, :, :-1, :-1] - a[:, :, :-1, 1:]
        return np.sum((dy ** 2 + dx ** 2) ** 1.25)
    assert g[idx] == pytest.approx((f(xp) - f(xm)) / (2 * eps), rel=1e-2)


def test_scale_and_sum_combinators():
    a, b, c, d = (rng.randn(1, 2, 3, 3) for _ in range(4))
    total = SumLoss([Scale(ContentLoss(), 2.0), Scale(ContentLoss('sum'), 0.5)])
    total.hybridize()
    ref = 2.0 * np.mean((a - b) ** 2) + 0.5 * np.sum((c - d) ** 2)
    assert total(nd(a), nd(b), nd(c), nd(d)).asscalar() == pytest.approx(ref, rel=1e-5)
