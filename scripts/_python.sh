# Sourced by the set-up scripts: sets PY to the interpreter opcore is installed into and run with.
#
# PYTHON chooses the interpreter (default python3). An interpreter the operating system manages
# (PEP 668: an EXTERNALLY-MANAGED file beside its standard library, as on Debian 12 and Ubuntu
# 24.04) refuses pip installs, so the scripts then create, or reuse, a virtual environment in
# OPCORE_VENV (default .venv at the repository root) and use it. When that cannot be done they stop
# with the commands to run by hand.
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: no '$PY' on PATH: install Python 3.10 or newer, or set PYTHON=/path/to/python" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: opcore needs Python 3.10 or newer; '$PY' is $("$PY" -V 2>&1)." \
       "Set PYTHON=/path/to/python3.10+" >&2
  exit 1
fi

_opcore_externally_managed() {
  "$1" -c '
import os, sys, sysconfig
in_venv = sys.prefix != sys.base_prefix
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if (not in_venv and os.path.exists(marker)) else 1)'
}

if _opcore_externally_managed "$PY"; then
  OPCORE_VENV=${OPCORE_VENV:-$PWD/.venv}
  if [ ! -x "$OPCORE_VENV/bin/python" ]; then
    echo "note: $PY is managed by the operating system (PEP 668: pip may not install into it);" \
         "creating a virtual environment in $OPCORE_VENV" >&2
    if ! venv_err=$("$PY" -m venv "$OPCORE_VENV" 2>&1); then
      printf '%s\n' "$venv_err" >&2
      cat >&2 <<MSG
error: could not create a virtual environment with $PY. Run these, then this command again:
    sudo apt-get install python3-venv      # Debian/Ubuntu: the venv module is a separate package
    $PY -m venv $OPCORE_VENV
    . $OPCORE_VENV/bin/activate
or choose an interpreter you may install into: PYTHON=/path/to/python bash $0
MSG
      exit 1
    fi
  fi
  PY=$OPCORE_VENV/bin/python
  echo "note: using the virtual environment $OPCORE_VENV (activate it with: . $OPCORE_VENV/bin/activate)" >&2
fi

# pip_install ARGS...: pip install, quiet on success; on failure pip's own message and a stop.
pip_install() {
  local log
  log=$(mktemp)
  if ! "$PY" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
    grep -v -E "is ignored: it is neither a file nor a directory" "$log" >&2 || true
    rm -f "$log"
    echo "error: 'pip install $*' failed (pip's message above)" >&2
    exit 1
  fi
  grep -v -E "Running pip as the 'root' user|is ignored: it is neither|^\s*$" "$log" >&2 || true
  rm -f "$log"
}
