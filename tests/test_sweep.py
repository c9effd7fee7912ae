"""Sweeps: expansion, validation, parallel local runs, resume, failures, Ray."""
import csv
import os

import pytest
import yaml

from gluon_nst import sweep
from gluon_nst.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_sweep(tmp_path, d2l, vgg_h5, **spec):
    base = tmp_path / 'base.yaml'
    base.write_text(yaml.safe_dump(dict(
        content_image=os.path.join(d2l, 'rainier.jpg'), style_image=os.path.join(d2l, 'autumn_oak.jpg'),
        weights=dict(path=os.path.dirname(vgg_h5)),
        stages=[dict(image_shape=[40, 32], steps=3, lr=0.05)],
        output=dict(quality=False))))          # scoring is tested in test_quality.py
    p = tmp_path / 'sw.yaml'
    p.write_text(yaml.safe_dump(dict(base='base.yaml', **spec)))
    return str(p)


def test_grid_times_zip(tmp_path, d2l, vgg_h5):
    p = write_sweep(tmp_path, d2l, vgg_h5, grid={'loss.style_weight': [1, 2, 3], 'loss.tv_weight': [0, 1]},
                    zip={'layers.content': [[21], [25]], 'loss.content_weight': [1, 5]})
    name, base, fixed, runs = sweep.load_sweep(p)
    assert name == 'sw' and len(runs) == 12
    assert {(r['layers.content'][0], r['loss.content_weight']) for r in runs} == {(21, 1), (25, 5)}
    assert len({sweep.slug(r) for r in runs}) == 12


def test_bad_sweeps_fail_before_any_work(tmp_path, d2l, vgg_h5):
    with pytest.raises(UserError, match="did you mean 'loss.style_weight'"):
        sweep.load_sweep(write_sweep(tmp_path, d2l, vgg_h5, grid={'loss.style_weigth': [1, 2]}))
    with pytest.raises(UserError, match='different lengths'):
        sweep.load_sweep(write_sweep(tmp_path, d2l, vgg_h5,
                                     zip={'loss.tv_weight': [1, 2], 'loss.style_weight': [1]}))
    with pytest.raises(UserError, match='unknown key'):
        sweep.load_sweep(write_sweep(tmp_path, d2l, vgg_h5, grids={'loss.tv_weight': [1]}))


def test_shipped_sweeps_validate():
    d = os.path.join(ROOT, 'configs', 'sweeps')
    names = sorted(os.listdir(d))
    assert {'layers.yaml', 'loss_weights.yaml', 'image_size.yaml', 'optimizers.yaml'} <= set(names)
    for n in names:
        assert sweep.load_sweep(os.path.join(d, n))[3]


def rows(out):
    with open(os.path.join(out, 'results.csv')) as f:
        return list(csv.DictReader(f))


@pytest.mark.orchestration
def test_local_sweep_resumes_and_records_failures(tmp_path, d2l, vgg_h5):
    p = write_sweep(tmp_path, d2l, vgg_h5,
                    grid={'loss.style_weight': [1.0e+3, 1.0e+300], 'loss.tv_weight': [0, 10]})
    out = str(tmp_path / 'out')
    logs = []
    sweep.sweep(p, out, workers=2, threads=1, log=logs.append)
    table = rows(out)
    assert len(table) == 4
    status = {(r['loss.style_weight'], r['loss.tv_weight']): r['status'] for r in table}
    assert list(status.values()).count('finished') == 2 and list(status.values()).count('failed') == 2
    failed = [r for r in table if r['status'] == 'failed']
    assert all('non-finite' in r['error'] for r in failed)
    assert all(float(r['total']) > 0 and float(r['wall_seconds']) > 0
               for r in table if r['status'] == 'finished')
    for f in ('contact_sheet.png', 'curves_loss_style_weight.png', 'curves_loss_tv_weight.png'):
        assert os.path.getsize(os.path.join(out, f)) > 0
    # Resume: nothing finished is recomputed; an interrupted run (no final record) runs again.
    finished = [os.path.join(out, r['run']) for r in table if r['status'] == 'finished']
    kept = os.path.join(finished[0], 'losses.csv')
    mtime = os.path.getmtime(kept)
    os.remove(os.path.join(finished[1], 'record.json'))
    logs.clear()
    sweep.sweep(p, out, workers=2, threads=1, log=logs.append)
    assert '4 runs, 3 already done, 1 to run' in logs[0]
    assert '2 at a time x 1 thread)' in logs[0]
    assert os.path.getmtime(kept) == mtime
    assert [r['status'] for r in rows(out)] == [r['status'] for r in table]
    # Other overrides for the same folders: nothing stale is reused.
    logs.clear()
    sweep.sweep(p, out, workers=2, threads=1, log=logs.append, extra_sets=['stages.0.steps=2'])
    assert '4 runs, 0 already done, 4 to run' in logs[0]
    assert all(len(open(os.path.join(out, r['run'], 'losses.csv')).read().splitlines()) == 3
               for r in rows(out) if r['status'] == 'finished')


@pytest.mark.orchestration
def test_ray_executor(tmp_path, d2l, vgg_h5):
    pytest.importorskip('ray', reason='Ray is the optional extra .[ray]')
    p = write_sweep(tmp_path, d2l, vgg_h5, zip={'optimizer.name': ['adam', 'lbfgs']},
                    set={'optimizer.lbfgs_maxfun': 3})
    out = str(tmp_path / 'ray')
    sweep.sweep(p, out, threads=1, executor='ray', log=lambda *_: None)
    import ray
    ray.shutdown()
    assert [r['status'] for r in rows(out)] == ['finished', 'finished']
