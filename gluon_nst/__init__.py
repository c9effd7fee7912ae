"""gluon-nst: image stylisation on MXNet/Gluon, one tool with several methods
(style: Gatys / D2L style transfer; more arrive as subpackages).

Importing the package before MXNet makes MXNet use every core (it reads
OMP_NUM_THREADS only once, at import); set OMP_NUM_THREADS to override.
"""
import sys as _sys

from .runtime import configure_threads as _configure_threads

if 'mxnet' not in _sys.modules:
    _configure_threads()

__version__ = '0.2.0'


def stylize(*args, **kwargs):
    """Style transfer in one call: see gluon_nst.style.engine.stylize."""
    from .style.engine import stylize as _stylize
    return _stylize(*args, **kwargs)
