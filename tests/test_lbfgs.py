"""The device L-BFGS (`optimizer.name: lbfgs_torch`) and the jcjohnson recipe's pieces
(configs/gatys.yaml, the squared-sum TV form)."""
import os

import numpy as np
import pytest
from mxnet import autograd, nd

from gluon_nst import config
from gluon_nst.style.lbfgs import NotFinite, minimize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def objective(f, counter=None):
    """fun(x) for minimize() from an NDArray function f, counting evaluations."""
    def fun(x):
        if counter is not None:
            counter.append(1)
        x = x.copy()
        x.attach_grad()
        with autograd.record():
            loss = f(x)
        loss.backward()
        return loss.reshape((1,)), x.grad.copy(), None
    return fun


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


# torch 2.13.0, float64: torch.optim.LBFGS([x], lr, max_iter=1, history_size,
# tolerance_grad=0, tolerance_change=0) stepped once per iteration from (-1.2, 1):
# x after iterations 1, 2, 3, 5, 10, 20, 40.
TORCH_ROSENBROCK = {
    (1.0, 100): {1: (-0.489855072464, 1.28985507246), 2: (-0.821671099075, 1.06827539577),
                 3: (-1.36554163899, 0.937976055194), 5: (-0.967919811096, 1.00401938958),
                 10: (-0.93329035331, 0.904354525294), 20: (-0.392909524888, 0.146968084894),
                 40: (0.240403147233, 0.0529704874852)},
    (0.5, 3): {1: (-0.844927536232, 1.14492753623), 2: (-0.915060055626, 1.10832820021),
               3: (-0.987264253302, 1.07804440709), 5: (-1.0183420255, 1.06452683623),
               10: (-1.02221297883, 1.04720527925), 20: (-0.458369286518, 0.195342733409),
               40: (0.71452570202, 0.480951511095)},
}


@pytest.mark.parametrize('two_loop', ['numpy', 'device'])
@pytest.mark.parametrize('lr, history', sorted(TORCH_ROSENBROCK))
def test_rosenbrock_iterates_are_torch_lbfgs(lr, history, two_loop):
    x0 = nd.array([-1.2, 1.0], dtype='float64')
    its = list(minimize(objective(rosenbrock), x0, 40, lr=lr, history=history,
                        tolerance_grad=0, tolerance_change=0, two_loop=two_loop))
    assert [it.index for it in its] == list(range(40))
    for n, want in TORCH_ROSENBROCK[(lr, history)].items():
        assert its[n - 1].x.asnumpy() == pytest.approx(want, rel=1e-7, abs=1e-9), n
    # The losses are of the point each iteration started from.
    assert its[0].loss == pytest.approx(24.2)
    assert its[1].loss == pytest.approx(float(rosenbrock(its[0].x).asscalar()))


def test_quadratic_reaches_the_solution():
    rng = np.random.RandomState(0)
    m = rng.randn(8, 8)
    a_np, b_np = m @ m.T + 8 * np.eye(8), rng.randn(8)
    a, b = nd.array(a_np, dtype='float64'), nd.array(b_np, dtype='float64')
    its = list(minimize(objective(lambda x: 0.5 * nd.dot(x, nd.dot(a, x)) - nd.dot(b, x)),
                        nd.zeros(8, dtype='float64'), 30, tolerance_grad=0, tolerance_change=0))
    assert its[-1].x.asnumpy() == pytest.approx(np.linalg.solve(a_np, b_np), abs=1e-7)
    assert its[5].loss > its[-1].loss


def test_the_two_loop_in_numpy_and_on_the_device_agree():
    # float32 and many pairs, as an image run: the CPU path (numpy) and the device path
    # (NDArrays) give the same iterates to float32 rounding.
    rng = np.random.RandomState(2)
    scales = nd.array(rng.uniform(0.5, 20, 3000).astype(np.float32))
    target = nd.array(rng.randn(3000).astype(np.float32))
    f = lambda x: nd.sum(scales * (x - target) ** 2) + 0.1 * nd.sum(x ** 4)   # noqa: E731
    runs = {where: list(minimize(objective(f), nd.zeros(3000), 30, history=10,
                                 tolerance_grad=0, tolerance_change=0, two_loop=where))
            for where in ('numpy', 'device')}
    assert len(runs['numpy']) == len(runs['device']) == 30
    for a, b in zip(runs['numpy'], runs['device']):
        assert a.loss == pytest.approx(b.loss, rel=1e-4)
    assert runs['numpy'][-1].x.asnumpy() == pytest.approx(runs['device'][-1].x.asnumpy(),
                                                          rel=1e-3, abs=1e-4)
    assert runs['numpy'][-1].loss < 0.05 * runs['numpy'][0].loss           # it descends
    with pytest.raises(ValueError):
        next(minimize(objective(f), nd.zeros(3000), 3, two_loop='gpu'))


