"""End-to-end runs with the real weights on small images, and the CLI's errors."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import default_sigint
from gluon_nst import config
from gluon_nst.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, 'scripts', 'train.py')


@pytest.fixture
def small_cfg(tmp_path, d2l, vgg_h5):
    """A two-stage run of the book's recipe on small images, a few steps each."""
    cfg = dict(content_image=os.path.join(d2l, 'rainier.jpg'),
               style_image=os.path.join(d2l, 'autumn_oak.jpg'),
               weights=dict(path=os.path.dirname(vgg_h5)),
               stages=[dict(image_shape=[64, 48], steps=8, lr=0.05, lr_decay_epoch=5),
                       dict(image_shape=[96, 64], steps=4, lr=0.05, lr_decay_epoch=2)],
               output=dict(sync_every=3, dir=str(tmp_path / 'run')))
    p = tmp_path / 'small.yaml'
    p.write_text(yaml.safe_dump(cfg))
    return str(p)


def run_cli(*args, env=None, **kw):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, TRAIN, *args], capture_output=True, text=True,
                          env=e, **kw)


def read_rows(run_dir):
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        return list(csv.DictReader(f))


def test_two_stage_run_writes_everything_and_loss_falls(small_cfg, tmp_path):
    from gluon_nst.run import train
    cfg = config.load(small_cfg)
    run_dir = train(cfg, quiet=True, stream=open(os.devnull, 'w'))
    for name in ('config.yaml', 'losses.csv', 'losses.png', 'sheet.png', 'record.json',
                 'stage1.png', 'stage2.png', 'result.png'):
        assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
    rows = read_rows(run_dir)
    assert [(int(r['stage']), int(r['step'])) for r in rows] == \
        [(1, i) for i in range(8)] + [(2, i) for i in range(4)]
    s1 = [float(r['total']) for r in rows if r['stage'] == '1']
    assert s1[-1] < 0.7 * s1[0]
    # Starts from the content image: step 0's content term is float noise (the targets and
    # the compiled graph run different oneDNN kernels), far below the terms that follow.
    contents = [float(r['content']) for r in rows if r['stage'] == '1']
    assert abs(contents[0]) < 1e-6 * max(contents[1:])
    lrs = [float(r['lr']) for r in rows if r['stage'] == '1']
    assert lrs == pytest.approx([0.05] * 6 + [0.005] * 2)
    secs = [float(r['seconds']) for r in rows if r['stage'] == '1']
    assert secs == sorted(secs) and secs[0] > 0
    assert np.asarray(Image.open(os.path.join(run_dir, 'result.png'))).shape == (64, 96, 3)
    assert np.asarray(Image.open(os.path.join(run_dir, 'stage1.png'))).shape == (48, 64, 3)
    rec = json.load(open(os.path.join(run_dir, 'record.json')))
    assert rec['status'] == 'finished' and rec['steps_done'] == 12
    assert rec['weights']['hash'] == 'bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35'
    assert rec['threads'] >= 1 and set(rec['stage_seconds']) == {'1', '2'}
    assert rec['peak_rss_mb'] > 0 and rec['versions']['mxnet'] == '1.9.1'
    saved = yaml.safe_load(open(os.path.join(run_dir, 'config.yaml')))
    assert config.load(data=saved) == cfg               # the resolved config re-loads as is


def test_progress_bar_shows_the_last_step_of_every_sync(small_cfg):
    """Steps between two syncs arrive at once: the bar must show the newest, not the first."""
    import io
    from gluon_nst.run import train
    stream = io.StringIO()
    train(config.load(small_cfg), stream=stream)
    shown = stream.getvalue()
    # sync_every=3: stage 1 syncs after steps 3, 6 and its last (8); stage 2 after 11 and 12.
    for step in (3, 6, 8, 11, 12):
        assert f'step {step}/12' in shown, (step, shown[-500:])
    assert '100%' in shown


def test_second_stage_starts_from_the_first(small_cfg):
    """Coarse-to-fine: stage 2 step 0 is the upsampled stage-1 result, not the content."""
    from gluon_nst.style.engine import iterate
    cfg = config.load(small_cfg, ['stages.1.steps=1'])
    its = list(iterate(cfg))
    first2 = [it for it in its if it.stage == 2][0]
    assert first2.content > 0                         # it is not the content image
    last1 = [it for it in its if it.stage == 1][-1]
    assert last1.image.shape == (1, 3, 48, 64) and its[-1].image.shape == (1, 3, 64, 96)


def test_stylize_api_with_callback(small_cfg):
    from gluon_nst import stylize
    cfg = yaml.safe_load(open(small_cfg))
    seen = []
    out = stylize(cfg['content_image'], cfg['style_image'], config=cfg, callback=seen.append,
                  stages=[dict(image_shape=[48, 32], steps=3)], style_weight=1e4)
    assert out.shape == (32, 48, 3) and out.dtype == np.uint8
    assert [it.step for it in seen] == [0, 1, 2]
    with pytest.raises(UserError, match='unambiguous'):
        stylize('a', 'b', name='x')
    with pytest.raises(UserError, match=r"unknown config key 'styel_weight'; did you mean "
                                        r"'style_weight' \('loss.style_weight'\)\?"):
        stylize('a', 'b', styel_weight=1)


