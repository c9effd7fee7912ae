"""Hyperparameter sweeps: a grid (and zipped lists) of overrides of a base config.

A sweep file (configs/sweeps/example.yaml has every field), for a config of
any method:

    base: ../rainier.yaml            # relative to the sweep file
    set:                             # overrides for every run
      stages.1.steps: 100
    grid:                            # every combination
      loss.style_weight: [1.0e+2, 1.0e+3, 1.0e+4]
      loss.tv_weight: [0, 10]
    zip:                             # advanced together, crossed with the grid
      layers.content: [[21], [25]]
      loss.content_weight: [1, 2]

Each run is a process of `gluon-nst train` with `--set` overrides, so runs
never share MXNet state; threads are split so the cores are not
oversubscribed.  Runs land in `<out>/<NNN>-<slug>/`; one whose record says
'finished' is never run again, so an interrupted sweep continues where it
stopped.  A failing run is recorded with its error and the others go on.
"""
import csv
import itertools
import json
import os
import re
import subprocess
import sys
import time

import yaml

from . import config as config_mod
from . import methods
from .errors import UserError
from .runtime import cpu_count

# The folder holding the gluon_nst package: runs import this copy, installed or not.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP_KEYS = {'base', 'set', 'grid', 'zip', 'name'}


def plural(n, noun):
    return f'{n} {noun}' if n == 1 else f'{n} {noun}s'


def load_sweep(path, extra_sets=()):
    """Return (name, base config path, fixed overrides, list of per-run override dicts)."""
    spec = config_mod.read_yaml(path, 'sweep file')
    unknown = set(spec) - SWEEP_KEYS
    if unknown:
        raise UserError(f'sweep file {path}: unknown key(s) {sorted(unknown)}; '
                        f'valid: {sorted(SWEEP_KEYS)}')
    if 'base' not in spec:
        raise UserError(f"sweep file {path}: 'base' (the config to sweep) is required")
    base = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), spec['base']))
    for section in ('set', 'grid', 'zip'):
        if not isinstance(spec.get(section) or {}, dict):
            raise UserError(f"sweep file {path}: '{section}' must map config keys to values")
    fixed = dict(spec.get('set') or {})
    last = dict(config_mod.parse_override(s) for s in extra_sets)
    grid = spec.get('grid') or {}
    zipped = spec.get('zip') or {}
    for section, d in (('grid', grid), ('zip', zipped)):
        for k, v in d.items():
            if not isinstance(v, list) or not v:
                raise UserError(f"sweep file {path}: '{section}.{k}' must be a non-empty list")
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise UserError(f"sweep file {path}: the 'zip' lists have different lengths "
                        f"{sorted(lengths)}; give them one length")
    grid_runs = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    zip_runs = [dict(zip(zipped, combo)) for combo in zip(*zipped.values())] or [{}]
    runs = [{**g, **z} for g in grid_runs for z in zip_runs]
    name = spec.get('name') or os.path.splitext(os.path.basename(path))[0]
    # Validate every run's config now: a typo fails before any work starts.
    for r in runs:
        config_mod.load(base, _pairs(fixed) + _pairs(r) + _pairs(last))
    return name, base, (fixed, last), runs


def _pairs(d):
    return [(k, v) for k, v in d.items()]


def _fmt(v):
    return yaml.safe_dump(v, default_flow_style=True).strip().replace('\n...', '')


def slug(overrides):
    text = '_'.join(f'{k.split(".")[-1]}={_fmt(v)}' for k, v in overrides.items()) or 'base'
    return re.sub(r'[^A-Za-z0-9_.=+-]+', '', text)[:80]


def run_dirs(out, runs):
    return [os.path.join(out, f'{i:03d}-{slug(r)}') for i, r in enumerate(runs)]


def status_of(run_dir):
    try:
        with open(os.path.join(run_dir, 'record.json')) as f:
            rec = json.load(f)
        return rec.get('status'), rec
    except (OSError, ValueError):
        return None, {}


def command(base, fixed, overrides, run_dir, threads):
    """The sweep's own overrides, then the run's, then the command line's (last wins)."""
    first, last = fixed
    cmd = [sys.executable, '-m', 'gluon_nst', 'train', base, '--quiet', '--overwrite', '-o', run_dir,
           '--set', f'threads={threads}']
    for k, v in list(first.items()) + list(overrides.items()) + list(last.items()):
        cmd += ['--set', f'{k}={_fmt(v)}']
    return cmd


def _overrides_of(cmd):
    """The --set values of a command except threads (they do not change results)."""
    sets = [cmd[i + 1] for i, a in enumerate(cmd) if a == '--set']
    return [s for s in sets if not s.startswith('threads=')]


