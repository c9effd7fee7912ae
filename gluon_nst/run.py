"""A run folder, for every method: the resolved config, losses.csv, images,
plots, the sheet and record.json, with a progress bar.

A method's job yields `Step`s; the `Recorder` writes them as the run goes
(rows formatted by the method's columns and flushed at every image, images at
every `save_as`), so an interrupted
or failing run keeps its last good image, its logs and its record.
"""
import contextlib
import csv
import glob
import itertools
import json
import os
import sys
import time

from . import config as config_mod
from . import methods, runtime
from .errors import RunFailed, RunInterrupted, UserError, interrupt_exit_code

# The files every run writes; a method adds its own (Method.output_patterns).
# --overwrite removes these and nothing else.
COMMON_OUTPUTS = ('result.png', 'losses.csv', 'losses.png', 'sheet.png', 'record.json',
                  'config.yaml')


def _make_output_dir(path, **kwargs):
    try:
        os.makedirs(path, **kwargs)
    except (PermissionError, NotADirectoryError, FileNotFoundError) as e:
        raise UserError(f'cannot create the output folder {path} ({e.strerror}): '
                        'choose another --output') from None


def make_run_dir(cfg, overwrite=False, root='runs'):
    """Create the run folder; never reuse a non-empty one silently."""
    explicit = cfg['output']['dir']
    if explicit:
        if os.path.isfile(explicit):
            raise UserError(f'output folder {explicit} is a file: choose another output.dir')
        if os.path.isdir(explicit) and os.listdir(explicit) and not overwrite:
            raise UserError(f'output folder {explicit} exists and is not empty: pass --overwrite '
                            'or choose another --output')
        _make_output_dir(explicit, exist_ok=True)
        patterns = COMMON_OUTPUTS + tuple(methods.get(cfg['method']).output_patterns)
        for pattern in patterns:                 # no stale outputs of an earlier run
            for old in glob.glob(os.path.join(explicit, pattern)):
                os.remove(old)
        return explicit
    base = os.path.join(root, cfg['name'] or 'run')
    for n in itertools.count(1):
        path = base if n == 1 else f'{base}-{n}'
        try:
            _make_output_dir(path)              # atomic: parallel runs never share a folder
            return path
        except FileExistsError:
            continue


class SteadyRate:
    """Work per second over the steps after each phase's first.

    A phase's first step includes building and compiling its graph (seconds for a
    step that then takes a fraction of one), so counting it made the first ETA of a
    2-minute run read 23 minutes.  Until a phase's second step is read the rate is
    unknown (0: tqdm shows '?').
    """

    def __init__(self):
        self.work, self.spans = 0.0, {}

    def add(self, phase, step, seconds, work):
        """seconds: since the phase started, at the end of this step."""
        if step == 0:
            self.spans[phase] = [seconds, seconds]
            return
        self.spans.setdefault(phase, [0.0, 0.0])[1] = seconds
        self.work += work

    @property
    def rate(self):
        elapsed = sum(end - start for start, end in self.spans.values())
        return self.work / elapsed if self.work and elapsed > 0 else 0.0


def _progress_bar(total, stream, steady):
    from tqdm import tqdm

    class Bar(tqdm):
        @property
        def format_dict(self):
            d = super().format_dict
            d['rate'] = steady.rate           # the ETA from steady steps only
            return d

    return Bar(total=total, dynamic_ncols=True, file=stream,
               bar_format='{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]')


