"""The dream method: jitter, octaves with detail carry-over, tiles, the end-to-end run
into a run folder, and bad input refused before any work."""
import csv
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from gluon_nst import config
from gluon_nst import imaging
from gluon_nst.dream import engine, octaves
from gluon_nst.errors import RunInterrupted, UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOGLE = os.path.join(ROOT, 'configs', 'dream', 'google_original.yaml')


@pytest.fixture(scope='module')
def weights(googlenet_weights):
    return googlenet_weights


@pytest.fixture(scope='module')
def rainier_small(d2l):
    from gluon_nst.image_io import read_rgb
    return engine.fit_longest(read_rgb(os.path.join(d2l, 'rainier.jpg')), 384).astype(np.float32)


def load(tmp_path, d2l, weights, **overrides):
    sets = [('image', os.path.join(d2l, 'rainier.jpg')), ('weights.path', weights),
            ('output.dir', str(tmp_path / 'run'))] + list(overrides.items())
    return config.load(GOOGLE, sets)


# ---- one step: jitter -------------------------------------------------------------

def test_jitter_is_rolled_back_exactly():
    """A gradient that is the image itself (position-equivariant) gives the same step
    whatever the roll, to the bit, only if the roll is undone exactly."""
    rng = np.random.RandomState(0)
    img = rng.uniform(1, 200, size=(37, 53, 3)).astype(np.float32)
    seen = []

    def grad_fn(rolled):
        seen.append(rolled.copy())
        return 0.0, rolled.copy()
    plain, _, _ = engine.make_step(img, grad_fn, 1.5, jitter=0, clip=False)
    jit, _, scale = engine.make_step(img, grad_fn, 1.5, jitter=20, clip=False,
                                     rng=np.random.RandomState(3))
    assert not np.array_equal(seen[1], img)            # the network saw a rolled image
    assert np.array_equal(jit, plain)
    np.testing.assert_allclose(jit, img + 1.5 / (np.abs(img).mean() + engine.EPS) * img, rtol=1e-6)
    # A zero step leaves the image bit-identical after any roll.
    same, _, _ = engine.make_step(img, lambda r: (0.0, np.ones_like(r)), 0.0, jitter=32,
                                  clip=False, rng=np.random.RandomState(1))
    assert np.array_equal(same, img)


def test_step_normalises_by_mean_abs_or_std_and_clips():
    img = np.full((8, 8, 3), 250.0, np.float32)
    g = np.zeros_like(img)
    g[..., 0] = 3.0
    up, _, s = engine.make_step(img, lambda r: (0.0, g), 1.5, 'mean_abs', clip=False)
    assert s == pytest.approx(1.0) and up[0, 0, 0] == pytest.approx(254.5) and up[..., 1].max() == 250.0
    up, _, _ = engine.make_step(img, lambda r: (0.0, g), 6.0, 'mean_abs')
    assert up[..., 0].max() == 255.0 and up[..., 1].min() == 250.0
    up, _, s = engine.make_step(img, lambda r: (0.0, g), 1.5, 'std', clip=False)
    assert s == pytest.approx(g.std()) and up[0, 0, 0] == pytest.approx(250 + 1.5 * 3 / g.std())


# ---- octaves ------------------------------------------------------------------------

def test_pyramid_sizes_and_power_sizes():
    assert octaves.pyramid_sizes((1024, 768), 4, 1.4) == [(373, 280), (522, 392), (731, 549), (1024, 768)]
    assert [o.shape[1::-1] for o in octaves.pyramid(np.zeros((768, 1024, 3)), 4, 1.4)][::-1] == \
        octaves.pyramid_sizes((1024, 768), 4, 1.4)
    assert octaves.power_sizes((600, 400), [-2, -1, 0, 1, 2], 1.3) == \
        [(355, 236), (461, 307), (600, 400), (780, 520), (1014, 676)]
    assert octaves.resize(np.zeros((40, 60, 3)), (30, 20)).shape == (20, 30, 3)


