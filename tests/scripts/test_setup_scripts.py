"""The README's set-up commands on a system-managed Python (PEP 668) and with failing steps.

A Python whose standard library has an ``EXTERNALLY-MANAGED`` file next to it (Debian 12, Ubuntu
24.04) refuses ``pip install``; the scripts must then set up a virtual environment themselves, or
stop with the commands to run, and a failed pip step must stop them with pip's message.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sysconfig

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SYSTEM_PYTHONS = ["/usr/bin/python3", "/usr/local/bin/python3"]


def _externally_managed_python() -> str | None:
    for py in SYSTEM_PYTHONS:
        if not os.path.exists(py):
            continue
        out = subprocess.run(
            [py, "-c", "import os, sys, sysconfig; p = os.path.join(sysconfig.get_path('stdlib'),"
             " 'EXTERNALLY-MANAGED'); print(os.path.exists(p) and sys.version_info >= (3, 10)"
             " and sys.prefix == sys.base_prefix)"],
            capture_output=True, text=True)
        if out.stdout.strip() == "True":
            return py
    return None


def _run(args, env_extra, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(env_extra)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_externally_managed_python_gets_a_virtual_environment(tmp_path):
    py = _externally_managed_python()
    if py is None:
        pytest.skip("no system-managed (PEP 668) Python 3.10+ on this machine")
    venv = tmp_path / "venv"
    r = _run(["bash", "scripts/_install.sh", "core"], {"PYTHON": py, "OPCORE_VENV": str(venv)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "PEP 668" in r.stderr and str(venv) in r.stderr
    check = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import opcore, sys; print(opcore.__file__, sys.prefix)"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert str(ROOT / "opcore") in check.stdout and str(venv) in check.stdout
    # a second run reuses the environment instead of creating another one
    r2 = _run(["bash", "scripts/_install.sh", "core"], {"PYTHON": py, "OPCORE_VENV": str(venv)})
    assert r2.returncode == 0 and "creating a virtual environment" not in r2.stderr


def test_no_virtual_environment_possible_stops_with_the_commands(tmp_path):
    py = _externally_managed_python()
    if py is None:
        pytest.skip("no system-managed (PEP 668) Python 3.10+ on this machine")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    venv = blocked / "venv"  # cannot be created: its parent is a file
    r = _run(["bash", "scripts/_install.sh", "core"], {"PYTHON": py, "OPCORE_VENV": str(venv)})
    assert r.returncode != 0
    assert "could not create a virtual environment" in r.stderr
    assert f"{py} -m venv {venv}" in r.stderr and f". {venv}/bin/activate" in r.stderr
    assert not venv.exists()


def test_failed_pip_step_stops_the_script_with_pips_message(tmp_path):
    script = (f". {ROOT}/scripts/_python.sh; pip_install {tmp_path}/no-such-project;"
              " echo SHOULD-NOT-PRINT")
    r = _run(["bash", "-c", f"set -euo pipefail; {script}"], {})
    assert r.returncode != 0
    assert "SHOULD-NOT-PRINT" not in r.stdout
    assert "no-such-project" in r.stderr and "failed (pip's message above)" in r.stderr


def test_unknown_install_target_is_refused():
    r = _run(["bash", "scripts/_install.sh", "everything"], {})
    assert r.returncode == 2 and "usage" in r.stderr
