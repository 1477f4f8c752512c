#!/usr/bin/env bash
# Installs opcore, every plugin in this repo and what their tests need, into the current Python.
# System packages (PoCL for the OpenCL GPU tests, a C compiler) are apt-installed when run as root;
# otherwise the script says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ -x scripts/install_system_deps.sh ] || [ -f scripts/install_system_deps.sh ]; then
  bash scripts/install_system_deps.sh
fi
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq gcc >/dev/null
  else
    echo "note: no C compiler found; install gcc to use the opcore-cpu-c backend" >&2
  fi
fi

pkgs=(-e ".[test,templates]")
for p in cpu_c nnet sparse gpu_cuda; do
  if [ -f "plugins/$p/pyproject.toml" ]; then
    extra=""
    [ -f "plugins/$p/.test-extras" ] && extra="[$(cat "plugins/$p/.test-extras")]"
    pkgs+=(-e "plugins/$p$extra")
  fi
done
"$PY" -m pip install -q --disable-pip-version-check "${pkgs[@]}" 2>&1 \
  | grep -v -E "Running pip as the 'root' user|^\s*$" || true
"$PY" -c "import opcore" # fail early when the install did not work