@pytest.mark.orchestration
def test_cli_run_and_existing_output_folder(small_cfg, tmp_path):
    out = tmp_path / 'cli'
    r = run_cli(small_cfg, '--quiet', '--set', 'stages.0.steps=2', '--set', 'stages.1.steps=1',
                '-o', str(out))
    assert r.returncode == 0, r.stderr
    assert 'stage 1 step     0' in r.stderr and (out / 'result.png').exists()
    r = run_cli(small_cfg, '-o', str(out))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f'error: output folder {out} exists and is not empty: pass --overwrite or choose '
        'another --output']


@pytest.mark.parametrize('args, msg', [
    (['--set', 'loss.styel_weight=1'], "did you mean 'loss.style_weight'"),
    (['--set', 'content_image=/nonexistent/x.jpg'], 'content image /nonexistent/x.jpg'),
    (['--set', 'stages.0.image_shape=[100000, 100000]'], 'GiB but'),
    (['--set', 'weights.path=/nonexistent'], 'weights file'),
    (['--set', 'los.style_weight=1'], "did you mean 'loss'"),
    (['-o', '/dev/null/run'], 'cannot create the output folder /dev/null/run'),
])
@pytest.mark.orchestration
def test_cli_bad_input_is_one_line(small_cfg, args, msg):
    r = run_cli(small_cfg, '--quiet', *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and 'Traceback' not in r.stderr, r.stderr


def test_non_finite_loss_stops_cleanly_and_keeps_outputs(small_cfg, tmp_path):
    out = tmp_path / 'nan'
    r = run_cli(small_cfg, '--quiet', '--set', 'loss.style_weight=1e300', '-o', str(out))
    assert r.returncode == 1 and 'non-finite' in r.stderr and 'Traceback' not in r.stderr
    rec = json.load(open(out / 'record.json'))
    assert rec['status'] == 'failed' and 'non-finite' in rec['error']
    assert (out / 'result.png').exists() and (out / 'losses.csv').exists()


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
@pytest.mark.orchestration
def test_ctrl_c_or_sigterm_keeps_last_image_and_logs(small_cfg, tmp_path, sig):
    out = tmp_path / 'int'
    p = subprocess.Popen([sys.executable, TRAIN, small_cfg, '--quiet', '-o', str(out),
                          '--set', 'stages.0.steps=100000', '--set', 'output.sync_every=1'],
                         stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (out / 'losses.csv').exists() and len(open(out / 'losses.csv').read().splitlines()) > 3:
            break
        time.sleep(0.5)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    # The shell's conventions (128 + signal), so a scheduler tells them from bad input (2).
    assert p.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
    assert 'interrupted' in err and 'Traceback' not in err
    rec = json.load(open(out / 'record.json'))
    assert rec['status'] == 'interrupted'
    assert (out / 'result.png').exists() and (out / 'losses.png').exists()


@pytest.mark.orchestration
def test_a_second_ctrl_c_while_the_outputs_are_written_loses_nothing(
        small_cfg, tmp_path, monkeypatch):
    """Users press Ctrl-C twice: the second one arrives while result.png, the plots and
    record.json are being written, and must not stop that."""
    from gluon_nst import run, style
    from gluon_nst.errors import RunInterrupted
    steps, plot = style.StyleJob.steps, style.StyleJob.plot

    def interrupted_steps(self):
        for step in steps(self):
            yield step
            if step.image is not None:
                raise KeyboardInterrupt                    # the first Ctrl-C

    def plot_with_a_second_ctrl_c(self, *args):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)                                    # delivered before the plot
        plot(self, *args)

    monkeypatch.setattr(style.StyleJob, 'steps', interrupted_steps)
    monkeypatch.setattr(style.StyleJob, 'plot', plot_with_a_second_ctrl_c)
    out = tmp_path / 'twice'
    cfg = config.load(small_cfg, [('output.dir', str(out)), ('output.sync_every', 1)])
    try:
        with pytest.raises(RunInterrupted):
            run.train(cfg, quiet=True)
    except KeyboardInterrupt:
        pytest.fail('the second Ctrl-C stopped the writing of the outputs')
    assert json.load(open(out / 'record.json'))['status'] == 'interrupted'
    assert (out / 'result.png').exists() and (out / 'losses.png').exists()
    assert (out / 'sheet.png').exists()


def test_bad_init_image_fails_before_any_work(small_cfg, tmp_path):
    bad = tmp_path / 'text.jpg'
    bad.write_text('not an image')
    out = tmp_path / 'never'
    r = run_cli(small_cfg, '--quiet', '--set', f'init={bad}', '-o', str(out))
    assert r.returncode == 2 and 'init image' in r.stderr and 'Traceback' not in r.stderr
    assert not out.exists()                        # no half-made run folder


def test_overwrite_removes_only_the_runs_own_files(small_cfg, tmp_path):
    from gluon_nst.run import make_run_dir
    out = tmp_path / 'ow'
    out.mkdir()
    for name in ('losses.csv', 'stage1.png', 'stage2_step00050.png', 'report.md',
                 'losses.txt', 'notes.md', 'stage_notes.png'):
        (out / name).write_text('x')
    cfg = config.load(small_cfg, [('output.dir', str(out))])
    with pytest.raises(UserError, match='--overwrite'):
        make_run_dir(cfg)
    make_run_dir(cfg, overwrite=True)
    assert sorted(os.listdir(out)) == ['losses.txt', 'notes.md', 'stage_notes.png']
