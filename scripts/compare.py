#!/usr/bin/env python3
"""Compare a style run with the book (the same as `gluon-nst compare`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_compare  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_compare())
