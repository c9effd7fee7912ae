#!/usr/bin/env python3
"""Enlarge an image with a trained SRCNN (the same as `gluon-nst upscale`).

    python scripts/upscale.py photo.jpg --scale 3
    python scripts/upscale.py photo.jpg --model runs/srcnn_x3 -o photo_x3.png --bicubic
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.cli import main_upscale  # noqa: E402

if __name__ == '__main__':
    sys.exit(main_upscale())
