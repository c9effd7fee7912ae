"""What every method's benchmark shares: the machine's sgemm peak (the yardstick
for GFLOP/s figures, since the CPU changes between machines), and running a
measurement in a fresh process (`python -m MODULE`) with its own peak memory.

A measurement module prints its figures as one line `bench-result {JSON}`
(`emit`); `run_module` returns them with the child's wall time and peak RSS,
which the parent reads from the kernel (os.wait4), so peers that know nothing of
this package are measured alike.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from .errors import UserError

# The folder holding the gluon_nst package: children import this very package.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_PREFIX = 'bench-result '
ENV_SHARED = 'GLUON_NST_SHARED'


def parse_size(text):
    try:
        w, h = text.lower().split('x')
        return int(w), int(h)
    except ValueError:
        raise UserError(f'size {text!r}: write WIDTHxHEIGHT, e.g. 1024x768') from None


def threads_text(n):
    return f'{n} thread' + ('' if n == 1 else 's')


def require_at_least(minimum, **counts):
    """One-line error for a count option below what a measurement needs."""
    for name, value in counts.items():
        if value < minimum:
            raise UserError(f'--{name.replace("_", "-")} {value}: give at least {minimum}')


def emit(**figures):
    """Print a measurement's figures for run_module (one JSON line)."""
    print(RESULT_PREFIX + json.dumps(figures), flush=True)


def median_after(times, warmup):
    """Median of the timings after the warm-up ones (all of them if there are no more)."""
    return statistics.median(times[warmup:] or times)


def child_env(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MPLBACKEND='Agg')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get('PYTHONPATH')) if p)
    return env


def run_module(module, args=(), threads=1, timeout=3600):
    """`python -m module args` in a fresh process with `threads` threads.

    Returns the figures it emitted, plus wall_s, peak_rss_mb and its stdout (text);
    a failing child raises RuntimeError with its last error line."""
    return run_command([sys.executable, '-m', module] + [str(a) for a in args], threads, timeout)


def run_command(cmd, threads=1, timeout=3600):
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        start = time.time()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env(threads), text=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise RuntimeError(f'{" ".join(cmd[1:4])}: no result after {timeout} s')
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.time() - start
        out.seek(0), err.seek(0)
        text, errors = out.read(), err.read().strip()
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd[1:4])}: ' +
                           (errors.splitlines()[-1] if errors else f'exit code {proc.returncode}'))
    result = dict(wall_s=wall, text=text, peak_rss_mb=usage.ru_maxrss / 1024)
    for line in text.splitlines():
        if line.startswith(RESULT_PREFIX):
            result.update(json.loads(line[len(RESULT_PREFIX):]))
        for token in line.split():          # key=number tokens (the shared peer scripts)
            key, _, value = token.partition('=')
            if key and key not in result:
                try:
                    result[key] = float(value)
                except ValueError:
                    pass
    return result


def alternate(programs, rounds):
    """Run each (name, run) program in turn, `rounds` times: {name: [result, ...]}.
    Alternating rounds share any change of the machine's load between the programs."""
    out = {}
    for _ in range(rounds):
        for name, run in programs:
            out.setdefault(name, []).append(run())
    return out


def shared_folder(what, options='the file options'):
    """$GLUON_NST_SHARED (the shared data folder), checked to hold `what`; `options` name
    the command-line options that make it unnecessary."""
    root = os.environ.get(ENV_SHARED)
    if not root:
        raise UserError(f'{what}: set ${ENV_SHARED} to the shared data folder (it holds bench/, '
                        f'weights/ and d2l/), or pass {options}')
    if not os.path.isdir(root):
        raise UserError(f'${ENV_SHARED}={root} is not a folder: point it at the shared data folder')
    return root


def require_torch():
    import importlib.util
    if importlib.util.find_spec('torch') is None:
        raise UserError('--peers runs PyTorch peers: pip install -c constraints.txt -e ".[bench]"')


def measure_peak_gflops(threads):
    """fp32 peak of this machine, measured with a large sgemm (numpy's BLAS)."""
    return run_module(f'{__package__}.sgemm_peak', [], threads)['gflops']


