"""What the PyTorch peers share: torch with the parent's thread count, and the
result line and medians of gluon_nst.benchmark."""
import os

from ..benchmark import emit, median_after

__all__ = ['emit', 'median_after', 'setup_torch']


def setup_torch():
    """torch with OMP_NUM_THREADS threads (the parent sets it for both sides)."""
    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or torch.get_num_threads()))
    torch.manual_seed(0)
    return torch
