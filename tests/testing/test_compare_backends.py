"""compare_backends and check_op_contract across several backends, with an in-process host."""

from __future__ import annotations

import types

import numpy as np
import pytest
from ops_for_tests import AXPB

import opcore.tensor as T
from opcore.compile.linker import Linker, PyLinker
from opcore.plugins import Backend, BackendError, PluginWarning, UnsupportedOp, hookimpl
from opcore.core_plugin import PY_BACKEND
from opcore.plugins.manager import PluginHost, _reset_host
from opcore.tensor.elemwise import CAReduce
from opcore.testing import check_op_contract, compare_backends


class OffByOneLinker(Linker):
    """A buggy backend: every float result is one too large."""

    backend_name = "offbyone"

    def make_thunk(self, node, storage_map):
        inner = super().make_thunk(node, storage_map)
        cells = [storage_map[o] for o in node.outputs]

        def thunk():
            inner()
            for cell in cells:
                cell[0] = cell[0] + np.asarray(1, dtype=cell[0].dtype)

        thunk.inputs = getattr(inner, "inputs", None)
        thunk.outputs = cells
        return thunk


def _picky_supports(op):
    if isinstance(op, CAReduce):
        return False, "picky cannot reduce yet"
    return True, ""


def _core_with(*extra: Backend) -> types.ModuleType:
    module = types.ModuleType("test_core")

    @hookimpl
    def opcore_register_backends(backends):
        backends.register(PY_BACKEND)
        for backend in extra:
            backends.register(backend)

    module.opcore_register_backends = opcore_register_backends
    return module


@pytest.fixture
def host_with(monkeypatch):
    """Install a fresh process-wide host whose core registers extra backends."""
    monkeypatch.setenv("OPCORE_PLUGINS", "")  # only our in-process backends
    previous = []

    def install(*extra: Backend) -> PluginHost:
        host = PluginHost(builtin=_core_with(*extra))
        previous.append(_reset_host(host))
        return host.ensure_loaded()

    yield install
    if previous:
        _reset_host(previous[0])


PICKY = Backend("picky", priority=-1, linker_factory=lambda mode: PyLinker(),
                supports=_picky_supports)
OFF = Backend("offbyone", priority=-2, linker_factory=lambda mode: OffByOneLinker())


def test_agreeing_backends(host_with):
    host_with(PICKY)
    x = T.dmatrix("x")
    result = compare_backends([x], [x * 2], [np.ones((2, 3))])
    assert sorted(result) == ["picky", "py"]
    np.testing.assert_array_equal(result["picky"][0], np.full((2, 3), 2.0))
    assert result.skipped == {}


def test_unsupported_op_is_skipped_or_raised(host_with):
    host_with(PICKY)
    x = T.dmatrix("x")
    result = compare_backends([x], [x.sum()], [np.ones((2, 3))])
    assert list(result) == ["py"]
    assert "picky cannot reduce yet" in result.skipped["picky"]
    with pytest.raises(UnsupportedOp, match="backend 'picky' does not support"):
        compare_backends([x], [x.sum()], [np.ones((2, 3))], backends=["picky"])


def test_disagreeing_backend_is_reported(host_with):
    host_with(OFF)
    x = T.dvector("x")
    with pytest.raises(AssertionError, match="output 0 on backend 'offbyone' vs 'py'"):
        compare_backends([x], [x * 2], [np.arange(3.0)])
    with pytest.raises(AssertionError, match="on backend 'offbyone' vs perform"):
        check_op_contract(AXPB(2.0, 1.0), [np.arange(3.0)])


def test_contract_runs_every_healthy_backend(host_with):
    sick = Backend("sick", priority=5, available=lambda: (False, "no hardware"))
    host_with(PICKY, sick)
    with pytest.warns(PluginWarning, match="backend 'sick' .* unavailable, skipped: no hardware"):
        report = check_op_contract(AXPB(2.0, 1.0), [np.arange(3.0)])
    assert {"backend:py", "backend:picky"} <= set(report.checked)
    assert "backend:sick" not in report.checked


def test_explicitly_named_unavailable_backend_is_an_error(host_with):
    host_with(Backend("sick", available=lambda: (False, "no hardware")))
    x = T.dvector("x")
    with pytest.raises(BackendError, match="backend 'sick' is unavailable: no hardware"):
        compare_backends([x], [x + 1], [np.arange(3.0)], backends=["sick"])