class Recorder:
    """Consumes a job's steps: CSV, progress, images; `finish` writes the rest."""

    def __init__(self, run_dir, cfg, job, quiet=False, stream=None):
        self.dir, self.cfg, self.job, self.quiet = run_dir, cfg, job, quiet
        self.method = methods.get(cfg['method'])
        self.columns = list(self.method.columns)
        self.stream = stream or sys.stderr
        self.rows, self.last_image, self.phase_seconds = [], None, {}
        self.quality = None            # the job's score of the finished result (quality.py)
        self.started = time.time()
        with open(self.path('config.yaml'), 'w') as f:
            f.write(config_mod.dump(cfg))
        self.csv_file = open(self.path('losses.csv'), 'w', newline='')
        self.csv = csv.DictWriter(self.csv_file, self.columns)
        self.csv.writeheader()
        self.bar, self.steady = None, SteadyRate()
        if not quiet:
            self.bar = _progress_bar(job.total_work, self.stream, self.steady)
        self.write_record('running')

    def path(self, name):
        return os.path.join(self.dir, name)

    def __call__(self, step):
        from .image_io import save_png
        row = self.method.format_row(step.row)
        self.csv.writerow(row)
        self.rows.append(row)
        self.steady.add(step.phase, step.index, step.seconds, step.work)
        self.phase_seconds[step.phase] = round(step.seconds, 3)
        if step.image is not None:
            self.csv_file.flush()
            self.last_image = step.image
            for name in step.save_as:
                save_png(step.image, self.path(name))
        if step.phase_end:
            self.write_record('running')
        if self.bar is not None:
            self.bar.set_description(step.desc, refresh=False)
            self.bar.set_postfix_str(step.text, refresh=False)
            self.bar.update(step.work)
            if step.image is not None:
                # Steps between two syncs arrive together; tqdm would show the first.
                self.bar.refresh()
        elif step.log:
            print(f'{step.label or step.desc} {step.text} ({step.seconds:.1f} s)',
                  file=self.stream, flush=True)

    def write_record(self, status, error=None):
        job = self.job
        record = dict(
            method=self.cfg['method'], status=status, error=error, command=' '.join(sys.argv),
            started=time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(self.started)),
            wall_seconds=round(time.time() - self.started, 3),
            steps_done=len(self.rows),
            **{f'{self.method.phase_column}_seconds': self.phase_seconds},
            device=str(job.device), threads=job.threads, seed=self.cfg['seed'],
            **job.record(),
            **({'quality': self.quality} if self.quality is not None else {}),
            peak_rss_mb=round(runtime.peak_rss_mb(), 1), versions=runtime.versions())
        tmp = self.path('record.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=2, default=str)
        os.replace(tmp, self.path('record.json'))

    def finish(self, status, error=None):
        with _signals_held():
            self._finish(status, error)

    def _finish(self, status, error=None):
        from . import plots
        from .image_io import save_png
        if self.bar is not None:
            self.bar.close()
        self.csv_file.close()
        if self.last_image is not None:
            save_png(self.last_image, self.path('result.png'))
        try:
            if self.rows:
                self.job.plot(self.rows, self.path('losses.png'), self.cfg['name'] or '')
            if self.last_image is not None:
                images, titles = self.job.sheet(self.last_image, 'result' if status == 'finished'
                                                else f'result ({status})')
                plots.figure_sheet(images, titles, self.path('sheet.png'))
        finally:
            self.write_record(status, error)


@contextlib.contextmanager
def _signals_held():
    """A second Ctrl-C (or SIGTERM) while the outputs are written would lose them: it
    is noted and dropped, since the run is stopping or has finished anyway."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = [signal.SIGINT, signal.SIGTERM]
    previous = {s: signal.signal(s, lambda signum, frame: None) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def train(cfg, quiet=False, overwrite=False, stream=None, callback=None):
    """Run a config of any method into a run folder; returns the folder.

    callback(step): called with every `Step` after the run folder recorded it (e.g.
    gluon_nst.notebook.live() in Jupyter).

    Bad input raises UserError before the folder exists.  A run that stops raises
    RunInterrupted or RunFailed after its outputs (last good image, logs, record)
    are written."""
    job = methods.get(cfg['method']).open(cfg)
    run_dir = make_run_dir(cfg, overwrite)
    job.run_dir = run_dir
    rec = Recorder(run_dir, cfg, job, quiet, stream)
    try:
        for step in job.steps():
            rec(step)
            if callback is not None:
                callback(step)
    except KeyboardInterrupt as e:
        rec.finish('interrupted', 'stopped by the user (Ctrl-C or SIGTERM)')
        kept = 'the last good image and the logs are' if rec.last_image is not None else \
            'stopped before the first image was kept; the logs are'
        raise RunInterrupted(f'interrupted: {kept} in {run_dir}', interrupt_exit_code(e)) from None
    except RunFailed as e:
        if getattr(e, 'image', None) is not None:
            rec.last_image = e.image
        rec.finish('failed', str(e))
        raise RunFailed(f'{e}; outputs in {run_dir}') from None
    except Exception as e:             # out of memory surfaces as MXNetError or MemoryError
        text = str(e).lower()
        if isinstance(e, MemoryError) or 'out of memory' in text or 'bad_alloc' in text:
            msg = 'out of memory: use a smaller image size or device: cpu'
            rec.finish('failed', msg)
            raise RunFailed(f'{msg}; the last good image and logs are in {run_dir}') from None
        rec.finish('failed', f'{e.__class__.__name__}: {e}')
        raise
    score = getattr(job, 'quality', None)     # a method that can score its result
    if score is not None and rec.last_image is not None:
        try:
            rec.quality = score(rec.last_image)
        except KeyboardInterrupt:     # the result is complete: keep it, without a score
            pass
    rec.finish('finished')
    return run_dir
