#!/usr/bin/env python3
"""Score a stylised image: content and style distances (the same as `gluon-nst quality`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_quality  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_quality())
