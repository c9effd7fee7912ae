#!/usr/bin/env python3
"""Benchmarks (the same as `gluon-nst bench [METHOD]`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_bench  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_bench())
