"""Pretrained networks behind the hash-checked model store: `get_model(name, ...)`.

Each network is a module here (vgg19, and as methods arrive googlenet,
magenta, srcnn); `store` finds, verifies, downloads and caches their files.
"""
import difflib
import importlib

from ..errors import UserError

# name -> module whose get_model(**kwargs) builds the network (imported on use).
REGISTRY = {'vgg19': 'vgg19', 'googlenet': 'googlenet', 'magenta': 'magenta', 'srcnn': 'srcnn'}


def get_model(name, **kwargs):
    """The network `name` with its verified weights: returns (net, record)."""
    if name not in REGISTRY:
        near = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f'; did you mean {near[0]!r}?' if near else ''
        raise UserError(f'unknown model {name!r}{hint} (available: {", ".join(sorted(REGISTRY))})')
    module = importlib.import_module(f'{__name__}.{REGISTRY[name]}')
    return module.get_model(**kwargs)