def relative_difference(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def check_same_work(what, ours, peer, rtol):
    """Equal work: the first loss (or output) of both sides agrees within `rtol`."""
    diff = relative_difference(ours, peer)
    if not diff <= rtol:
        raise RuntimeError(f'{what}: ours {ours:.6g}, PyTorch {peer:.6g} (relative difference '
                           f'{diff:.2g} > {rtol:g}): the two sides do not do the same work')
    return diff


def peer_row(work, ours, peer, key='median_step_s', agreement=None):
    """A row of the side-by-side table from both sides' result lists (alternating rounds):
    medians of `key` (seconds), the ratio ours / PyTorch's, both peak RSS."""
    o = statistics.median(r[key] for r in ours)
    p = statistics.median(r[key] for r in peer)
    return dict(work=work, ours_s=o, torch_s=p, ratio=o / p,
                ours_peak_rss_mb=max(r['peak_rss_mb'] for r in ours),
                torch_peak_rss_mb=max(r['peak_rss_mb'] for r in peer),
                rounds=len(ours), agreement=agreement)


def print_header(head):
    """A table's column names and the rule under them."""
    print(head)
    print('-' * len(head))


def print_peer_table(report):
    """The table of `--peers`: ours, PyTorch's, the ratio and both peak memories."""
    threads = threads_text(report['threads'])
    print(f'machine fp32 peak (sgemm, {threads}): {report["machine_peak_gflops"]:.1f} GFLOP/s; '
          f'medians of {report["rounds"]} alternating rounds, {threads} each side; '
          f'torch {report.get("torch_version", "?")}')
    head = (f'{"work":<52s} {"ours s":>9s} {"torch s":>9s} {"ours/torch":>10s} '
            f'{"ours MB":>8s} {"torch MB":>8s} {"same work":>10s}')
    print_header(head)
    for r in report['peers']:
        agree = '-' if r['agreement'] is None else f'{r["agreement"]:.0e}'
        print(f'{r["work"]:<52s} {r["ours_s"]:9.4f} {r["torch_s"]:9.4f} {r["ratio"]:9.2f}x '
              f'{r["ours_peak_rss_mb"]:8.0f} {r["torch_peak_rss_mb"]:8.0f} {agree:>10s}')
    print('same work: relative difference of the first loss (or output) of the two sides')


# Operator groups of a profile, by MXNet's and PyTorch's names once stripped of
# `_backward_`, `aten::`, `_backward` and leading underscores (a backward goes with its forward).
OP_GROUPS = (('convolution', ('Convolution', 'convolution', 'mkldnn_convolution', 'conv2d',
                              'slow_conv2d', 'slow_conv2d_forward')),
             ('matmul', ('FullyConnected', 'dot', 'batch_dot', 'linalg_syrk', 'linalg_gemm2', 'mm',
                         'addmm', 'bmm', 'matmul')),
             ('pooling', ('Pooling', 'max_pool2d_with_indices', 'max_pool2d', 'avg_pool2d')),
             ('relu', ('relu', 'relu_', 'Activation', 'clamp_min', 'threshold')),
             ('concat', ('Concat', 'cat')))


def op_group(name):
    base = name.replace('_backward_', '').replace('aten::', '')
    base = base[:-len('_backward')] if base.endswith('_backward') else base
    base = base.lstrip('_')
    return next((group for group, names in OP_GROUPS if base in names), 'other')


def group_ops(op_ms):
    """{operator: ms} -> {group: ms}."""
    groups = {}
    for name, ms in op_ms.items():
        groups[op_group(name)] = groups.get(op_group(name), 0.0) + ms
    return groups


def top_ops(op_ms, n=6):
    return sorted(op_ms.items(), key=lambda kv: -kv[1])[:n]


def unbulk_mxnet():
    """Time each MXNet operator on its own: bulk execution (on by default) runs a
    hybridized graph's operators in fused segments that the profiler cannot split.
    Call before MXNet is imported."""
    os.environ.update(MXNET_EXEC_BULK_EXEC_TRAIN='0', MXNET_EXEC_BULK_EXEC_INFERENCE='0')


def start_mx_profile():
    import mxnet as mx
    mx.nd.waitall()
    mx.profiler.set_config(profile_imperative=True, profile_symbolic=True, aggregate_stats=True,
                           filename=os.devnull)
    mx.profiler.set_state('run')


def mx_profile_ops(calls):
    """Stop mx.profiler: its operator totals as {operator: ms per call} over `calls` calls."""
    import mxnet as mx
    mx.nd.waitall()
    mx.profiler.set_state('stop')
    ops = {}
    for line in mx.profiler.dumps(reset=True).split('operator\n')[-1].splitlines():
        f = line.split()
        if len(f) == 6 and f[1].isdigit():
            ops[f[0]] = float(f[2]) / calls
    return ops


def profile_entry(work, ours_ops, peer_ops=None):
    """A profile for the report: per side, operator groups and top operators (ms per call)."""
    entry = dict(work=work, ours=group_ops(ours_ops), ours_top=top_ops(ours_ops))
    if peer_ops is not None:
        entry.update(torch=group_ops(peer_ops), torch_top=top_ops(peer_ops))
    return entry


def print_profile(entry, unit):
    """Where the time goes, by operator group, ours beside PyTorch's when profiled."""
    sides = [s for s in ('ours', 'torch') if s in entry]
    totals = {s: sum(entry[s].values()) for s in sides}
    print(f'\nprofile, {entry["work"]}: operators\' own time, ms per {unit}')
    print_header(f'{"group":<12s}' + ''.join(f'{s + " ms":>10s} {"%":>6s}' for s in sides))
    groups = sorted({g for s in sides for g in entry[s]}, key=lambda g: -entry['ours'].get(g, 0))
    for g in groups + ['total']:
        cells = ''
        for s in sides:
            ms = totals[s] if g == 'total' else entry[s].get(g, 0.0)
            cells += f'{ms:10.1f} {100 * ms / totals[s] if totals[s] else 0:5.1f}%'
        print(f'{g:<12s}' + cells)
    for s in sides:
        print(f'top operators, {s}: ' + ', '.join(f'{n} {ms:.0f}' for n, ms in entry[s + '_top']))


def torch_version():
    from importlib.metadata import version
    return version('torch')
