#!/usr/bin/env python3
"""Run a sweep of config overrides (the same as `gluon-nst sweep`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_sweep  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_sweep())
