"""What the PyTorch peers share: threads, timing, and the result line."""
import os
import statistics
import time

from ..benchmark import emit, median_after

__all__ = ['emit', 'median_after', 'setup_torch', 'timed', 'statistics']


def setup_torch():
    """torch with OMP_NUM_THREADS threads (the parent sets it for both sides)."""
    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or torch.get_num_threads()))
    torch.manual_seed(0)
    return torch


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t
