#!/usr/bin/env python3
"""Compare a run of configs/rainier.yaml with the book's logged losses and figures.

    python scripts/compare.py runs/rainier [--book ../shared/d2l]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import gluon_nst  # noqa: E402,F401  (sets MXNet's threads before it is imported)
from gluon_nst.errors import UserError  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('run_dir')
    ap.add_argument('--book', help='folder with press_losses.txt and book/ (default: found '
                                   'from the run\'s content image, or $GLUON_NST_SHARED/d2l)')
    a = ap.parse_args()
    try:
        from gluon_nst.compare import compare_run
        print(f'report: {compare_run(a.run_dir, a.book)}')
    except UserError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