def test_detail_is_carried_over_to_every_later_octave():
    """A step that adds 1 everywhere: with Google's carry-over the result holds the
    detail of every octave (steps x octaves), not only the last octave's steps."""
    base = np.full((90, 120, 3), 100.0, np.float32)
    base[30:60, 40:80] = 60.0                      # the base image's own content stays sharp
    starts = []

    def step_fn(img):
        if not starts or starts[-1].shape != img.shape:
            starts.append(img.copy())
        return img + 1.0, 0.0, 1.0
    its = list(engine.dream(base, dict(mode='pyramid', n=3, scale=1.5), 4, step_fn))
    assert [it.octave for it in its] == [1] * 4 + [2] * 4 + [3] * 4
    bases = octaves.pyramid(base, 3, 1.5)[::-1]
    np.testing.assert_allclose(starts[0], bases[0])
    np.testing.assert_allclose(starts[1], bases[1] + 4.0, atol=1e-4)   # 4 steps of detail so far
    np.testing.assert_allclose(starts[2], bases[2] + 8.0, atol=1e-4)
    result = its[-1].image
    assert result.shape == base.shape
    np.testing.assert_allclose(result, base + 12.0, atol=1e-4)
    # Without carry-over (the cookbook's powers: the image itself is resized) it differs.
    cook = list(engine.dream(base, dict(mode='powers', powers=[-1, 0], scale=1.5), 4, step_fn))
    assert cook[-1].image.shape == base.shape


# ---- tiles --------------------------------------------------------------------------

def test_tiles_partition_the_image():
    t = imaging.tiles((500, 300), 128, 32)
    covered = np.zeros((300, 500), int)
    for (y0, y1, x0, x1), (cy0, cy1, cx0, cx1) in t:
        covered[y0:y1, x0:x1] += 1
        assert cy0 == max(0, y0 - 32) and cx1 == min(500, x1 + 32)
    assert (covered == 1).all()
    assert imaging.crop_pixels(imaging.tiles((1024, 768), 1024, 32)) == 768 * 1024
    assert imaging.crop_pixels(t) > 300 * 500


def test_tiled_and_whole_image_gradients_agree_away_from_tile_borders(weights, rainier_small):
    from gluon_nst.dream.objective import Objective
    from gluon_nst.models import features
    img = rainier_small
    H, W = img.shape[:2]
    net = features.load('googlenet', ['inception_3b/output'], path=weights)
    obj = Objective(net, 'mean_square')
    x, norms = net.to_input(img), obj.norms((W, H))
    v0, g0 = obj.gradient(x, norms)
    v1, g1 = obj.gradient(x, norms, imaging.tiles((W, H), 128, 32))
    cuts_y = [a for a, _ in imaging.tile_edges(H, 128)][1:]
    cuts_x = [a for a, _ in imaging.tile_edges(W, 128)][1:]
    dist = np.minimum(np.abs(np.arange(H)[:, None, None] - np.array(cuts_y)).min(-1),
                      np.abs(np.arange(W)[None, :, None] - np.array(cuts_x)).min(-1))
    far = dist >= 32
    a, b = g0[0][:, far], g1[0][:, far]
    assert np.abs(a - b).mean() < 0.01 * np.abs(a).mean()
    near = ~far
    assert np.corrcoef(g0[0][:, near].ravel(), g1[0][:, near].ravel())[0, 1] > 0.99
    assert v1 == pytest.approx(v0, rel=0.01)
    # Without a margin the tiles see cut edges: the gradient near them is different.
    _, g2 = obj.gradient(x, norms, imaging.tiles((W, H), 128, 0))
    assert np.abs(g0[0][:, dist < 8] - g2[0][:, dist < 8]).mean() > 0.1 * np.abs(g0[0][:, dist < 8]).mean()


# ---- end to end ---------------------------------------------------------------------

def read_rows(run_dir):
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        return list(csv.DictReader(f))


