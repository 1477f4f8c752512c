"""opcore.config: OPCORE_FLAGS, the rc file, change_flags and bad flags."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import opcore
from opcore.config import ConfigError


def _run(code, **env):
    full = dict(os.environ)
    full.pop("OPCORE_FLAGS", None)
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          timeout=120)


def test_opcore_flags_environment(tmp_path):
    r = _run("import opcore; print(opcore.config.floatX, opcore.config.compiledir); "
             "import opcore.tensor as T; print(T.matrix().dtype)",
             OPCORE_FLAGS=f"floatX=float32,compiledir={tmp_path}", OPCORE_RC=os.devnull)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float32", str(tmp_path), "float32"]


def test_rc_file(tmp_path):
    rc = tmp_path / "opcorerc"
    rc.write_text("[global]\nfloatX = float32\nmode = FAST_COMPILE\n\n[gpuarray]\nsync = True\n")
    r = _run("import opcore; c = opcore.config; print(c.floatX, c.mode, c.gpuarray__sync)",
             OPCORE_RC=str(rc))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float32", "FAST_COMPILE", "True"]
    # the environment wins over the file
    r = _run("import opcore; print(opcore.config.floatX)", OPCORE_RC=str(rc),
             OPCORE_FLAGS="floatX=float64")
    assert r.stdout.strip() == "float64"


def test_bad_value_in_environment_names_the_flag():
    r = _run("import opcore", OPCORE_FLAGS="floatX=float13", OPCORE_RC=os.devnull)
    assert r.returncode != 0
    assert "floatX" in r.stderr and "float13" in r.stderr


def test_unknown_flag_in_environment_is_an_error():
    r = _run("import opcore, opcore.tensor as T\n"
             "x = T.dscalar()\nopcore.function([x], x)",
             OPCORE_FLAGS="no_such_flag=1", OPCORE_RC=os.devnull)
    assert r.returncode != 0
    assert "no_such_flag" in r.stderr


def test_change_flags_context_and_decorator():
    before = opcore.config.floatX
    with opcore.config.change_flags(floatX="float32"):
        assert opcore.config.floatX == "float32"
        import opcore.tensor as T

        assert T.vector().dtype == "float32"
    assert opcore.config.floatX == before

    @opcore.change_flags(floatX="float16")
    def inner():
        return opcore.config.floatX

    assert inner() == "float16" and opcore.config.floatX == before


def test_unknown_flag_and_bad_value_at_run_time():
    with pytest.raises(ConfigError, match="no_such_flag"):
        with opcore.config.change_flags(no_such_flag=1):
            pass
    with pytest.raises(ConfigError, match="floatX"):
        opcore.config.floatX = "float13"
    with pytest.raises(ConfigError, match="bogus"):
        opcore.config.bogus = 1
    with pytest.raises(AttributeError, match="bogus"):
        opcore.config.bogus  # noqa: B018
    with pytest.raises(ConfigError, match="mode"):
        with opcore.config.change_flags(mode="FASTEST"):
            pass


def test_declared_flags():
    for name in ("floatX", "device", "mode", "compiledir", "cxx", "openmp", "gpuarray__sync"):
        assert name in opcore.config.flags()
    with pytest.raises(ConfigError, match="declared by both"):
        opcore.config.add("floatX", "again", "float64", owner="someone-else")


@pytest.mark.parametrize("flag, value, why, accepts", [
    ("compiledir", "", "is not accepted", "an absolute directory path"),
    ("compiledir", "relative/cache", "is not accepted", "an absolute directory path"),
    ("openmp_elemwise_minsize", 0, "is out of range", "an integer >= 1"),
    ("openmp_elemwise_minsize", "many", "cannot be read", "an integer >= 1"),
    ("openmp_elemwise_minsize", 2.5, "is not an integer", "an integer >= 1"),
    ("openmp", "abc", "cannot be read", "a boolean"),
    ("floatX", "float128", "is not accepted", "one of 'float16', 'float32', 'float64'"),
])
def test_flag_values_checked_by_type_and_range(flag, value, why, accepts):
    before = getattr(opcore.config, flag)
    with pytest.raises(ConfigError) as info:
        setattr(opcore.config, flag, value)
    msg = str(info.value)
    assert f"config flag {flag!r}" in msg and why in msg and f"accepted values: {accepts}" in msg
    assert getattr(opcore.config, flag) == before


def test_float_flag_rejects_nan_inf_and_out_of_range():
    from opcore.config import Config

    cfg = Config()
    cfg.add("timeout", "seconds", 1.0, convert=float, bounds=(0.0, None))
    for bad in ("nan", "inf", "-1", float("nan"), -0.5, True):
        with pytest.raises(ConfigError, match="accepted values: a finite number >= 0"):
            cfg.timeout = bad
    cfg.timeout = "0.25"
    assert cfg.timeout == 0.25