def _recorded_overrides(run_dir):
    try:
        with open(os.path.join(run_dir, 'sweep.json')) as f:
            return json.load(f)['overrides']
    except (OSError, ValueError, KeyError):
        return None


def run_one(cmd, run_dir):
    """Run one training process; returns (status, error text)."""
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, 'sweep.json'), 'w') as f:     # what this run is
        json.dump({'overrides': _overrides_of(cmd)}, f, indent=1)
    with open(os.path.join(run_dir, 'stdout.log'), 'w') as out, \
            open(os.path.join(run_dir, 'stderr.log'), 'w') as err:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [PACKAGE_PARENT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
        rc = subprocess.call(cmd, stdout=out, stderr=err, env=env)
    status, rec = status_of(run_dir)
    if rc == 0 and status == 'finished':
        return 'finished', ''
    with open(os.path.join(run_dir, 'stderr.log')) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    return 'failed', (lines[-1] if lines else f'exit code {rc}')


def plan_threads(workers, threads):
    cores = cpu_count()
    workers = workers or max(1, cores // (threads or 1) if threads else min(cores, 2))
    threads = threads or max(1, cores // workers)
    return workers, threads


def execute_local(jobs, workers):
    from concurrent.futures import ThreadPoolExecutor, as_completed
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_one, cmd, d): d for cmd, d in jobs}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        except KeyboardInterrupt:
            for fut in futures:          # queued runs never start; running ones got SIGINT too
                fut.cancel()
            raise


def execute_ray(jobs, address, threads):
    """Each run is a Ray task reserving `threads` CPUs; paths must be shared by the nodes."""
    try:
        import ray
    except ImportError:
        raise UserError('--executor ray needs Ray: pip install -c constraints.txt .[ray]') from None
    local = dict(_node_ip_address='127.0.0.1', include_dashboard=False) if not address else {}
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, **local)
    remote = ray.remote(num_cpus=threads)(run_one)
    refs = {remote.remote(cmd, d): d for cmd, d in jobs}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            yield refs[ref], ray.get(ref)


def sweep(path, out=None, workers=0, threads=0, executor='local', address=None,
          retry_failed=False, extra_sets=(), log=print):
    name, base, fixed, runs = load_sweep(path, extra_sets)
    out = out or os.path.join('runs', 'sweeps', name)
    os.makedirs(out, exist_ok=True)
    dirs = run_dirs(out, runs)
    workers, threads = plan_threads(workers, threads)
    todo = []
    for r, d in zip(runs, dirs):
        cmd = command(base, fixed, r, d, threads)
        st, _ = status_of(d)
        same = _recorded_overrides(d) == _overrides_of(cmd)
        failed = os.path.exists(os.path.join(d, 'sweep_error.txt'))
        if same and (st == 'finished' or (failed and not retry_failed)):
            continue
        if os.path.exists(os.path.join(d, 'sweep_error.txt')):
            os.remove(os.path.join(d, 'sweep_error.txt'))
        todo.append((cmd, d))
    log(f'sweep {name}: {plural(len(runs), "run")}, {len(runs) - len(todo)} already done, '
        f'{len(todo)} to run ({executor}: {workers} at a time x {plural(threads, "thread")}) '
        f'-> {out}')
    first, last = fixed
    method = config_mod.load(base, _pairs(first) + _pairs(runs[0]) + _pairs(last))['method']
    t0 = time.time()
    results = execute_ray(todo, address, threads) if executor == 'ray' else \
        execute_local(todo, workers)
    try:
        for d, (status, error) in results:
            if status == 'failed':
                with open(os.path.join(d, 'sweep_error.txt'), 'w') as f:
                    f.write(error + '\n')
            log(f'  {os.path.basename(d)}: {status}{" (" + error + ")" if error else ""} '
                f'[{time.time() - t0:.0f} s]')
    except KeyboardInterrupt:            # Ctrl-C or SIGTERM: the table of the runs so far
        collect(out, runs, dirs, method)
        raise
    collect(out, runs, dirs, method)
    return out


def final_losses(run_dir):
    path = os.path.join(run_dir, 'losses.csv')
    if not os.path.isfile(path):
        return {}, []
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return (rows[-1] if rows else {}), rows


# record.json's `quality` numbers (gluon_nst/quality.py): the same measure for every run,
# so that runs with different loss weights, layers or sizes can be ranked.
QUALITY_COLUMNS = ('content_distance', 'style_distance')


def quality_of(rec):
    """{content_distance, style_distance} of a run record ('' where it has none)."""
    q = rec.get('quality') or {}
    return {c: q[c] if isinstance(q.get(c), (int, float)) else '' for c in QUALITY_COLUMNS}


