"""What the PyTorch peers share: torch with the parent's thread count, and the
result line and medians of gluon_nst.benchmark."""
import os

from ..benchmark import emit, median_after

__all__ = ['emit', 'median_after', 'setup_torch', 'start_torch_profile', 'torch_profile_ops']


def setup_torch():
    """torch with OMP_NUM_THREADS threads (the parent sets it for both sides)."""
    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or torch.get_num_threads()))
    torch.manual_seed(0)
    return torch


def start_torch_profile():
    """torch.profiler on the CPU, started (ends with torch_profile_ops)."""
    from torch.profiler import ProfilerActivity, profile
    prof = profile(activities=[ProfilerActivity.CPU])
    prof.start()
    return prof


def torch_profile_ops(prof, calls):
    """Stop `prof`: each operator's own CPU time as {operator: ms per call} over `calls` calls
    (own time, so that nested operators are not counted twice)."""
    prof.stop()
    return {e.key: e.self_cpu_time_total / 1e3 / calls for e in prof.key_averages()
            if e.self_cpu_time_total > 0}
