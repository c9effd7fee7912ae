"""The methods of the tool and the small surface each one exposes.

A method is a subpackage (style, dream, fast, sr) whose `METHOD` object is a
`Method`: its config schema (keys and defaults, one source), its cross-key
checks, and `open(cfg)`, which loads what a run needs (bad input fails here,
before a run folder exists) and returns a `Job`.  A job's `steps()` is a
generator of `run.Step`s; the shared run folder (`run.py`), the CLI and the
sweeps consume it, whatever the method.
"""
import importlib

from .errors import UserError

# config `method:` value -> subpackage (imported on use, so a run loads only its own).
PACKAGES = {'style': 'style', 'fast': 'fast', 'srcnn': 'sr', 'dream': 'dream'}


def names():
    return list(PACKAGES)


def get(name):
    if name not in PACKAGES:
        import difflib
        near = difflib.get_close_matches(str(name), names(), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ''
        raise UserError(f"config key 'method': unknown method {name!r}{hint} "
                        f"(methods: {', '.join(names())})")
    return importlib.import_module(f'{__package__}.{PACKAGES[name]}').METHOD


class Method:
    """A method's surface, given as keyword arguments (see style/__init__.py)."""
    name = None
    schema = {}                  # config keys -> config.Field (common keys included)
    job = None                   # Job class: job(cfg) loads what a run needs
    columns = []                 # losses.csv columns, in order
    summary = []                 # the final-row columns a sweep's results.csv lists
    curve = None                 # the column a sweep plots against step and time
    phase_column = None          # the column whose value changes at a new phase (stage...)
    output_patterns = ()         # this method's own files in a run folder (--overwrite)

    def __init__(self, **attributes):
        for key, value in attributes.items():
            if not hasattr(type(self), key):
                raise TypeError(f'Method has no attribute {key!r}')
            setattr(self, key, value)

    def check(self, cfg):
        """Cross-key validation after every key passed its own (raise UserError)."""

    def open(self, cfg):
        """Load inputs and networks for `cfg` (bad input fails here); return a Job."""
        return self.job(cfg)


class Job:
    """One run of a method.  The run folder asks it for:"""
    total_work = 0               # progress units of the whole run (e.g. pixel-steps)
    run_dir = None               # the run folder, set by run.train before steps() (checkpoints)
    device = 'cpu'
    threads = 1

    def steps(self):
        """Yield run.Step objects; raise errors.RunFailed (with .image) to stop."""
        raise NotImplementedError

    def record(self):
        """Method-specific fields for record.json (settings in force, weights...)."""
        return {}

    def sheet(self, result, status):
        """(images, titles) of the summary sheet for the result image."""
        return [result], [status]

    def plot(self, rows, path, title):
        """Curves of losses.csv rows into `path`."""
