"""gluon-nst: optimisation-based neural style transfer on MXNet/Gluon (D2L, Gatys et al.).

Importing the package before MXNet makes MXNet use every core (it reads
OMP_NUM_THREADS only once, at import); set OMP_NUM_THREADS to override.
"""
import sys as _sys

from .runtime import configure_threads as _configure_threads

if 'mxnet' not in _sys.modules:
    _configure_threads()

__version__ = '0.1.0'


def stylize(*args, **kwargs):
    """See gluon_nst.engine.stylize."""
    from .engine import stylize as _stylize
    return _stylize(*args, **kwargs)