def test_first_step_is_the_gradient_scaled_by_its_l1_norm():
    x0 = nd.array([-1.2, 1.0, 3.0, -0.5])
    f = lambda x: nd.sum(x ** 4) + nd.sum(x) ** 2            # noqa: E731
    x = x0.copy()
    x.attach_grad()
    with autograd.record():
        loss = f(x)
    loss.backward()
    g = x.grad.asnumpy()
    it = next(minimize(objective(f), x0, 5, lr=0.7))
    t = min(1.0, 1.0 / np.abs(g).sum()) * 0.7
    assert it.step == pytest.approx(t)
    assert it.x.asnumpy() == pytest.approx(x0.asnumpy() - t * g, rel=1e-5)


def test_one_evaluation_and_one_yield_per_iteration():
    calls, seen = [], []
    for it in minimize(objective(rosenbrock, calls), nd.array([-1.2, 1.0]), 12,
                       tolerance_grad=0, tolerance_change=0):
        seen.append((it.index, it.evaluations, len(calls)))
    # As torch: N iterations evaluate N points: the start, then the point after each step
    # but the last (an iteration is yielded once its new point is evaluated).
    assert seen == [(i, min(i + 2, 12), min(i + 2, 12)) for i in range(12)]


def test_tolerances_stop_early_and_say_why():
    f = lambda x: nd.sum((x - 3) ** 2)                        # noqa: E731
    its = list(minimize(objective(f), nd.zeros(5, dtype='float64'), 50))
    assert len(its) < 50 and its[-1].stopped
    assert its[-1].x.asnumpy() == pytest.approx(np.full(5, 3.0))
    # At the optimum already: nothing to do.
    its = list(minimize(objective(f), nd.full(5, 3.0, dtype='float64'), 50))
    assert len(its) == 1 and its[0].stopped.startswith('the gradient') and its[0].step == 0


def test_a_non_finite_loss_raises_with_the_last_good_point():
    f = lambda x: nd.sum(nd.exp(x * 50))                      # noqa: E731
    with pytest.raises(NotFinite) as e:
        list(minimize(objective(f), nd.array([1.0, 2.0]), 10, lr=1e6))
    assert np.all(np.isfinite(e.value.last_good.asnumpy()))


def test_squared_sum_tv_has_the_gradient_of_jcjohnsons_tvloss():
    from gluon_nst.style.losses import TVLoss
    rng = np.random.RandomState(1)
    x_np = rng.randn(1, 3, 7, 9).astype(np.float32)
    x = nd.array(x_np)
    x.attach_grad()
    with autograd.record():
        tv = TVLoss('squared_sum')(x)
    tv.backward()
    # neural_style.lua TVLoss:updateGradInput, strength 1, on the (C, H, W) image.
    img = x_np[0]
    x_diff = img[:, :-1, :-1] - img[:, :-1, 1:]
    y_diff = img[:, :-1, :-1] - img[:, 1:, :-1]
    grad = np.zeros_like(img)
    grad[:, :-1, :-1] += x_diff + y_diff
    grad[:, :-1, 1:] -= x_diff
    grad[:, 1:, :-1] -= y_diff
    assert x.grad.asnumpy()[0] == pytest.approx(grad, rel=1e-5, abs=1e-5)
    assert float(tv.asscalar()) == pytest.approx(0.5 * (np.sum(x_diff ** 2) + np.sum(y_diff ** 2)),
                                                 rel=1e-5)


def gatys_cfg(vgg_h5, d2l, *sets):
    return config.load(os.path.join(ROOT, 'configs', 'gatys.yaml'), [
        f'weights.path={os.path.dirname(vgg_h5)}',
        f'content_image={os.path.join(d2l, "rainier.jpg")}',
        f'style_image={os.path.join(d2l, "autumn_oak.jpg")}',
        'output.sync_every=3', *sets])


