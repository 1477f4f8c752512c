"""The compiler check (opcore/cbuild/driver.py): ``cxx --version`` runs once per compiler, not once
per process; the outcome is remembered in the compile cache under the compiler's identity."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sysconfig

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

    monkeypatch.setattr(subprocess, "run", counting)  # the driver loads subprocess lazily
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


GCC_V = (" /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -v -imultiarch x86_64-linux-gnu - "
         "-march=cooperlake -mmmx -mavx2 -mno-sse4a -mavx512f --param l1-cache-size=32 "
         "-mtune=cooperlake -dumpbase -\n")


def test_native_flags_are_gccs_explicit_target_flags():
    assert driver.parse_native_flags("Using built-in specs.\n" + GCC_V) == (
        "-march=cooperlake", "-mmmx", "-mavx2", "-mno-sse4a", "-mavx512f", "-mtune=cooperlake")
    # no cc1 line (another compiler), or a target still called native: nothing usable
    assert driver.parse_native_flags("clang version 17\n \"/usr/bin/clang\" -cc1 -E\n") == ()
    assert driver.parse_native_flags(GCC_V.replace("cooperlake", "native")) == ()


def test_march_native_becomes_explicit_flags_or_is_dropped(monkeypatch):
    monkeypatch.setattr(driver, "native_flags", lambda cxx: ("-march=znver4", "-mavx2"))
    flags = ["-O2", driver.NATIVE, "-ffp-contract=off"]
    assert driver.resolve_native(flags) == ["-O2", "-march=znver4", "-mavx2", "-ffp-contract=off"]
    assert driver.resolve_native(["-O2"]) == ["-O2"]
    monkeypatch.setattr(driver, "native_flags", lambda cxx: ())  # unknown: a baseline build
    assert driver.resolve_native(flags) == ["-O2", "-ffp-contract=off"]


def test_the_native_target_is_asked_once_per_compiler_and_cpu(tmp_path, runs, monkeypatch):
    if driver._cpu_identity() is None:
        pytest.skip("no /proc/cpuinfo")
    driver.native_flags.cache_clear()
    with change_flags(compiledir=str(tmp_path), cxx="cc"):
        first = driver.native_flags("cc")
        assert any(f.startswith("-march=") and f != driver.NATIVE for f in first)
        driver.native_flags.cache_clear()
        assert driver.native_flags("cc") == first
        assert len(runs) == 1  # the second process reads the memo
        # another CPU (a cache shared between machines) is asked again, under another name
        monkeypatch.setattr(driver, "_cpu_identity", lambda: "another-cpu")
        driver.native_flags.cache_clear()
        driver.native_flags("cc")
        assert len(runs) == 2
        assert len(list((tmp_path / "compilers").glob("native-*.json"))) == 2
    driver.native_flags.cache_clear()


def test_compile_module_keys_and_builds_with_the_explicit_flags(monkeypatch):
    """The flags reaching the cache key (and the compiler) name the CPU, never 'native'."""
    from opcore.cbuild import cache

    seen = []

    def key(source, versions=(), cflags=(), ldflags=(), include_dirs=()):
        seen.append(list(cflags))
        raise RuntimeError("stop here")

    monkeypatch.setattr(cache, "cache_key", key)
    for target in ("-march=a", "-march=b"):
        monkeypatch.setattr(driver, "native_flags", lambda cxx, t=target: (t, "-mavx2"))
        with pytest.raises(RuntimeError, match="stop here"):
            cache.compile_module("src", "m", cflags=["-O2", driver.NATIVE])
        with pytest.raises(RuntimeError, match="stop here"):
            cache.build_library("src", "m", cflags=[driver.NATIVE])
    assert seen == [["-O2", "-march=a", "-mavx2"], ["-march=a", "-mavx2"],
                    ["-O2", "-march=b", "-mavx2"], ["-march=b", "-mavx2"]]


def test_the_python_include_dir_is_remembered_per_interpreter(tmp_path, monkeypatch):
    """sysconfig expands the build configuration once per interpreter, not once per process: the
    include dir is read back from compiledir/compilers/python-*.json; a memo others can write is
    not trusted."""
    real = sysconfig.get_paths()["include"]
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return {"include": real}

    monkeypatch.setattr(sysconfig, "get_paths", counting)
    driver.python_include.cache_clear()
    try:
        with change_flags(compiledir=str(tmp_path)):
            assert driver.python_include() == real and len(calls) == 1
            driver.python_include.cache_clear()  # what a new process sees
            assert driver.python_include() == real and len(calls) == 1
            (memo,) = (tmp_path / "compilers").glob("python-*.json")
            memo.chmod(memo.stat().st_mode | stat.S_IWOTH)
            driver.python_include.cache_clear()
            assert driver.python_include() == real and len(calls) == 2
    finally:
        driver.python_include.cache_clear()
