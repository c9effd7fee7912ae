"""The methods of the tool and the small surface each one exposes.

A method is a subpackage (style, dream, fast, sr) whose `METHOD` object is a
`Method`: its config schema (keys and defaults, one source), its cross-key
checks, its losses.csv columns with their number formats, and `open(cfg)`,
which loads what a run needs (bad input fails here, before a run folder
exists) and returns a `Job`.  A job's engine yields `Iterate` records (numbers
only); `Job.steps()` turns them into `methods.Step`s, and the run folder
(`run.py`) writes them, formatting the numbers for losses.csv in one place
(`Method.format_row`).  The CLI and the sweeps consume the same steps,
whatever the method.  The recipe for a new method is in the development docs;
it touches only its own subpackage and one line of `PACKAGES` (or a
`register` call).
"""
import importlib
import math
from dataclasses import dataclass

from .errors import RunFailed, UserError

# config `method:` value -> subpackage of gluon_nst (imported on use, so a run loads only its own).
PACKAGES = {'style': 'style', 'fast': 'fast', 'srcnn': 'sr', 'dream': 'dream'}
REGISTERED = {}          # method -> module path of a method outside the package (`register`)


def names():
    return list(PACKAGES) + list(REGISTERED)


def register(name, module):
    """Make the module `module` (full path; its METHOD object) the method `name`
    (`method: NAME` in a config), for a method that lives outside gluon_nst."""
    REGISTERED[name] = module


def get(name):
    if name not in names():
        import difflib
        near = difflib.get_close_matches(str(name), names(), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ''
        raise UserError(f"config key 'method': unknown method {name!r}{hint} "
                        f"(methods: {', '.join(names())})")
    module = REGISTERED.get(name) or f'{__package__}.{PACKAGES[name]}'
    return importlib.import_module(module).METHOD


def cell(value, spec=''):
    """One losses.csv cell: a number by its format spec; None or NaN: empty; text as is."""
    if value is None or isinstance(value, str):
        return value or ''
    if isinstance(value, float) and math.isnan(value):
        return ''
    return format(value, spec)


class Method:
    """A method's surface, given as keyword arguments (see style/__init__.py)."""
    name = None
    schema = {}                  # config keys -> config.Field (common keys included)
    job = None                   # Job class: job(cfg) loads what a run needs
    columns = {}                 # losses.csv column -> format spec of its numbers, in order
    summary = []                 # the final-row columns a sweep's results.csv lists
    curve = None                 # the column a sweep plots against step and time
    phase_column = None          # the column whose value changes at a new phase (stage...)
    output_patterns = ()         # this method's own files in a run folder (--overwrite)

    def __init__(self, **attributes):
        for key, value in attributes.items():
            if not hasattr(type(self), key):
                raise TypeError(f'Method has no attribute {key!r}')
            setattr(self, key, value)
        if not isinstance(self.columns, dict):          # a list: values written as given
            self.columns = dict.fromkeys(self.columns, '')

    def check(self, cfg):
        """Cross-key validation after every key passed its own (raise UserError)."""

    def open(self, cfg):
        """Load inputs and networks for `cfg` (bad input fails here); return a Job."""
        return self.job(cfg)

    def format_row(self, row):
        """losses.csv text of a step's numbers: the one place numbers become strings."""
        return {column: cell(row.get(column), spec) for column, spec in self.columns.items()}


@dataclass
class Step:
    """One step of any method, as the run folder records it."""
    row: dict                      # losses.csv values of the method's columns, as numbers
    phase: int                     # stage / octave / epoch: a new phase restarts `seconds`
    index: int                     # step within the phase (0: includes building the graph)
    seconds: float                 # since the phase started, at the end of this step
    work: float = 1.0              # progress units this step did
    desc: str = ''                 # progress bar: where the run is
    label: str = ''                # --quiet log line: where the run is (default: desc)
    text: str = ''                 # progress bar: the current values
    log: bool = False              # with --quiet, print this step
    image: object = None           # uint8 RGB: the last good image so far
    save_as: tuple = ()            # file names to write `image` to now
    phase_end: bool = False        # the last step of its phase (the record is refreshed)


class Iterate:
    """What an engine yields per step: numbers, never text.  A method's record is a
    dataclass with its losses.csv columns as fields or properties, and these
    (fields or properties; not defined here, so that a dataclass's field order is its own):

    phase    stage / octave / epoch (1-based): a new phase restarts `seconds`
    index    step within the phase (0: includes building the graph)
    seconds  since the phase started, at the end of this step
    image    the image so far in the engine's own form (Job.picture makes it uint8), or None
    end      the last step of its phase

    `phase` and `index` may instead be other fields, named by PHASE and INDEX.
    """
    PHASE = INDEX = None         # e.g. 'stage', 'step'

    @property
    def phase(self):
        return getattr(self, self.PHASE)

    @property
    def index(self):
        return getattr(self, self.INDEX)

    def row(self, columns):
        """The values of `columns` (the method's), as numbers."""
        return {c: getattr(self, c, None) for c in columns}


class Job:
    """One run of a method.  `Method.open(cfg)` builds it: `open_session(cfg)` loads what
    the run needs (a Session with .ctx and .threads); the run folder then asks for:"""
    total_work = 0               # progress units of the whole run (e.g. pixel-steps)
    run_dir = None               # the run folder, set by run.train before steps() (checkpoints)
    device = 'cpu'
    threads = 1
    session = None

    def __init__(self, cfg):
        self.cfg = cfg
        self.session = self.open_session(cfg)
        if self.session is not None:
            self.device, self.threads = self.session.ctx, self.session.threads
        self.total_work = self.work()

    def open_session(self, cfg):
        """What the run needs, loaded and checked (bad input raises UserError here)."""
        return None

    def work(self):
        """Progress units of the whole run (the progress bar's total)."""
        return 0

    def iterates(self):
        """The engine's Iterate records, in order."""
        raise NotImplementedError

    def present(self, it, count):
        """How the run folder shows iterate `it` (the `count`-th of the run): a dict of
        methods.Step's desc, label, text, log, save_as and work."""
        return {}

    def picture(self, image):
        """uint8 RGB of an engine's image (an Iterate's, or a RunFailed's last good one)."""
        return image

    def steps(self):
        """Yield methods.Step objects; raise errors.RunFailed (with .image) to stop."""
        columns = get(self.cfg['method']).columns
        try:
            for count, it in enumerate(self.iterates(), 1):
                image = None if it.image is None else self.picture(it.image)
                yield Step(it.row(columns), it.phase, it.index, it.seconds, image=image,
                           phase_end=it.end, **self.present(it, count))
        except RunFailed as e:
            if getattr(e, 'image', None) is not None:
                e.image = self.picture(e.image)
            raise

    def record(self):
        """Method-specific fields for record.json (settings in force, weights...)."""
        return {}

    def sheet(self, result, status):
        """(images, titles) of the summary sheet for the result image."""
        return [result], [status]

    def plot(self, rows, path, title):
        """Curves of losses.csv rows into `path`."""