def collect(out, runs, dirs, method='style'):
    """results.csv, contact_sheet.png, curves_<key>.png for the swept keys, and
    quality.png (style against content distance) when the runs were scored."""
    m = methods.get(method or 'style')
    keys = list(dict.fromkeys(k for r in runs for k in r))
    table = []
    for i, (r, d) in enumerate(zip(runs, dirs)):
        status, rec = status_of(d)
        last, _ = final_losses(d)
        err = ''
        if os.path.exists(os.path.join(d, 'sweep_error.txt')):
            err = open(os.path.join(d, 'sweep_error.txt')).read().strip()
        table.append(dict(run=os.path.basename(d), **{k: _fmt(r.get(k)) for k in keys},
                          **{c: last.get(c, '') for c in m.summary}, **quality_of(rec),
                          wall_seconds=rec.get('wall_seconds', ''),
                          status=status or ('failed' if err else 'not run'),
                          error=err or (rec.get('error') or '')))
    with open(os.path.join(out, 'results.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, ['run'] + keys + list(m.summary) + list(QUALITY_COLUMNS)
                           + ['wall_seconds', 'status', 'error'])
        w.writeheader()
        w.writerows(table)
    _contact_sheet(out, runs, dirs, keys, table)
    _curves(out, runs, dirs, keys, m)
    _quality_plot(out, keys, table)


def _quality_plot(out, keys, table):
    """Each scored run as a point: style distance against content distance (lower-left
    is better on both; the runs on the lower-left front are the trade-offs worth keeping)."""
    scored = [t for t in table if all(t[c] != '' for c in QUALITY_COLUMNS)]
    if not scored:
        return
    from .plots import subplots
    fig, ax = subplots(figsize=(6.5, 5))
    xs = [t['content_distance'] for t in scored]
    ys = [t['style_distance'] for t in scored]
    ax.scatter(xs, ys, s=18)
    for t, x, y in zip(scored, xs, ys):
        label = ', '.join(f'{k.split(".")[-1]}={t[k]}' for k in keys) or t['run']
        ax.annotate(label, (x, y), fontsize=6, xytext=(3, 3), textcoords='offset points')
    ax.set_xlabel('content distance (relu4_2 feature MSE / 600^2; lower keeps more content)')
    ax.set_ylabel('style distance (relative Gram distance; lower is more style)')
    fig.tight_layout()
    fig.savefig(os.path.join(out, 'quality.png'), dpi=90)


def _contact_sheet(out, runs, dirs, keys, table=None):
    from .plots import subplots
    from PIL import Image
    n = len(runs)
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = subplots(rows, cols, figsize=(3.2 * cols, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis('off')
    for i, (ax, r, d) in enumerate(zip(axes.ravel(), runs, dirs)):
        img = os.path.join(d, 'result.png')
        if os.path.isfile(img):
            ax.imshow(Image.open(img))
        else:
            ax.text(0.5, 0.5, status_of(d)[0] or 'not run', ha='center', va='center')
        lines = [f'{k.split(".")[-1]}={_fmt(r.get(k))}' for k in keys]
        row = table[i] if table else {}
        if all(row.get(c, '') != '' for c in QUALITY_COLUMNS):
            lines.append(f"content {row['content_distance']:.3f}  style {row['style_distance']:.3f}")
        ax.set_title('\n'.join(lines), fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, 'contact_sheet.png'), dpi=90)


def wall_clock(rows, phase='stage'):
    """Seconds since the run started (losses.csv counts from each phase's start)."""
    out, offset, prev_stage, last = [], 0.0, None, 0.0
    for r in rows:
        if r[phase] != prev_stage:
            offset, prev_stage = offset + last, r[phase]
        last = float(r['seconds'])
        out.append(offset + last)
    return out


def _curves(out, runs, dirs, keys, m):
    from .plots import subplots
    for key in keys:
        values = list(dict.fromkeys(_fmt(r.get(key)) for r in runs))
        fig, (ax, ax_t) = subplots(1, 2, figsize=(11, 4))
        for r, d in zip(runs, dirs):
            _, rows = final_losses(d)
            if not rows:
                continue
            color = f'C{values.index(_fmt(r.get(key))) % 10}'
            total = [float(x[m.curve]) for x in rows]
            ax.plot(range(len(rows)), total, color=color, lw=1, alpha=0.8)
            ax_t.plot(wall_clock(rows, m.phase_column), total, color=color, lw=1, alpha=0.8)
        for v in values:
            ax.plot([], [], color=f'C{values.index(v) % 10}', label=f'{key}={v}')
        for a, xlabel in ((ax, f'step (all {m.phase_column}s)'), (ax_t, 'wall time (s)')):
            a.set_yscale('log')
            a.set_xlabel(xlabel)
            a.set_ylabel(m.curve)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f'curves_{re.sub(r"[^A-Za-z0-9_]+", "_", key)}.png'), dpi=90)
