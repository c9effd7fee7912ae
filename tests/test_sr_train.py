"""SRCNN network sizes, a short real training into a run folder, resume, bad input."""
import csv
import json
import os

import numpy as np
import pytest

from conftest import _need, default_sigint
from gluon_nst import config
from gluon_nst.errors import UserError


@pytest.fixture(scope='module')
def sr_sets(shared):
    return _need(os.path.join(shared, 'datasets', 'sr'))


@pytest.fixture(scope='module')
def one_image(tmp_path_factory, sr_sets):
    """An evaluation 'set' of one Set5 image (a link, not a copy)."""
    folder = tmp_path_factory.mktemp('bird')
    os.symlink(os.path.join(sr_sets, 'Set5', 'bird_GT.bmp'), folder / 'bird_GT.bmp')
    return str(folder)


def short_cfg(sr_sets, one_image, out, **train):
    # 10 small T91 images at stride 7 (3,816 sub-images), batch 8: one epoch is ~480 updates.
    return config.load(data=dict(
        method='srcnn', scale=3, seed=0,
        data=dict(root=sr_sets, train_limit=10, stride=7, eval=one_image, test=[one_image]),
        train=dict(dict(epochs=1, batch_size=8, lr=0.001, log_every=100), **train),
        output=dict(dir=str(out), sheet=['bird_GT'])))


def read_rows(run_dir):
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        return list(csv.DictReader(f))


def test_output_size_valid_and_same_padding():
    import mxnet as mx
    from gluon_nst.models import srcnn
    for padding, kernels, channels, size, want in (('valid', [9, 1, 5], 1, 33, 21),
                                                   ('valid', [9, 5, 5], 3, 33, 17),
                                                   ('same', [9, 1, 5], 1, 33, 33),
                                                   ('valid', [9, 1, 5], 1, 40, 28)):
        net = srcnn.build(channels, padding, kernels)
        net.initialize()
        y = net(mx.nd.zeros((2, channels, size, size + 5)))
        assert y.shape == (2, channels, want, want + 5)
        assert srcnn.output_size(size, padding, kernels) == want


@pytest.fixture(scope='module')
def trained_run(sr_sets, one_image, tmp_path_factory):
    from gluon_nst.run import train
    out = tmp_path_factory.mktemp('sr') / 'run'
    train(short_cfg(sr_sets, one_image, out), quiet=True, stream=open(os.devnull, 'w'))
    return str(out)


def test_one_epoch_on_a_few_t91_images_beats_bicubic(trained_run):
    rows = read_rows(trained_run)
    end = [r for r in rows if r['psnr']]
    assert len(end) == 1 and end[0]['epoch'] == '1'
    psnr, bicubic = float(end[0]['psnr']), float(end[0]['bicubic_psnr'])
    assert bicubic == pytest.approx(32.57, abs=0.02)          # bird x3, MATLAB bicubic
    assert psnr > bicubic + 0.3, (psnr, bicubic)              # measured +0.9 dB
    losses = [float(r['loss']) for r in rows]
    assert losses[-1] < 0.5 * losses[0]
    # Throughput is patches since the epoch began over seconds since it began: the rows
    # after the first (which builds the graph) agree with the epoch's figure.
    rates = [float(r['patches_per_s']) for r in rows[1:]]
    assert max(rates) < 2 * min(rates), rates


def test_run_folder_holds_the_model_table_and_checkpoint(trained_run):
    from gluon_nst.models.store import file_hash
    for name in ('losses.csv', 'losses.png', 'sheet.png', 'record.json', 'result.png',
                 'best.params', 'best.json', 'checkpoint.params', 'checkpoint.states',
                 'checkpoint.json', 'psnr_table.md', 'psnr_table.csv', 'epoch_result.png'):
        assert os.path.getsize(os.path.join(trained_run, name)) > 0, name
    meta = json.load(open(os.path.join(trained_run, 'best.json')))
    assert meta['scale'] == 3 and meta['channels'] == 1 and meta['epoch'] == 1
    assert meta['sha256'] == file_hash(os.path.join(trained_run, 'best.params'))
    rec = json.load(open(os.path.join(trained_run, 'record.json')))
    assert rec['status'] == 'finished' and rec['patches'] == 3816 and rec['best_epoch'] == 1
    (row,) = rec['psnr_table'].values()                    # the one test set
    assert row['srcnn'] > row['bicubic']
    table = open(os.path.join(trained_run, 'psnr_table.md')).read()
    assert 'bird_GT' in table and 'bicubic (paper)' in table


def test_resume_goes_on_from_the_checkpoint_in_the_same_folder(trained_run, sr_sets,
                                                               one_image, tmp_path):
    """`-o RUN --overwrite --set train.resume=RUN`: epoch 2 follows epoch 1, history kept."""
    import shutil

    from gluon_nst.run import train
    run = tmp_path / 'resumed'
    shutil.copytree(trained_run, run)
    before = json.load(open(run / 'best.json'))
    cfg = short_cfg(sr_sets, one_image, run, epochs=2, resume=str(run))
    train(cfg, quiet=True, overwrite=True, stream=open(os.devnull, 'w'))
    rows = [r for r in read_rows(str(run)) if r['psnr']]
    assert [r['epoch'] for r in rows] == ['1', '2']
    assert float(rows[0]['psnr']) == pytest.approx(before['psnr'], abs=1e-3)
    ck = json.load(open(run / 'checkpoint.json'))
    assert ck['epoch'] == 2 and ck['best'] >= before['psnr']
    assert os.path.isfile(run / 'best.params')            # kept through --overwrite
    rec = json.load(open(run / 'record.json'))
    assert rec['resumed_from'] == str(run) and rec['status'] == 'finished'


