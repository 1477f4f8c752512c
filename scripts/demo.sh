#!/usr/bin/env bash
# Install what the demo needs (the core, the C backend, nnet, scikit-learn, matplotlib), then train
# models on scikit-learn's bundled digits data set (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/_install.sh demo
. scripts/_python.sh
"$PY" -m opcore plugins
exec "$PY" examples/nnet_demo.py
