"""gluon-nst: optimisation-based neural style transfer on MXNet/Gluon (D2L, Gatys et al.).

Importing the package before MXNet makes MXNet use every core (it reads
OMP_NUM_THREADS only once, at import); set OMP_NUM_THREADS to override.
"""
import os as _os

from .runtime import cpu_count as _cpu_count

if 'OMP_NUM_THREADS' not in _os.environ:
    import sys as _sys
    if 'mxnet' not in _sys.modules:
        _os.environ['OMP_NUM_THREADS'] = str(_cpu_count())

__version__ = '0.1.0'


def stylize(*args, **kwargs):
    """See gluon_nst.engine.stylize."""
    from .engine import stylize as _stylize
    return _stylize(*args, **kwargs)
