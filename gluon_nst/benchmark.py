"""What every method's benchmark shares: the machine's sgemm peak (the yardstick
for GFLOP/s figures, since the CPU changes between machines), and running a
measurement in a fresh process with its own peak memory.
"""
import os
import subprocess
import sys
import time


def parse_size(text):
    w, h = text.lower().split('x')
    return int(w), int(h)


def run_child(code, threads, timeout=3600):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MPLBACKEND='Agg')
    t = time.time()
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'failed')
    out = dict(wall_s=time.time() - t, text=r.stdout)
    for line in r.stdout.splitlines():
        if 'median_step_s=' in line:
            out['median_step_s'] = float(line.split('median_step_s=')[1].split()[0])
        if line.startswith('peak_rss_mb'):
            out['peak_rss_mb'] = float(line.split()[1])
    return out


def measure_peak_gflops(threads):
    """fp32 peak of this machine, measured with a large sgemm (numpy's BLAS)."""
    code = ('import time, numpy as np\n'
            'n = 3072\n'
            'a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)\n'
            'a @ b\n'
            'ts = []\n'
            'for _ in range(5):\n'
            '    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)\n'
            'print("gflops", 2 * n ** 3 / min(ts) / 1e9)\n')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env)
    return float(r.stdout.split()[-1])
