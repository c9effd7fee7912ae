"""A run folder: the resolved config, losses.csv, images, plots and the record.

Everything is written as the run goes (losses flushed per row, images at
every stage end and `save_every`), so an interrupted or failing run keeps
its last good image, its logs and its record.
"""
import csv
import glob
import itertools
import json
import math
import os
import sys
import time

from . import config as config_mod
from . import runtime
from .errors import RunFailed, RunInterrupted, UserError, interrupt_exit_code

CSV_FIELDS = ['stage', 'step', 'lr', 'content', 'style', 'tv', 'total', 'seconds']
# Exactly the files a run writes: --overwrite removes these and nothing else.
OUTPUT_PATTERNS = ('stage[0-9].png', 'stage[0-9][0-9].png', 'stage[0-9]*_step[0-9]*.png',
                   'result.png', 'losses.csv', 'losses.png', 'sheet.png', 'record.json',
                   'config.yaml', 'report.md', 'report.png')


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
        for pattern in OUTPUT_PATTERNS:          # no stale outputs of an earlier run
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
    """Work per second over the steps after each stage's first.

    A stage's first step includes building and compiling its graph (seconds for a
    step that then takes a fraction of one), so counting it made the first ETA of a
    2-minute run read 23 minutes.  Until a stage's second step is read the rate is
    unknown (0: tqdm shows '?').
    """

    def __init__(self):
        self.work, self.spans = 0.0, {}

    def add(self, stage, step, seconds, work):
        """seconds: since the stage started, at the end of this step."""
        if step == 0:
            self.spans[stage] = [seconds, seconds]
            return
        self.spans.setdefault(stage, [0.0, 0.0])[1] = seconds
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

    # Progress counts pixel-steps: a step costs about its stage's pixel count,
    # so the ETA holds across coarse-to-fine stages.
    return Bar(total=total, dynamic_ncols=True, file=stream,
               bar_format='{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]')


