"""Threads, devices and what the run record says about the machine.

Threads are decided here and nowhere else: `thread_count` is the rule (the
config's `threads`, else OMP_NUM_THREADS, else every core) and
`configure_threads` applies it.  MXNet reads OMP_NUM_THREADS once, when it is
imported, so every entry point (the CLI, a method's Session, ONNX Runtime's
session options) calls `configure_threads` before the first `import mxnet`;
importing gluon_nst itself changes nothing.  A script that imports MXNet
itself calls `gluon_nst.runtime.configure_threads(n)` first.
"""
import os
import platform
import resource
import sys


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_flags():
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where unknown."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def thread_count(threads=0):
    """The thread count a run uses: `threads`, else OMP_NUM_THREADS if set, else every core."""
    return int(threads or int(os.environ.get('OMP_NUM_THREADS') or 0) or cpu_count())


def mxnet_thread_count():
    """The OpenMP threads MXNet took when it was imported (MXNet 1.9's engine/openmp.cc):
    MXNET_OMP_MAX_THREADS, else OMP_NUM_THREADS, else half the processors on x86."""
    for name in ('MXNET_OMP_MAX_THREADS', 'OMP_NUM_THREADS'):
        if os.environ.get(name):
            return int(os.environ[name])
    halve = platform.machine().lower() in ('x86_64', 'amd64', 'i386', 'i686')
    return max(1, cpu_count() >> 1) if halve else cpu_count()


def configure_threads(threads=0):
    """Use `thread_count(threads)` OpenMP threads in MXNet; returns what is in force.

    Once MXNet is imported it is too late to change: the count MXNet took is returned,
    with a warning when it is not the one asked for (a notebook that imported mxnet
    first runs on half the cores of an x86 machine)."""
    n = thread_count(threads)
    if 'mxnet' in sys.modules:
        used = mxnet_thread_count()
        if used != n:
            import warnings
            warnings.warn(f'MXNet was imported before gluon_nst set its threads: it runs on {used} '
                          f'thread(s), not {n}; call gluon_nst.runtime.configure_threads() (or set '
                          'OMP_NUM_THREADS) before the first import of mxnet, then restart',
                          RuntimeWarning, stacklevel=2)
        return used
    os.environ['OMP_NUM_THREADS'] = str(n)
    os.environ.setdefault('MXNET_CPU_WORKER_NTHREADS', '1')
    # oneDNN's format reorders take MXNet's temp space, which keeps 4 copies by
    # default, each grown to the largest feature map: ops run one at a time
    # here, so one copy does (measured: -190 MB at 600x400; the full rainier run
    # ran 9.54 s/step at 1200x800 with it, 9.68 without).
    os.environ.setdefault('MXNET_CPU_TEMP_COPY', '1')
    return n


def context(device):
    import mxnet as mx
    if device == 'cpu':
        return mx.cpu()
    gpus = mx.context.num_gpus()
    if device == 'auto':
        return mx.gpu(0) if gpus > 0 else mx.cpu()
    idx = int(device.split(':')[1])
    if idx >= gpus:
        from .errors import UserError
        raise UserError(f"device '{device}': this MXNet sees {gpus} GPU(s); use device: cpu, "
                        "or install mxnet-cu112 (pip install .[gpu]) on a CUDA 11.2 machine")
    return mx.gpu(idx)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def available_memory_bytes():
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def versions():
    out = {'python': platform.python_version(), 'platform': platform.platform()}
    for name in ('mxnet', 'numpy', 'scipy', 'PIL', 'matplotlib', 'yaml', 'h5py',
                 'onnxruntime', 'onnx'):
        mod = sys.modules.get(name)
        if mod is None:
            if name in ('onnxruntime', 'onnx'):       # only where a run loaded them
                continue
            try:
                mod = __import__(name)
            except ImportError:
                continue
        out[name] = getattr(mod, '__version__', '?')
    return out
