#!/usr/bin/env bash
# Install everything in this repo, then train models on scikit-learn's digits (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/_install.sh
PY=${PYTHON:-python3}
"$PY" -m opcore plugins
if [ -f examples/nnet_demo.py ]; then
  exec "$PY" examples/nnet_demo.py
fi
exec "$PY" examples/demo.py
