"""Threads: one rule (gluon_nst/runtime.py), applied by a run, never by an import."""
import os
import subprocess
import sys

from gluon_nst import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_thread_count_is_the_config_then_the_environment_then_every_core(monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    assert runtime.thread_count(5) == 5
    assert runtime.thread_count(0) == 3
    monkeypatch.delenv('OMP_NUM_THREADS')
    assert runtime.thread_count(0) == runtime.cpu_count()


def test_importing_the_package_sets_no_thread_variable():
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'MXNET_CPU_WORKER_NTHREADS', 'MXNET_CPU_TEMP_COPY')}
    env['PYTHONPATH'] = ROOT
    code = ('import os, gluon_nst, gluon_nst.style, gluon_nst.run; '
            'print([k for k in ("OMP_NUM_THREADS", "MXNET_CPU_TEMP_COPY") if k in os.environ])')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == '[]'
    code = ('import os; from gluon_nst import runtime; n = runtime.configure_threads(2); '
            'print(n, os.environ["OMP_NUM_THREADS"], os.environ["MXNET_CPU_TEMP_COPY"])')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ['2', '2', '1']


def test_too_late_reports_the_count_mxnet_took_and_warns():
    """MXNet imported first (as a notebook might): its own default (half the cores on x86,
    or OMP_NUM_THREADS) is what record.json must report, with a warning saying the fix."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'MXNET_OMP_MAX_THREADS', 'MXNET_CPU_WORKER_NTHREADS')}
    env['PYTHONPATH'] = ROOT
    code = ('import warnings, mxnet; from gluon_nst import runtime; '
            'warnings.simplefilter("always"); '
            'print(runtime.configure_threads(3), runtime.mxnet_thread_count())')
    run = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True)
    used, expected = run.stdout.split()
    assert used == expected
    assert f'it runs on {used} thread(s), not 3' in run.stderr
    assert 'before the first import of mxnet' in run.stderr
    env['OMP_NUM_THREADS'] = '3'        # as asked: no warning
    run = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == ['3', '3'] and 'RuntimeWarning' not in run.stderr
