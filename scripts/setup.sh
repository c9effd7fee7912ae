#!/usr/bin/env bash
# Create .venv with the pinned packages (CPU build of MXNet; GPU: EXTRAS=gpu).
#   bash scripts/setup.sh            -> .venv with .[cpu,test,fast] (every method)
#   EXTRAS=gpu,test bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${EXTRAS:-cpu,test,fast}"
PY="${PYTHON:-python3}"
ok_version='import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 11)))'
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "$ok_version"; then
  echo "error: .venv is not Python 3.10/3.11 (MXNet 1.9.1 needs numpy 1.23): remove .venv and run PYTHON=python3.11 bash scripts/setup.sh" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -c "$ok_version"; then
    echo "error: $PY is $("$PY" -V 2>&1); MXNet 1.9.1 needs Python 3.10 or 3.11: run PYTHON=python3.11 bash scripts/setup.sh" >&2
    exit 1
  fi
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e ".[${EXTRAS}]"
.venv/bin/python -c 'import mxnet, numpy; print("ready: mxnet", mxnet.__version__, "numpy", numpy.__version__)'