def test_three_step_dream_writes_every_output(tmp_path, d2l, weights):
    from gluon_nst.run import train
    cfg = load(tmp_path, d2l, weights, longest_side=160, steps=1, **{'octaves.n': 3})
    stream = io.StringIO()
    run_dir = train(cfg, stream=stream)
    for name in ('config.yaml', 'losses.csv', 'losses.png', 'sheet.png', 'record.json',
                 'octave1.png', 'octave2.png', 'octave3.png', 'result.png'):
        assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
    rows = read_rows(run_dir)
    assert [(r['octave'], r['step']) for r in rows] == [('1', '0'), ('2', '0'), ('3', '0')]
    sizes = octaves.pyramid_sizes((160, 107), 3, 1.4)
    assert [(int(r['width']), int(r['height'])) for r in rows] == sizes == [(81, 54), (114, 76), (160, 107)]
    assert all(float(r['objective']) > 0 and float(r['grad_scale']) > 0 for r in rows)
    assert Image.open(os.path.join(run_dir, 'octave1.png')).size == (81, 54)
    result = np.asarray(Image.open(os.path.join(run_dir, 'result.png')))
    assert result.shape == (107, 160, 3)
    assert np.array_equal(result, np.asarray(Image.open(os.path.join(run_dir, 'octave3.png'))))
    rec = json.load(open(os.path.join(run_dir, 'record.json')))
    assert rec['status'] == 'finished' and rec['method'] == 'dream' and rec['steps_done'] == 3
    assert rec['layers'] == ['inception_4c/output'] and len(rec['octaves']) == 3
    assert rec['weights']['hash'].startswith('eff46980')
    assert 'octave 3/3 160x107 step 3/3' in stream.getvalue()       # the progress bar


def test_the_dream_amplifies_the_objective(tmp_path, d2l, weights):
    from gluon_nst.dream.engine import Session, iterate
    cfg = load(tmp_path, d2l, weights, longest_side=128, steps=6, jitter=0, **{'octaves.n': 1})
    values = [it.objective for it in iterate(cfg, Session(cfg))]
    assert values[-1] > 1.5 * values[0]


def test_guided_and_vgg19_dreams_run(tmp_path, d2l, weights, vgg_h5):
    from gluon_nst.dream.engine import Session, iterate
    cfg = load(tmp_path, d2l, weights, longest_side=128, steps=4, jitter=0, objective='guide',
               guide_image=os.path.join(d2l, 'autumn_oak.jpg'), guide_longest_side=96,
               **{'octaves.n': 1})
    values = [it.objective for it in iterate(cfg, Session(cfg))]
    assert values[-1] > values[0]
    cfg = load(tmp_path, d2l, weights, longest_side=128, steps=4, jitter=0, network='vgg19',
               layers=['relu4_2'], objective='mean', normalize='std', **{'octaves.n': 1})
    s = Session(cfg)
    assert s.net.record['network'] == 'vgg19'
    values = [it.objective for it in iterate(cfg, s)]
    assert values[-1] > values[0]


def test_ctrl_c_keeps_the_last_good_image(tmp_path, d2l, weights, monkeypatch):
    from gluon_nst.run import train
    real, calls = engine.make_step, []

    def stop_in_octave_2(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)
    monkeypatch.setattr(engine, 'make_step', stop_in_octave_2)
    cfg = load(tmp_path, d2l, weights, longest_side=128, steps=2, **{'octaves.n': 2})
    with pytest.raises(RunInterrupted):
        train(cfg, quiet=True, stream=io.StringIO())
    run_dir = cfg['output']['dir']
    assert json.load(open(os.path.join(run_dir, 'record.json')))['status'] == 'interrupted'
    kept = np.asarray(Image.open(os.path.join(run_dir, 'result.png')))
    assert np.array_equal(kept, np.asarray(Image.open(os.path.join(run_dir, 'octave1.png'))))


