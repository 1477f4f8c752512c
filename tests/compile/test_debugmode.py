"""DebugMode: cross-checks implementations, destroy_map/view_map honesty and infer_shape."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.debugmode import DebugMode, DebugModeError
from opcore.compile.mode import get_mode
from opcore.graph.basic import Apply
from opcore.graph.op import Op

warnings.filterwarnings("ignore", message=".*installed but unavailable.*")


class _Base(Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class SneakyInplace(_Base):
    """Overwrites its input without declaring destroy_map."""

    def perform(self, node, inputs, out):
        x = inputs[0]
        x *= 2
        out[0][0] = x.copy()


class HiddenView(_Base):
    """Returns its input itself without declaring view_map."""

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0]


class WrongShape(_Base):
    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * 2

    def infer_shape(self, node, shapes):
        return [tuple(s + 1 for s in shapes[0])]


def test_get_mode_debugmode_and_good_graph():
    m = get_mode("DebugMode")
    assert isinstance(m, DebugMode)
    x = T.dmatrix("x")
    y = T.dvector("y")
    f = opcore.function([x, y], [T.tanh(T.dot(x, y) + 1).sum(), T.exp(x) * 2 + 1], mode=m)
    xv, yv = np.ones((3, 2)), np.arange(2.0)
    a, b = f(xv, yv)
    np.testing.assert_allclose(a, np.tanh(xv @ yv + 1).sum())
    np.testing.assert_allclose(b, np.exp(xv) * 2 + 1)


@pytest.mark.parametrize("op, match", [
    (SneakyInplace(), "modified its input 0.*destroy_map"),
    (HiddenView(), "shares memory with input 0"),
    (WrongShape(), r"infer_shape.*gave \(4, 5\).*real shape is \(3, 4\)"),
])
def test_broken_ops_are_caught(op, match):
    x = T.dmatrix("x")
    f = opcore.function([x], op(x) + 1, mode=DebugMode())
    with pytest.raises(DebugModeError, match=match):
        f(np.ones((3, 4)))


def test_backend_disagreement_is_reported(monkeypatch):
    from opcore.compile import debugmode

    class LyingLinker:
        def make_thunk(self, node, storage_map):
            def thunk():
                storage_map[node.outputs[0]][0] = np.zeros(1) + 42.0
            return thunk

    mode = DebugMode()
    linker = mode.linker_obj
    monkeypatch.setattr(linker, "other_linkers", lambda: [("liar", LyingLinker())])
    x = T.dvector("x")
    f = opcore.function([x], T.exp(x), mode=mode)
    with pytest.raises(debugmode.DebugModeError, match="backend 'liar' disagrees.*Elemwise"):
        f(np.zeros(1))


def test_inplace_graphs_pass_debugmode():
    x = T.dvector("x")
    f = opcore.function([x], [T.sin(T.exp(x)) * 2, T.cos(T.exp(x) + 1)],
                        mode=DebugMode().excluding("fusion"))
    v = np.linspace(0, 1, 4)
    a, b = f(v)
    np.testing.assert_allclose(a, np.sin(np.exp(v)) * 2)
    np.testing.assert_allclose(b, np.cos(np.exp(v) + 1))
