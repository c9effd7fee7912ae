"""Shared fixtures.  Tests that need ../shared (real weights, the book's images)
skip with a message saying so when it is missing, and fail under CI.

Every test that uses one of the SHARED_FIXTURES (directly or through another
fixture) is marked `shared`, so `pytest -m "not shared"` runs anywhere.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from gluon_nst import runtime  # noqa: E402

runtime.configure_threads()          # before a test module imports MXNet (as a run does)

SHARED = os.environ.get('GLUON_NST_SHARED', os.path.join(ROOT, '..', 'shared'))
# Library code finds the shared data only through this variable (benchmarks' defaults).
os.environ.setdefault('GLUON_NST_SHARED', SHARED)
SHARED_FIXTURES = {'shared', 'vgg_h5', 'googlenet_weights', 'd2l'}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.shared)


def _need(path):
    if os.path.exists(path):
        return path
    msg = f'needs {path} (the shared weights and book assets; set GLUON_NST_SHARED)'
    if os.environ.get('CI'):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope='session')
def shared():
    return _need(SHARED)


@pytest.fixture(scope='session')
def vgg_h5(shared):
    return _need(os.path.join(shared, 'weights', 'vgg19',
                              'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'))


@pytest.fixture(scope='session')
def googlenet_weights(shared):
    """The weights folder holding googlenet/ (BVLC GoogLeNet, raw files + SHA256SUMS)."""
    path = os.path.join(shared, 'weights')
    _need(os.path.join(path, 'googlenet', 'SHA256SUMS'))
    return path


@pytest.fixture(scope='session')
def d2l(shared):
    return _need(os.path.join(shared, 'd2l'))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # One converted-weights cache for the whole session, never the user's.
    cache = tmp_path_factory.getbasetemp() / 'gluon_nst_home'
    cache.mkdir(exist_ok=True)
    monkeypatch.setenv('GLUON_NST_HOME', str(cache))
    monkeypatch.delenv('GLUON_NST_WEIGHTS', raising=False)


def default_sigint():
    """preexec_fn for a child that a test stops with SIGINT: a shell that starts a job
    in the background (`cmd &`) sets SIGINT to ignored, the child would inherit that,
    and Python installs no KeyboardInterrupt handler for an ignored SIGINT."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
