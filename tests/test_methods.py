"""The method layer (gluon_nst/methods.py): a method added from outside the package
runs through the same run folder, and losses.csv is formatted in one place."""
import csv
import json
import os

import numpy as np
import pytest

from gluon_nst import config, methods, run
from gluon_nst.errors import UserError
from gluon_nst.image_io import read_rgb, save_png


@pytest.fixture
def identity():
    methods.register('identity', 'identity_method')          # the one registry line
    yield methods.get('identity')
    methods.REGISTERED.pop('identity')


def test_a_fifth_method_runs_through_the_shared_run_folder(identity, tmp_path):
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, size=(20, 30, 3)).astype(np.uint8)
    save_png(img, str(tmp_path / 'in.png'))
    cfg = config.load(data=dict(method='identity', image=str(tmp_path / 'in.png'), steps=4,
                                output=dict(dir=str(tmp_path / 'run'))))
    run_dir = run.train(cfg, quiet=True, stream=open(os.devnull, 'w'))
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['step'] for r in rows] == ['0', '1', '2', '3']
    assert {r['mean'] for r in rows} == {f'{img.mean():.2f}'}
    assert all(len(r['seconds'].split('.')[1]) == 3 for r in rows)
    assert np.array_equal(read_rgb(os.path.join(run_dir, 'result.png')), img)
    assert np.array_equal(read_rgb(os.path.join(run_dir, 'identity.png')), img)
    with open(os.path.join(run_dir, 'record.json')) as f:
        record = json.load(f)
    assert record['status'] == 'finished' and record['steps_done'] == 4
    with pytest.raises(UserError, match="config key 'steps'"):
        config.load(data=dict(method='identity', image=str(tmp_path / 'in.png'), steps=0))


def test_unknown_method_names_the_registered_ones_too(identity):
    with pytest.raises(UserError, match="did you mean 'identity'"):
        methods.get('identiti')


def test_a_row_is_formatted_by_the_method_columns():
    style = methods.get('style')
    row = style.format_row(dict(stage=2, step=7, lr=float('nan'), content=1234567.0,
                                style=0.000123456789, tv=None, total=3.0, seconds=1.23456))
    assert row == dict(stage='2', step='7', lr='', content='1.23457e+06', style='0.000123457',
                       tv='', total='3', seconds='1.235')
    srcnn = methods.get('srcnn')
    assert srcnn.format_row(dict(epoch=3, psnr=30.123456, patches_per_s=1234.6))['patches_per_s'] \
        == '1235'
    fast = methods.get('fast')           # a list of columns: values written as given
    assert fast.format_row(dict(file='a.png', seconds='0.100'))['seconds'] == '0.100'
