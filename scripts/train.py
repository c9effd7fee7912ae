#!/usr/bin/env python3
"""Run any method's YAML config (the same as `gluon-nst train`).

    python scripts/train.py configs/rainier.yaml
    python scripts/train.py configs/style/preview.yaml --set loss.style_weight=1e4 --quiet
    python scripts/train.py --help-config style
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_train  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_train())
