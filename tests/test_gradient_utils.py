"""opcore.gradient helpers: zero_grad, disconnected_grad, consider_constant, grad_clip,
grad_scale, subgraph_grad, numeric_grad (checked against hand derivatives and finite
differences)."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import gradient as G

XV = np.array([0.5, -2.0, 3.0])


def _grad_value(cost_fn, xv=XV, **kw):
    x = T.dvector("x")
    return opcore.function([x], G.grad(cost_fn(x), x, **kw))(xv)


@pytest.mark.parametrize("helper", [G.zero_grad, G.consider_constant])
def test_zero_grad_blocks_one_path(helper):
    # d/dx sum(x * h(x)^2) with h's gradient zeroed = h(x)^2 = x^2
    np.testing.assert_allclose(_grad_value(lambda x: (x * helper(x) ** 2).sum()), XV ** 2)


def test_disconnected_grad():
    np.testing.assert_allclose(_grad_value(lambda x: (x * G.disconnected_grad(x)).sum()), XV)
    with pytest.raises(G.DisconnectedInputError):
        _grad_value(lambda x: G.disconnected_grad(x).sum())
    np.testing.assert_allclose(_grad_value(lambda x: G.disconnected_grad(x).sum(),
                                           disconnected_inputs="ignore"), 0 * XV)


def test_grad_clip():
    # d/dx sum(3 * x^2) = 6x, clipped to [-1, 2] on the way back through grad_clip
    g = _grad_value(lambda x: (3 * G.grad_clip(x, -1.0, 2.0) ** 2).sum())
    np.testing.assert_allclose(g, np.clip(6 * XV, -1.0, 2.0))
    with pytest.raises(ValueError, match="upper bound"):
        G.grad_clip(T.dvector(), 1.0, 0.0)


def test_grad_scale_constant_and_symbolic():
    np.testing.assert_allclose(_grad_value(lambda x: (G.grad_scale(x, 0.5) ** 2).sum()),
                               0.5 * 2 * XV)
    x, m = T.dvector("x"), T.dscalar("m")
    g = G.grad((G.grad_scale(x, m) ** 3).sum(), x)
    np.testing.assert_allclose(opcore.function([x, m], g)(XV, -2.0), -2.0 * 3 * XV ** 2)


def test_forward_values_unchanged_and_ops_removed():
    x = T.dvector("x")
    outs = [G.zero_grad(x), G.disconnected_grad(x), G.grad_clip(x, -1, 1),
            G.grad_scale(x, 3.0), G.consider_constant(x)]
    f = opcore.function([x], [o * 2 for o in outs])
    for r in f(XV):
        np.testing.assert_array_equal(r, 2 * XV)
    ops = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    assert not ops & {"ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale",
                      "ConsiderConstant"}, ops


def test_rop_through_gradient_ops():
    x, v = T.dvector("x"), T.dvector("v")
    r = G.Rop(G.grad_clip(x, -1, 1) * 2, x, v)
    np.testing.assert_allclose(opcore.function([x, v], r)(XV, np.ones(3)), 2 * np.ones(3))
    assert T.Rop is G.Rop and T.Lop is G.Lop


def test_subgraph_grad_matches_full_grad():
    # two-stage model: h = tanh(W1 x), cost = sum((W2 h)^2); backprop in two pieces
    rng = np.random.default_rng(0)
    w1v, w2v, xv = rng.random((3, 4)), rng.random((2, 3)), rng.random(4)
    x = T.dvector("x")
    W1, W2 = T.dmatrix("W1"), T.dmatrix("W2")
    h = T.tanh(T.dot(W1, x))
    cost = (T.dot(W2, h) ** 2).sum()
    full = G.grad(cost, [W1, W2])
    g2, (gh,) = G.subgraph_grad(wrt=[W2], end=[h], cost=cost)
    g1, _ = G.subgraph_grad(wrt=[W1], end=[x], start={h: gh})
    f = opcore.function([x, W1, W2], full + g2 + g1)
    fw1, fw2, sw2, sw1 = f(xv, w1v, w2v)
    np.testing.assert_allclose(sw2, fw2)
    np.testing.assert_allclose(sw1, fw1)
    details = G.subgraph_grad(wrt=[W2], end=[h], cost=cost, details=True)
    assert len(details) == 4
    with pytest.raises(ValueError, match="start"):
        G.subgraph_grad([W2], [h])


def test_numeric_grad():
    def f(a, b):
        return float((a ** 2).sum() + (a * b).sum())

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ng = G.numeric_grad(f, [a, b], eps=1e-6)
    np.testing.assert_allclose(ng.gf[0], 2 * a + b, atol=1e-4)
    np.testing.assert_allclose(ng.gf[1], a, atol=1e-4)
    single = G.numeric_grad(lambda v: float((v ** 3).sum()), np.array([2.0]))
    np.testing.assert_allclose(single.gf, [12.0], rtol=1e-4)
    arg, pos, abs_err, rel_err = ng.max_err([2 * a + b, a + 1], 1e-4, 1e-4)
    assert arg == 1 and abs_err == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="2 points"):
        ng.abs_rel_errors([a])
    with pytest.raises(ValueError, match="scalar"):
        G.numeric_grad(lambda v: v, np.ones(2))
