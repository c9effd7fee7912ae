"""`python -m gluon_nst.sgemm_peak`: this machine's fp32 peak in GFLOP/s, from the best
of five 3072^3 sgemm (numpy's BLAS, OMP_NUM_THREADS threads); the yardstick of the
benchmarks' GFLOP/s figures."""
import time

import numpy as np

from .benchmark import emit


def main(n=3072):
    rng = np.random.RandomState(0)
    a, b = rng.rand(n, n).astype(np.float32), rng.rand(n, n).astype(np.float32)
    a @ b
    times = []
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    emit(gflops=2 * n ** 3 / min(times) / 1e9)


if __name__ == '__main__':
    main()
