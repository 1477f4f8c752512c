"""A fixed-seed run of the differential fuzzer (``scripts/fuzz_c.py``): random small graphs on
the C backend against FAST_RUN's rewrites on the Python backend and FAST_COMPILE, each batch in
a subprocess so a crash fails the test.  Long runs: ``python scripts/fuzz_c.py --cases 10000``."""

from __future__ import annotations

import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "fuzz_c.py")


@pytest.fixture(scope="module")
def fuzz_c():
    if not os.path.exists(SCRIPT):
        pytest.skip("scripts/fuzz_c.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("fuzz_c", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fixed_seed_run_has_no_crash_and_no_mismatch(fuzz_c, capsys):
    summary = fuzz_c.run(cases=240, seed=2026, batch=60, timeout=900, out_dir=None, quiet=True)
    out = capsys.readouterr().out
    assert summary["crashes"] == 0 and summary["mismatches"] == 0, out[-6000:]


def test_a_failure_prints_a_standalone_repro(fuzz_c, tmp_path):
    case = fuzz_c.Case(7, 3)
    src = case.source()
    assert "opcore.function" in src and "FAST_COMPILE" in src
    path = tmp_path / "repro.py"
    path.write_text(src)
    import subprocess
    import sys

    p = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                       cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "FAST_RUN" in p.stdout and "FAST_COMPILE" in p.stdout, p.stdout


def test_compare_rules(fuzz_c):
    import numpy as np

    assert fuzz_c.compare(np.array([1.0, np.nan]), np.array([1.0, np.nan])) is None
    assert fuzz_c.compare(np.array([0.0]), np.array([np.nan])) is not None
    assert fuzz_c.compare(np.array([1], "int32"), np.array([1], "int64")) is not None
    assert fuzz_c.compare(np.array([2 ** 53 + 1]), np.array([2 ** 53])) is not None
    assert fuzz_c.compare(np.float32(1.0000001), np.float32(1.0)) is None
