#!/usr/bin/env python
"""Write docs/reference/config.md from the methods' schemas (--check: only compare)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from gluon_nst import docs_reference  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--check', action='store_true', help='exit 1 if the committed page is out of date')
    args = p.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.check:
        reason = docs_reference.stale(root)
        if reason:
            print(f'error: {reason}', file=sys.stderr)
            return 1
        print(f'{docs_reference.PAGE} is up to date')
        return 0
    print(f'wrote {docs_reference.write(root)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