def test_gatys_config_is_jcjohnsons_recipe(vgg_h5, d2l):
    cfg = gatys_cfg(vgg_h5, d2l)
    assert cfg['layers']['content'] == [22] and cfg['layers']['style'] == [1, 6, 11, 20, 29]
    assert (cfg['loss']['content_weight'], cfg['loss']['style_weight'],
            cfg['loss']['tv_weight']) == (5, 100, 1e-3)
    assert cfg['optimizer']['name'] == 'lbfgs_torch' and cfg['optimizer']['lbfgs_history'] == 100
    st = cfg['stages'][0]
    assert (st['longest_side'], st['steps'], st['lr'], st['lr_decay_epoch']) == (512, 1000, 1, 0)
    assert cfg['preprocess']['convention'] == 'caffe'
    assert cfg['weights']['feature_scale'] == 'none'


def test_gatys_stage_yields_every_iteration_and_the_loss_falls(vgg_h5, d2l):
    from gluon_nst.style.engine import iterate
    cfg = gatys_cfg(vgg_h5, d2l, 'stages=[{longest_side: 48, style_longest_side: 48, steps: 8, '
                    'lr: 1, lr_decay_epoch: 0}]')
    its = list(iterate(cfg))
    assert [it.step for it in its] == list(range(8))
    assert [it.extra['evaluations'] for it in its] == [2, 3, 4, 5, 6, 7, 8, 8]
    synced = [it.image is not None for it in its]
    assert synced == [True, False, True, False, False, True, False, True]
    assert its[0].lr < 1e-3 and all(it.lr == 1 for it in its[1:])     # torch's first step
    assert its[-1].total < 0.2 * its[0].total
    assert its[-1].image.shape == (1, 3, 32, 48)


def test_clip_keeps_lbfgs_torch_in_the_pixel_range(vgg_h5, d2l):
    from gluon_nst.image_io import pixel_range
    from gluon_nst.style.engine import iterate
    cfg = gatys_cfg(vgg_h5, d2l, 'optimizer.clip=true', 'init=noise', 'stages=[{longest_side: '
                    '48, style_longest_side: 48, steps: 5, lr: 1, lr_decay_epoch: 0}]')
    lo, hi = pixel_range('caffe')
    img = [it.image for it in iterate(cfg) if it.image is not None][-1].asnumpy()[0]
    for c in range(3):
        assert lo[c] - 1e-3 <= img[c].min() and img[c].max() <= hi[c] + 1e-3


def test_keep_best_returns_the_lowest_loss_point(vgg_h5, d2l):
    from gluon_nst.style.engine import Session, iterate
    stage = ('stages=[{longest_side: 48, style_longest_side: 48, steps: 6, lr: 3, '
             'lr_decay_epoch: 0}]')
    best_cfg = gatys_cfg(vgg_h5, d2l, 'optimizer.keep_best=true', stage)
    replay_cfg = gatys_cfg(vgg_h5, d2l, 'output.sync_every=1', stage)
    its = list(iterate(best_cfg))
    replay = list(iterate(replay_cfg))
    assert [it.total for it in its] == pytest.approx([it.total for it in replay], rel=1e-4)
    # Iterate i's loss is of the image before step i: the start, then step i-1's image.
    session = Session(replay_cfg)
    before = [session.initial_image(session.stages[0])] + [it.image for it in replay]
    best = min(range(6), key=lambda i: its[i].total)
    assert its[-1].image.asnumpy() == pytest.approx(before[best].asnumpy(), abs=1e-3)


def test_an_early_stop_ends_the_stage_with_its_image(vgg_h5, d2l, tmp_path):
    from gluon_nst.run import train
    cfg = gatys_cfg(vgg_h5, d2l, 'optimizer.lbfgs_tol_change=1.0e+30', 'output.quality=false',
                    f'output.dir={tmp_path / "run"}', 'stages=[{longest_side: 48, '
                    'style_longest_side: 48, steps: 50, lr: 1, lr_decay_epoch: 0}]')
    run_dir = train(cfg, quiet=True, stream=open(os.devnull, 'w'))
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        assert len(f.read().splitlines()) == 2          # the header and the one iteration
    assert os.path.getsize(os.path.join(run_dir, 'stage1.png')) > 0
    assert os.path.getsize(os.path.join(run_dir, 'result.png')) > 0
