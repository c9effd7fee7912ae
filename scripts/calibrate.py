#!/usr/bin/env python3
"""Fit the feature scales of the Caffe VGG-19 weights to the book's logs
(gluon_nst.style.calibrate: what it measures and fits, and the table it prints).

    python scripts/calibrate.py [--rounds 2] [--stage2-steps 100] [--out runs/calibrate]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst import runtime  # noqa: E402

runtime.configure_threads()          # before MXNet is imported

from gluon_nst.errors import UserError  # noqa: E402
from gluon_nst.style.calibrate import main  # noqa: E402

if __name__ == '__main__':
    try:
        main()
    except UserError as e:
        sys.exit(f'error: {e}')
