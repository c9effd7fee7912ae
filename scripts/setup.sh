#!/usr/bin/env bash
# Create .venv with the pinned packages (CPU build of MXNet; GPU: EXTRAS=gpu).
#   bash scripts/setup.sh            -> .venv with .[cpu,test]
#   EXTRAS=gpu,test bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${EXTRAS:-cpu,test}"
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e ".[${EXTRAS}]"
.venv/bin/python -c 'import mxnet, numpy; print("ready: mxnet", mxnet.__version__, "numpy", numpy.__version__)'
