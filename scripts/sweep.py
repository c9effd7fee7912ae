#!/usr/bin/env python3
"""Run a hyperparameter sweep (a grid and zipped lists of config overrides).

    python scripts/sweep.py configs/sweeps/loss_weights.yaml
    python scripts/sweep.py configs/sweeps/loss_weights.yaml --workers 2 --threads 1
    python scripts/sweep.py configs/sweeps/loss_weights.yaml --executor ray --address auto

Re-running the same command continues an interrupted sweep: finished runs are
kept, the rest run.  Results: <out>/results.csv, contact_sheet.png, curves_*.png.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst.errors import UserError, interrupt_exit_code  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description='Run a sweep of config overrides.')
    ap.add_argument('sweep', help='sweep YAML (see configs/sweeps/)')
    ap.add_argument('--out', help='sweep folder (default: runs/sweeps/<name>)')
    ap.add_argument('--workers', type=int, default=0, help='runs at a time (default: fit the cores)')
    ap.add_argument('--threads', type=int, default=0, help='threads per run (default: cores / workers)')
    ap.add_argument('--executor', choices=['local', 'ray'], default='local')
    ap.add_argument('--address', default=None, help='Ray cluster address (with --executor ray)')
    ap.add_argument('--retry-failed', action='store_true', help='run failed runs again')
    ap.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                    help='override for every run (e.g. --set stages.0.epochs=20)')
    a = ap.parse_args(argv)
    try:
        from gluon_nst.sweep import sweep
        out = sweep(a.sweep, a.out, a.workers, a.threads, a.executor, a.address,
                    a.retry_failed, a.overrides)
        print(f'results: {out}/results.csv, {out}/contact_sheet.png')
    except UserError as e:
        print(f'error: {e}', file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print('error: sweep interrupted; run the same command again to continue', file=sys.stderr)
        return interrupt_exit_code(e)
    return 0


if __name__ == '__main__':
    sys.exit(main())
