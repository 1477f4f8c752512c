"""The compiler check (opcore/cbuild/driver.py): ``cxx --version`` runs once per compiler, not once
per process; the outcome is remembered in the compile cache under the compiler's identity."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from opcore.cbuild import driver
from opcore.config import change_flags

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no cc on PATH")


@pytest.fixture
def runs(monkeypatch):
    """The ``--version`` runs made, with a fresh in-process memo."""
    made = []
    real = subprocess.run

    def counting(cmd, *args, **kwargs):
        made.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(driver.subprocess, "run", counting)
    driver._compiler_ok.cache_clear()
    yield made
    driver._compiler_ok.cache_clear()


def _fake_cc(tmp_path, monkeypatch, script: str):
    """A ``cc`` first on PATH running ``script`` (a shell body)."""
    fake = tmp_path / "bin" / "cc"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return fake


def test_a_compiler_that_ran_once_is_not_run_again(tmp_path, runs):
    with change_flags(compiledir=str(tmp_path), cxx="cc"):
        first = driver.compiler_ok()
        assert first[0] and len(runs) == 1
        driver._compiler_ok.cache_clear()  # what a new process sees
        assert driver.compiler_ok() == first
        assert len(runs) == 1
        # another command line (flags in config.cxx) is another compiler: checked again
        driver._compiler_ok.cache_clear()
        assert driver._compiler_ok("cc -O0")[0]
        assert len(runs) == 2


def test_a_replaced_compiler_or_a_planted_memo_is_checked_again(tmp_path, runs, monkeypatch):
    fake = _fake_cc(tmp_path, monkeypatch, "echo 'fake cc 1.0'\n")
    with change_flags(compiledir=str(tmp_path / "cache"), cxx="cc"):
        assert driver.compiler_ok() == (True, "fake cc 1.0")
        fake.write_text("#!/bin/sh\necho 'fake cc 2.0 (upgraded)'\n")
        os.utime(fake, (1, 1))
        driver._compiler_ok.cache_clear()
        assert driver.compiler_ok() == (True, "fake cc 2.0 (upgraded)")
        assert len(runs) == 2
        memo = driver._version_memo("cc", str(fake))
        assert os.path.isfile(memo)
        with open(memo, "w") as fh:
            fh.write('{"version": "planted"}')
        os.chmod(memo, stat.S_IRUSR | stat.S_IWUSR | stat.S_IWOTH)
        driver._compiler_ok.cache_clear()
        assert driver.compiler_ok() == (True, "fake cc 2.0 (upgraded)")
        assert len(runs) == 3


def test_a_failing_compiler_is_never_remembered_as_working(tmp_path, runs, monkeypatch):
    _fake_cc(tmp_path, monkeypatch, "echo broken >&2\nexit 3\n")
    with change_flags(compiledir=str(tmp_path / "cache"), cxx="cc"):
        for _ in range(2):
            driver._compiler_ok.cache_clear()
            ok, why = driver.compiler_ok()
            assert not ok and "broken" in why
    assert len(runs) == 2