def test_a_non_finite_loss_stops_training_and_keeps_the_best_weights(trained_run, sr_sets, one_image,
                                                                     tmp_path):
    """A learning rate that blows the weights up: the run stops at the first loss read
    (batch 100) with the fix named; the best weights so far (epoch 1's) stay in the folder."""
    from gluon_nst.errors import RunFailed
    from gluon_nst.run import train
    before = json.load(open(os.path.join(trained_run, 'best.json')))
    run = tmp_path / 'blown'
    cfg = short_cfg(sr_sets, one_image, run, epochs=2, lr=1e6, resume=trained_run)
    with pytest.raises(RunFailed, match=r'the loss became (nan|inf) at epoch 2 batch 100: lower train.lr'):
        train(cfg, quiet=True, stream=open(os.devnull, 'w'))
    assert json.load(open(run / 'record.json'))['status'] == 'failed'
    best = json.load(open(run / 'best.json'))
    assert best['epoch'] == 1 and best['sha256'] == before['sha256']


def test_bad_input_is_one_line_before_any_work(sr_sets, one_image, tmp_path):
    with pytest.raises(UserError, match='holds no checkpoint.json'):
        short_cfg(sr_sets, one_image, tmp_path / 'r', resume=str(tmp_path))
    from gluon_nst import methods
    cfg = short_cfg(sr_sets, one_image, tmp_path / 'r')
    cfg['data']['root'] = str(tmp_path / 'nowhere')
    with pytest.raises(UserError) as e:
        methods.get('srcnn').open(cfg)
    assert '../shared/datasets/sr' in str(e.value) and 'GLUON_NST_SR_DATA' in str(e.value)
    assert not os.path.exists(tmp_path / 'r')
    cfg = short_cfg(sr_sets, one_image, tmp_path / 'r')
    cfg['output']['sheet'] = ['lena']
    with pytest.raises(UserError, match="'output.sheet': lena is not in the test sets"):
        methods.get('srcnn').open(cfg)
    with pytest.raises(UserError, match="config key 'scale'"):
        config.load(data=dict(method='srcnn', scale=5))
    with pytest.raises(UserError, match='model.kernels'):
        config.load(data=dict(method='srcnn', model=dict(kernels=[9, 2, 5])))


def test_resume_refuses_a_checkpoint_of_another_scale(trained_run, sr_sets, one_image, tmp_path):
    from gluon_nst import methods
    cfg = short_cfg(sr_sets, one_image, tmp_path / 'r', epochs=2, resume=trained_run)
    cfg['scale'] = 2
    with pytest.raises(UserError, match='resume with the config that run used'):
        methods.get('srcnn').open(cfg)


def test_configs_load():
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs', 'sr')
    for name, scale, color in (('srcnn_x2', 2, 'y'), ('srcnn_x3', 3, 'y'), ('srcnn_x4', 4, 'y'),
                               ('cookbook', 2, 'rgb'), ('quick', 3, 'y')):
        cfg = config.load(os.path.join(root, name + '.yaml'))
        assert cfg['method'] == 'srcnn' and cfg['scale'] == scale and cfg['data']['color'] == color
    ck = config.load(os.path.join(root, 'cookbook.yaml'))
    assert ck['train']['batch_size'] == 64 and ck['train']['epochs'] == 12 and ck['seed'] == 999
    assert np.isclose(ck['train']['inverse_time_decay'], 1e-3 / 12, rtol=1e-3)


@pytest.mark.orchestration
def test_ctrl_c_keeps_the_checkpoint_and_a_new_folder_resumes(sr_sets, one_image, tmp_path):
    """SIGINT in epoch 2 of a CLI run: exit 130, epoch 1's checkpoint and best weights kept;
    `--set train.resume=RUN` then finishes in a new folder with the history."""
    import signal
    import subprocess
    import sys
    import time

    import yaml
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cfg = dict(method='srcnn', scale=3, data=dict(root=sr_sets, train_limit=3, stride=14,
                                                  eval=one_image, test=[one_image]),
               train=dict(epochs=50, batch_size=8, log_every=5), output=dict(sheet=['bird_GT']))
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(cfg))
    run = tmp_path / 'run'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    p = subprocess.Popen([sys.executable, os.path.join(root, 'scripts', 'train.py'), str(path),
                          '-o', str(run), '--quiet'], stderr=subprocess.PIPE, text=True, env=env,
                         preexec_fn=default_sigint)
    deadline = time.time() + 60
    while not os.path.isfile(run / 'checkpoint.json') and time.time() < deadline:
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert 'interrupted' in err.splitlines()[-1]
    rec = json.load(open(run / 'record.json'))
    assert rec['status'] == 'interrupted'
    ck = json.load(open(run / 'checkpoint.json'))
    assert 1 <= ck['epoch'] < 50 and os.path.isfile(run / 'best.params')
    from gluon_nst.run import train
    resumed = config.load(str(path), [f'train.resume={run}', 'train.epochs=' + str(ck['epoch'] + 1),
                                      ('output.dir', str(tmp_path / 'more'))])
    train(resumed, quiet=True, stream=open(os.devnull, 'w'))
    rows = [r for r in read_rows(str(tmp_path / 'more')) if r['psnr']]
    assert [int(r['epoch']) for r in rows] == list(range(1, ck['epoch'] + 2))
