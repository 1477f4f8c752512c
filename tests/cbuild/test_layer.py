"""The build layer's place in the core: not imported by ``import opcore``; its checks in doctor."""

from __future__ import annotations

import os
import subprocess
import sys

from opcore.cli import _check_cache
from opcore.config import change_flags, config


def test_import_opcore_does_not_import_the_build_layer():
    code = ("import sys, opcore, opcore.tensor as T\n"
            "print(sorted(m for m in sys.modules if m.startswith('opcore.cbuild') or "
            "m == 'filelock'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout


def test_doctor_reports_an_untrusted_cache_with_the_fix(tmp_path):
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    with change_flags(compiledir=str(root)):
        assert _check_cache(config).status == "ok"
        os.chmod(root, 0o775)
        check = _check_cache(config)
    assert check.status == "problem"
    assert "writable by other users" in check.detail and "chmod go-w" in check.detail