def test_a_non_finite_objective_stops_the_run_keeping_the_last_good_image(tmp_path, d2l, weights,
                                                                          monkeypatch):
    from gluon_nst.errors import RunFailed
    from gluon_nst.run import train
    real, images = engine.make_step, []

    def nan_at_octave_2_step_1(*a, **kw):
        img, value, scale = real(*a, **kw)
        images.append(img)
        return img, float('nan') if len(images) == 4 else value, scale
    monkeypatch.setattr(engine, 'make_step', nan_at_octave_2_step_1)
    cfg = load(tmp_path, d2l, weights, longest_side=128, steps=2, **{'octaves.n': 2})
    with pytest.raises(RunFailed, match='octave 2: the objective became non-finite at step 1; '
                                        'lower step_size'):
        train(cfg, quiet=True, stream=io.StringIO())
    run_dir = cfg['output']['dir']
    assert json.load(open(os.path.join(run_dir, 'record.json')))['status'] == 'failed'
    kept = np.asarray(Image.open(os.path.join(run_dir, 'result.png')))
    assert np.array_equal(kept, imaging.to_uint8(images[2], 255))     # octave 2, step 0


# ---- bad input: one line, before any work -------------------------------------------

def test_bad_config_values_are_refused(tmp_path, d2l, weights):
    with pytest.raises(UserError, match="did you mean 'inception_4c/output'"):
        load(tmp_path, d2l, weights, layers=['inception_4c/outptu'])
    with pytest.raises(UserError, match="unknown VGG-19 layer 'relu4_9'"):
        load(tmp_path, d2l, weights, network='vgg19', layers=['relu4_9'])
    with pytest.raises(UserError, match=r"'octaves.scale': got 1.0, expected a value > 1"):
        load(tmp_path, d2l, weights, **{'octaves.scale': 1.0})
    with pytest.raises(UserError, match='objective: guide needs guide_image'):
        load(tmp_path, d2l, weights, objective='guide')
    with pytest.raises(UserError, match="'layer_weights': 2 weights for 1 layers"):
        load(tmp_path, d2l, weights, layer_weights=[1, 2])
    with pytest.raises(UserError, match='no spatial map'):
        load(tmp_path, d2l, weights, layers=['prob'])
    with pytest.raises(UserError, match="'onednn': got 'yes', expected one of auto, True, False"):
        load(tmp_path, d2l, weights, onednn='yes')


def test_onednn_auto_follows_the_cpus_avx512(monkeypatch):
    from gluon_nst import runtime
    from gluon_nst.dream.schema import use_onednn
    monkeypatch.setattr(runtime, 'cpu_flags', lambda: {'avx2', 'avx512f'})
    assert use_onednn('auto') is True and use_onednn(False) is False
    monkeypatch.setattr(runtime, 'cpu_flags', lambda: {'avx2'})
    assert use_onednn('auto') is False and use_onednn(True) is True
    assert isinstance(runtime.cpu_flags(), set)


def test_an_image_too_small_for_the_pyramid_names_the_smallest_size(tmp_path, d2l, weights):
    from gluon_nst.run import train
    small = tmp_path / 'small.png'
    Image.new('RGB', (90, 60), (120, 90, 60)).save(small)
    cfg = load(tmp_path, d2l, weights, image=str(small), longest_side=None)
    with pytest.raises(UserError) as e:
        train(cfg)
    msg = str(e.value)
    assert 'too small for 4 octaves at scale 1.4' in msg and 'at least 88 pixels' in msg
    assert 'octaves.n: 2' in msg and '\n' not in msg
    assert not os.path.exists(cfg['output']['dir'])           # refused before the run folder


def test_a_huge_image_without_tiles_is_refused_naming_tile_size(tmp_path, d2l, weights, monkeypatch):
    from gluon_nst import runtime
    from gluon_nst.run import train
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 2 * 2**30)
    cfg = load(tmp_path, d2l, weights, longest_side=4000)
    with pytest.raises(UserError, match=r'4000x2666.*GiB is free: set tile_size \(e\.g\. tile_size: 1024\)'):
        train(cfg)
    assert not os.path.exists(cfg['output']['dir'])
    cfg = load(tmp_path, d2l, weights, longest_side=4000, tile_size=1024)
    from gluon_nst.dream.engine import Session

    class Reached(Exception):
        pass

    def net_loading(*a, **k):
        raise Reached
    monkeypatch.setattr('gluon_nst.models.features.load', net_loading)
    with pytest.raises(Reached):                          # tiles fit: the checks pass
        Session(cfg)
