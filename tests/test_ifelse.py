"""ifelse: lazy evaluation (only the taken branch runs), values, gradients, shapes, rewrites."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph
from opcore.graph.op import Op
from opcore.ifelse import IfElse, ifelse
from opcore.scan import rewriting as R

warnings.filterwarnings("ignore", message=".*backend 'gpu'.*")


class CountingSum(Op):
    """Sum of a matrix that counts how many times it ran (instance attribute ``calls``)."""

    __props__ = ("tag_",)

    def __init__(self, tag_):
        self.tag_ = tag_
        self.calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [T.dscalar()])

    def perform(self, node, inputs, out):
        type(self).total[self.tag_] = type(self).total.get(self.tag_, 0) + 1
        out[0][0] = np.asarray(inputs[0].sum(), dtype="float64")


CountingSum.total = {}


@pytest.fixture
def counted():
    CountingSum.total = {}
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    return a, b, x, y, CountingSum("then")(x), CountingSum("else")(y)


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE", "vm", "py", "cvm", "c|py"])
def test_only_the_taken_branch_runs(counted, mode):
    a, b, x, y, sx, sy = counted
    if mode in ("vm", "py", "cvm", "c|py"):
        mode = opcore.Mode(linker=mode)
    f = opcore.function([a, b, x, y], ifelse(T.lt(a, b), sx, sy), mode=mode)
    xv, yv = np.ones((3, 4)), np.full((2, 2), 2.0)
    assert float(f(0.0, 1.0, xv, yv)) == 12.0
    assert CountingSum.total == {"then": 1}
    assert float(f(2.0, 1.0, xv, yv)) == 8.0
    assert CountingSum.total == {"then": 1, "else": 1}
    for _ in range(3):
        f(0.0, 1.0, xv, yv)
    assert CountingSum.total == {"then": 4, "else": 1}


def test_switch_runs_both_branches(counted):
    a, b, x, y, sx, sy = counted
    f = opcore.function([a, b, x, y], T.switch(T.lt(a, b), sx, sy))
    assert float(f(0.0, 1.0, np.ones((2, 2)), np.ones((2, 2)))) == 4.0
    assert CountingSum.total == {"then": 1, "else": 1}


def test_tutorial_example_values():
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f = opcore.function([a, b, x, y], z, mode=opcore.Mode(linker="vm"))
    m1 = np.arange(6, dtype=opcore.config.floatX).reshape(2, 3)
    m2 = -np.ones((4, 1), dtype=opcore.config.floatX)
    np.testing.assert_allclose(f(0.0, 1.0, m1, m2), m1.mean())
    np.testing.assert_allclose(f(1.0, 0.0, m1, m2), m2.mean())


def test_list_branches_and_shapes():
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    outs = ifelse(c, [x, x.sum()], [y * 2, y.max()])
    f = opcore.function([c, x, y], outs)
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    r1, r2 = f(1, xv, yv)
    np.testing.assert_allclose(r1, xv)
    assert float(r2) == 3.0
    r1, r2 = f(0, xv, yv)
    np.testing.assert_allclose(r1, yv * 2)
    assert float(r2) == 5.0
    # the output never aliases an input buffer
    r1, _ = f(1, xv, yv)
    r1[0] = 100.0
    assert xv[0] == 1.0
    shp = opcore.function([c, x, y], ifelse(c, x, y).shape)
    assert tuple(shp(1, xv, yv)) == (2,)
    assert tuple(shp(0, xv, yv)) == (3,)


def test_gradients_select_the_branch():
    c = T.dscalar("c")
    x, y = T.dvectors("x", "y")
    cost = ifelse(T.gt(c, 0), (x ** 2).sum(), (3 * y).sum())
    gx, gy = T.grad(cost, [x, y])
    f = opcore.function([c, x, y], [gx, gy])
    xv, yv = np.array([1.0, -2.0]), np.array([5.0, 6.0])
    a, b = f(1.0, xv, yv)
    np.testing.assert_allclose(a, 2 * xv)
    np.testing.assert_allclose(b, 0 * yv)
    a, b = f(-1.0, xv, yv)
    np.testing.assert_allclose(a, 0 * xv)
    np.testing.assert_allclose(b, 3 + 0 * yv)


def test_gradient_by_finite_differences():
    rng = np.random.default_rng(1)
    for sign in (1.0, -1.0):
        opcore.gradient.verify_grad(
            lambda x, y: ifelse(T.gt(sign, 0), T.tanh(x) * y, y ** 2),
            [rng.standard_normal(4), rng.standard_normal(4)], rng=rng)


def test_rop():
    c = T.dscalar("c")
    x, v = T.dvectors("x", "v")
    out = ifelse(T.gt(c, 0), x ** 2, T.sin(x))
    r = opcore.gradient.Rop(out, x, v)
    f = opcore.function([c, x, v], r)
    xv, vv = np.array([0.5, 1.5]), np.array([1.0, -2.0])
    np.testing.assert_allclose(f(1.0, xv, vv), 2 * xv * vv)
    np.testing.assert_allclose(f(-1.0, xv, vv), np.cos(xv) * vv)


def test_errors():
    x = T.dvector("x")
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="then-branch .* else-branch"):
        ifelse(T.iscalar(), x, m)
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(x, x, x)
    with pytest.raises(ValueError, match="same number"):
        ifelse(T.iscalar(), [x, x], [x])
    with pytest.raises(ValueError, match="unknown linker 'nope'.*cvm.*vm"):
        opcore.Mode(linker="nope")


def test_int_and_float_branches_of_python_numbers():
    c = T.iscalar("c")
    x = T.dscalar("x")
    f = opcore.function([c, x], ifelse(c, x, 0))
    assert float(f(0, 3.0)) == 0.0
    assert float(f(1, 3.0)) == 3.0


# -- rewrites, applied directly to FunctionGraphs --------------------------------------------------
def _ops(fg):
    return [type(n.op).__name__ for n in fg.toposort()]


def _apply(rule, fg):
    for node in list(fg.toposort()):
        if node not in fg.apply_nodes:
            continue
        res = rule(fg, node)
        if res:
            pairs = res.items() if isinstance(res, dict) else zip(node.outputs, res)
            for old, new in list(pairs):
                fg.replace(old, new)


def _eval(fg, *vals):
    f = opcore.function(fg.inputs, fg.outputs, mode="FAST_COMPILE", on_unused_input="ignore")
    return f(*vals)


def test_rewrite_constant_condition():
    x, y = T.dvectors("x", "y")
    fg = FunctionGraph([x, y], [ifelse(T.constant(1), x * 2, y)], clone=False)
    _apply(R.ifelse_constant_condition, fg)
    assert "IfElse" not in _ops(fg)
    np.testing.assert_allclose(_eval(fg, np.ones(2), np.zeros(2))[0], [2.0, 2.0])


def test_rewrite_same_branches_and_nested():
    c = T.iscalar("c")
    x, y, z = T.dvectors("x", "y", "z")
    fg = FunctionGraph([c, x], [ifelse(c, x, x)], clone=False)
    _apply(R.ifelse_same_branches, fg)
    assert fg.outputs[0] is fg.inputs[1]
    out = ifelse(c, ifelse(c, x, y), z)
    fg = FunctionGraph([c, x, y, z], [out], clone=False)
    ref = _eval(fg, 1, np.ones(2), np.zeros(2), np.full(2, 7.0))
    _apply(R.ifelse_nested_same_condition, fg)
    (node,) = [n for n in fg.toposort() if isinstance(n.op, IfElse) and n.inputs[1] is x]
    assert node.outputs[0] in fg.outputs
    for cv in (0, 1):
        vals = (cv, np.ones(2), np.zeros(2), np.full(2, 7.0))
        expect = np.ones(2) if cv else np.full(2, 7.0)
        np.testing.assert_allclose(_eval(fg, *vals)[0], expect)
    np.testing.assert_allclose(ref[0], np.ones(2))


def test_rewrite_merge_and_lift():
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    a = ifelse(c, x.sum(), y.sum())
    b = ifelse(c, x.max(), y.min())
    fg = FunctionGraph([c, x, y], [a * 2, b], clone=False)
    _apply(R.ifelse_merge_same_condition, fg)
    assert _ops(fg).count("IfElse") == 1
    _apply(R.ifelse_lift_elemwise, fg)
    (node,) = [n for n in fg.toposort() if isinstance(n.op, IfElse)]
    assert all(o in fg.outputs for o in node.outputs)  # the *2 moved into the branches
    xv, yv = np.array([1.0, 5.0]), np.array([-1.0, 3.0])
    for cv in (0, 1):
        r = _eval(fg, cv, xv, yv)
        expect = [2 * xv.sum(), xv.max()] if cv else [2 * yv.sum(), yv.min()]
        np.testing.assert_allclose(r, expect)


def test_rewrites_run_when_compiling():
    c = T.iscalar("c")
    x = T.dvector("x")
    a = ifelse(c, x.sum(), x.max())
    b = ifelse(c, x.min(), x.mean())
    f = opcore.function([c, x], [a, b])
    assert sum(isinstance(n.op, IfElse) for n in f.maker.fgraph.apply_nodes) == 1
    xv = np.array([1.0, 4.0, 2.0])
    np.testing.assert_allclose(f(1, xv), [7.0, 1.0])
    np.testing.assert_allclose(f(0, xv), [4.0, xv.mean()])


def test_ifelse_view_rewrite_aliases_only_private_buffers():
    c = T.dscalar("c")
    x, y = T.dmatrices("x", "y")
    out = ifelse(T.gt(c, 0), T.exp(x), T.log(y))
    f = opcore.function([c, x, y], [out, out + 1])
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, IfElse)]
    assert node.op.as_view and node.op.view_map == {0: [1, 2]}
    xv, yv = np.ones((3, 3)), np.full((3, 3), 2.0)
    a, b = f(1.0, xv, yv)
    np.testing.assert_allclose([a, b], [np.exp(xv), np.exp(xv) + 1])
    a2, b2 = f(-1.0, xv, yv)
    np.testing.assert_allclose([a2, b2], [np.log(yv), np.log(yv) + 1])
    np.testing.assert_allclose(a, np.exp(xv))  # the first result was not overwritten
    # a branch that is a function input is never aliased (the caller's array stays private)
    g = opcore.function([c, x, y], ifelse(T.gt(c, 0), x, T.log(y)))
    (node,) = [n for n in g.maker.fgraph.toposort() if isinstance(n.op, IfElse)]
    assert not node.op.as_view
    r = g(1.0, xv, yv)
    r[0, 0] = 5.0
    assert xv[0, 0] == 1.0
