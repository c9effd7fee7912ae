"""gluon-nst: image stylisation on MXNet/Gluon, one tool with several methods
(style, dream, fast, srcnn: one subpackage each, see gluon_nst/methods.py).

Importing the package sets nothing: a run sets its threads before MXNet is
imported (gluon_nst/runtime.py, `configure_threads`).
"""
__version__ = '0.2.0'


def stylize(*args, **kwargs):
    """Style transfer in one call: see gluon_nst.style.engine.stylize."""
    from .style.engine import stylize as _stylize
    return _stylize(*args, **kwargs)
