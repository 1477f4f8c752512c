#!/usr/bin/env bash
# Installs opcore into the interpreter chosen by scripts/_python.sh (a virtual environment when the
# system's Python is externally managed). What it installs:
#   core   opcore alone (graph, rewrites, function, grad, the Python backend)
#   demo   the core, the C backend and nnet, scikit-learn (the demo's data) and matplotlib
#   all    the core, every plugin in this repo and everything their tests need (the default)
# System packages (a C compiler; for `all` also PoCL for the OpenCL GPU tests) are apt-installed
# when run as root; otherwise the script says what to install. Any failed step stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in core|demo|all) ;; *) echo "usage: $0 [core|demo|all]" >&2; exit 2;; esac
. scripts/_python.sh

if [ "$what" = all ]; then
  bash scripts/install_system_deps.sh
fi
if [ "$what" != core ] && ! command -v "${CC:-cc}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq gcc >/dev/null
  else
    echo "note: no C compiler found; install gcc to use the opcore-cpu-c backend" \
         "(opcore runs on its Python backend meanwhile)" >&2
  fi
fi

case "$what" in
  core) pkgs=(-e .) ;;
  demo) pkgs=(-e ".[demo]" -e plugins/cpu_c -e plugins/nnet) ;;
  all)
    pkgs=(-e ".[test,templates,demo,docs,dask]")
    for p in cpu_c nnet sparse gpu_cuda; do
      if [ -f "plugins/$p/pyproject.toml" ]; then
        extra=""
        [ -f "plugins/$p/.test-extras" ] && extra="[$(cat "plugins/$p/.test-extras")]"
        pkgs+=(-e "plugins/$p$extra")
      fi
    done
    ;;
esac
pip_install "${pkgs[@]}"
"$PY" -c "import opcore" # fail early when the install did not work
