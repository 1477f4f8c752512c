"""The pytest plugin: OPCORE_TEST_BACKEND runs marked tests on a backend; unsupported ops xfail.

The backend comes from a real plugin distribution (a ``*.dist-info`` with an ``opcore`` entry
point) on the path of a separate pytest process.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PICKY_PLUGIN = '''
from opcore.plugins import Backend, hookimpl

def _linker(mode):
    from opcore.compile.linker import PyLinker
    return PyLinker()

def _supports(op):
    from opcore.tensor.elemwise import CAReduce
    if isinstance(op, CAReduce):
        return False, "picky has no reductions yet"
    return True, ""

@hookimpl
def opcore_register_backends(backends):
    backends.register(Backend("picky", priority=-1, linker_factory=_linker, supports=_supports))
    backends.register(Backend("broken", priority=-2, available=lambda: (False, "no device")))
'''

TESTS = '''
import numpy as np
import pytest
import opcore
import opcore.tensor as T

pytestmark = pytest.mark.opcore_backend

def test_elementwise():
    x = T.dvector("x")
    f = opcore.function([x], x * 2)
    assert f.maker.backend.name == EXPECTED
    assert f(np.arange(3.0)).tolist() == [0.0, 2.0, 4.0]

def test_reduction():
    x = T.dvector("x")
    assert opcore.function([x], x.sum())(np.arange(3.0)) == 3.0

def test_fixture(opcore_mode, opcore_backend):
    assert opcore_mode.backend == opcore_backend == EXPECTED
'''


@pytest.fixture
def picky(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    site = pytester.path / "site"
    (site / "opcore_picky-0.1.dist-info").mkdir(parents=True)
    (site / "opcore_picky.py").write_text(textwrap.dedent(PICKY_PLUGIN))
    info = site / "opcore_picky-0.1.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: opcore-picky\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[opcore]\npicky = opcore_picky\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(REPO)]))
    monkeypatch.delenv("OPCORE_TEST_BACKEND", raising=False)
    monkeypatch.delenv("OPCORE_PLUGINS", raising=False)
    # plugins installed in this environment (our own, in development) are not under test here
    from importlib.metadata import entry_points

    ambient = sorted(ep.name for ep in entry_points(group="opcore"))
    monkeypatch.setenv("OPCORE_DISABLE_PLUGINS", ",".join(ambient))
    return pytester


def _run(pytester: pytest.Pytester, expected: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_ops=TESTS.replace("EXPECTED", repr(expected)))
    # the plugin arrives through opcore's pytest11 entry point; name it only when that is missing
    import importlib.metadata as md

    loaded = any(ep.value == "opcore.testing.pytest_plugin" for ep in md.entry_points(group="pytest11"))
    extra = () if loaded else ("-p", "opcore.testing.pytest_plugin")
    return pytester.runpytest_subprocess(*extra, "-rx", *args)


def test_backend_from_environment(picky, monkeypatch):
    monkeypatch.setenv("OPCORE_TEST_BACKEND", "picky")
    result = _run(picky, "picky")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines([
        "opcore test backend: picky",
        "XFAIL test_ops.py::test_reduction - backend 'picky' does not support *: "
        "picky has no reductions yet",
    ])


def test_backend_from_option(picky):
    _run(picky, "picky", "--opcore-backend=picky").assert_outcomes(passed=2, xfailed=1)


def test_without_a_backend_everything_runs_on_the_default(picky):
    _run(picky, "py").assert_outcomes(passed=3)


def test_an_unavailable_backend_is_a_usage_error(picky, monkeypatch):
    monkeypatch.setenv("OPCORE_TEST_BACKEND", "broken")
    result = _run(picky, "broken")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*OPCORE_TEST_BACKEND=broken: backend 'broken' is unavailable: "
                                 "no device*"])