class Recorder:
    """Per-iteration callback: CSV, progress, images; `finish` writes the rest."""

    def __init__(self, run_dir, cfg, session, quiet=False, stream=None):
        self.dir, self.cfg, self.session, self.quiet = run_dir, cfg, session, quiet
        self.stream = stream or sys.stderr
        self.rows, self.stage_seconds, self.last_image = [], {}, None
        self.started = time.time()
        self.convention = cfg['preprocess']['convention']
        with open(self.path('config.yaml'), 'w') as f:
            f.write(config_mod.dump(cfg))
        self.csv_file = open(self.path('losses.csv'), 'w', newline='')
        self.csv = csv.DictWriter(self.csv_file, CSV_FIELDS)
        self.csv.writeheader()
        self.total_steps = sum(st.epochs for st in session.stages)
        self.bar, self.steady = None, SteadyRate()
        if not quiet:
            self.bar = _progress_bar(sum(st.epochs * st.width * st.height for st in session.stages),
                                     self.stream, self.steady)
        self.write_record('running')

    def path(self, name):
        return os.path.join(self.dir, name)

    def __call__(self, it):
        from .image_io import postprocess, save_png, to_uint8
        lr = '' if math.isnan(it.lr) else f'{it.lr:.6g}'          # L-BFGS has no lr
        row = dict(stage=it.stage, step=it.step, lr=lr, content=f'{it.content:.6g}',
                   style=f'{it.style:.6g}', tv=f'{it.tv:.6g}', total=f'{it.total:.6g}',
                   seconds=f'{it.seconds:.3f}')
        self.csv.writerow(row)
        self.rows.append(row)
        stage = self.session.stages[it.stage - 1]
        if it.image is not None:
            self.csv_file.flush()
            self.last_image = to_uint8(postprocess(it.image, self.convention))
            self.stage_seconds[it.stage] = round(it.seconds, 3)
            every = self.cfg['output']['save_every']
            if every and (it.step + 1) % every == 0 and it.step != stage.epochs - 1:
                save_png(self.last_image, self.path(f'stage{it.stage}_step{it.step + 1:05d}.png'))
            if it.step == stage.epochs - 1:
                save_png(self.last_image, self.path(f'stage{it.stage}.png'))
                self.write_record('running')
        self.steady.add(it.stage, it.step, it.seconds, stage.width * stage.height)
        text = f'c {it.content:.3g} s {it.style:.3g} tv {it.tv:.3g}'
        if self.bar is not None:
            self.bar.set_description(f'stage {it.stage}/{len(self.session.stages)} '
                                     f'{stage.width}x{stage.height} step {len(self.rows)}/'
                                     f'{self.total_steps}', refresh=False)
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(stage.width * stage.height)
            if it.image is not None:
                # Steps between two syncs arrive together; tqdm would show the first.
                self.bar.refresh()
        elif (it.step % self.cfg['output']['log_every'] == 0) or it.step == stage.epochs - 1:
            print(f'stage {it.stage} step {it.step:5d} lr {lr or "-"} {text} '
                  f'({it.seconds:.1f} s)', file=self.stream, flush=True)

    def write_record(self, status, error=None):
        s = self.session
        record = dict(
            status=status, error=error, command=' '.join(sys.argv),
            started=time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(self.started)),
            wall_seconds=round(time.time() - self.started, 3),
            stage_seconds=self.stage_seconds, steps_done=len(self.rows),
            stages=[dict(index=st.index, width=st.width, height=st.height, epochs=st.epochs,
                         lr=st.lr) for st in s.stages],
            device=str(s.ctx), threads=s.threads, seed=self.cfg['seed'],
            weights=s.weights_record,
            feature_scales=[s.spec_for(st)['feature_scales'] for st in s.stages],
            peak_rss_mb=round(runtime.peak_rss_mb(), 1), versions=runtime.versions())
        tmp = self.path('record.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=2, default=str)
        os.replace(tmp, self.path('record.json'))

    def finish(self, status, error=None):
        from . import plots
        from .image_io import save_png
        if self.bar is not None:
            self.bar.close()
        self.csv_file.close()
        if self.last_image is not None:
            save_png(self.last_image, self.path('result.png'))
        try:
            if self.rows:
                plots.loss_curves(self.rows, self.path('losses.png'), self.cfg['name'] or '')
            if self.last_image is not None:
                plots.figure_sheet([self.session.content, self.session.style, self.last_image],
                                   ['content', 'style', 'result' if status == 'finished'
                                    else f'result ({status})'], self.path('sheet.png'))
        finally:
            self.write_record(status, error)


def train(cfg, quiet=False, overwrite=False, stream=None):
    """Run a config into a run folder; returns the folder.  Raises UserError on failure
    after the outputs are written."""
    from .engine import Session, iterate
    from .optimize import NonFiniteLoss
    session = Session(cfg)
    run_dir = make_run_dir(cfg, overwrite)
    rec = Recorder(run_dir, cfg, session, quiet, stream)
    try:
        for it in iterate(cfg, session):
            rec(it)
    except KeyboardInterrupt as e:
        rec.finish('interrupted', 'stopped by the user (Ctrl-C or SIGTERM)')
        kept = 'the last good image and the logs are' if rec.last_image is not None else \
            'stopped before the first image was kept; the logs are'
        raise RunInterrupted(f'interrupted: {kept} in {run_dir}', interrupt_exit_code(e)) from None
    except NonFiniteLoss as e:
        if getattr(e, 'image', None) is not None:
            from .image_io import postprocess, to_uint8
            rec.last_image = to_uint8(postprocess(e.image, rec.convention))
        rec.finish('failed', str(e))
        raise RunFailed(f'{e}; outputs in {run_dir}') from None
    except Exception as e:             # out of memory surfaces as MXNetError or MemoryError
        text = str(e).lower()
        if isinstance(e, MemoryError) or 'out of memory' in text or 'bad_alloc' in text:
            msg = 'out of memory: use a smaller image_shape or device: cpu'
            rec.finish('failed', msg)
            raise RunFailed(f'{msg}; the last good image and logs are in {run_dir}') from None
        rec.finish('failed', f'{e.__class__.__name__}: {e}')
        raise
    rec.finish('finished')
    return run_dir
