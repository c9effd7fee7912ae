"""The benchmarks run end to end at tiny sizes (figures are their job, not the tests'):
each `bench METHOD --peers` prints one table of ours, PyTorch's and the ratio, after
checking that both sides did the same work.  Peers need torch (the bench extra)."""
import importlib.util
import json
import os

import pytest

from gluon_nst import benchmark
from gluon_nst.errors import UserError

needs_torch = pytest.mark.skipif(importlib.util.find_spec('torch') is None,
                                 reason='needs torch (pip install -c constraints.txt -e ".[bench]")')


@pytest.mark.orchestration   # coarse assertions: one thread count is enough
def test_run_module_returns_the_emitted_figures_and_the_child_peak_memory():
    r = benchmark.run_module('gluon_nst.sgemm_peak', [], threads=1)
    assert r['gflops'] > 0 and r['wall_s'] > 0
    assert r['peak_rss_mb'] > 3 * 3072 * 3072 * 4 / 2 ** 20     # three 3072^2 float32 matrices


def test_a_failing_child_raises_with_its_last_error_line():
    with pytest.raises(RuntimeError, match='No module named'):
        benchmark.run_module('gluon_nst.no_such_module', [], threads=1)


def test_same_work_is_checked():
    assert benchmark.check_same_work('x', 1.0, 1.0 + 1e-7, 1e-6) < 1e-6
    with pytest.raises(RuntimeError, match='do not do the same work'):
        benchmark.check_same_work('x', 1.0, 1.01, 1e-3)


def test_the_shared_folder_comes_only_from_the_environment(monkeypatch):
    monkeypatch.delenv(benchmark.ENV_SHARED, raising=False)
    with pytest.raises(UserError, match=r'set \$GLUON_NST_SHARED'):
        benchmark.shared_folder('bench style')
    with pytest.raises(UserError, match='WIDTHxHEIGHT'):
        benchmark.parse_size('1024')


@pytest.mark.orchestration
def test_bench_style_d2l_step(shared, capsys):
    from gluon_nst.style import bench
    assert bench.main(['--sizes', '64x48', '--steps', '1', '--threads', '1', '--json']) == 0
    [r] = json.loads(capsys.readouterr().out)['results']
    assert r['program'] == 'ours' and (r['width'], r['height']) == (64, 48)
    assert r['median_step_s'] > 0 and r['peak_rss_mb'] > 100


@needs_torch
@pytest.mark.orchestration
def test_bench_style_gatys_against_torch_lbfgs(shared, capsys):
    from gluon_nst.style import bench
    assert bench.main(['--recipe', 'gatys', '--peers', '--longest-side', '48', '--iterations', '4',
                       '--threads', '1', '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    step, to_loss = report['peers']
    assert step['work'].startswith('L-BFGS iteration 48x') and step['agreement'] < 1e-3
    assert step['ours_s'] > 0 and step['torch_s'] > 0 and step['ratio'] > 0
    assert step['ours_peak_rss_mb'] > 100 and step['torch_peak_rss_mb'] > 100
    assert to_loss['ours_s'] > 0 and to_loss['torch_s'] > 0
    # The same algorithm on the same objective: both runs end near the same loss.
    final = report['final_loss']
    assert abs(final['ours'] - final['torch']) < 0.05 * final['torch']


@needs_torch
@pytest.mark.orchestration
def test_bench_style_gatys_profile_beside_torch(shared, capsys):
    from gluon_nst.style import bench
    assert bench.main(['--recipe', 'gatys', '--peers', '--profile', '64x43', '--iterations', '4',
                       '--threads', '1', '--json']) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry['work'].startswith('L-BFGS iteration 64x')
    # Both sides: VGG-19's convolutions lead, Grams are matrix products, ReLUs and pools seen.
    for side in ('ours', 'torch'):
        groups = entry[side]
        assert {'convolution', 'matmul', 'pooling', 'relu'} <= set(groups), (side, groups)
        assert groups['convolution'] == max(groups.values()) and groups['matmul'] > 0
        assert len(entry[side + '_top']) > 3
    # Ours is printed as one table beside PyTorch's.
    benchmark.print_profile(entry, 'iteration')
    out = capsys.readouterr().out
    assert 'ours ms' in out and 'torch ms' in out and out.count('top operators') == 2


@needs_torch
@pytest.mark.orchestration
def test_bench_srcnn_against_torch_prints_one_table(capsys):
    from gluon_nst.sr import bench
    assert bench.main(['--peers', '--batch', '4', '--steps', '1', '--upscale', '24x16',
                       '--upscale-steps', '1', '--repeats', '1', '--threads', '1']) == 0
    out = capsys.readouterr().out
    assert 'machine fp32 peak (sgemm, 1 thread): ' in out and '1 thread each side' in out
    lines = [line for line in out.splitlines() if line.startswith(('train step', 'upscale'))]
    assert [line.split()[0] for line in lines[:2]] == ['train', 'upscale']
    for line in lines[:2]:
        f = line.split()
        ours, torch, ratio = float(f[-6]), float(f[-5]), float(f[-4].rstrip('x'))
        assert ours > 0 and torch > 0 and ratio == pytest.approx(ours / torch, rel=0.02, abs=0.01)


@pytest.mark.orchestration   # coarse assertions: one thread count is enough
def test_bench_srcnn_without_peers(capsys):
    from gluon_nst.sr import bench
    assert bench.main(['--batch', '4', '--steps', '1', '--infer', '40x30', '--json']) == 0
    r = json.loads(capsys.readouterr().out)
    assert [x['kind'] for x in r['results']] == ['train', 'infer']
    assert all(x['gflops'] > 0 and x['peak_rss_mb'] > 50 for x in r['results'])


def test_the_bench_modules_are_real_modules():
    """No measurement is Python source in a string: every child is a module of the package."""
    import gluon_nst
    root = os.path.dirname(gluon_nst.__file__)
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith('.py'):
                with open(os.path.join(dirpath, name)) as f:
                    text = f.read()
                assert "r'''" not in text and "'-c'" not in text, os.path.join(dirpath, name)


def test_counts_too_small_to_measure_get_one_line(capsys):
    from gluon_nst import cli
    for argv, message in ((['style', '--steps', '0'], '--steps 0: give at least 1'),
                          (['style', '--recipe', 'gatys', '--peers', '--iterations', '2'],
                           '--iterations 2: give at least 4'),
                          (['srcnn', '--repeats', '0'], '--repeats 0: give at least 1')):
        assert cli.main_bench(argv) == 2
        assert capsys.readouterr().err == f'error: {message}\n'
