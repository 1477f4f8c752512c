"""pool_3d / max_pool_3d against a loop reference, pool_2d with symbolic ws/stride/pad (Theano's
``Pool(ignore_border, mode, ndim)(x, ws, stride, pad)``), and Theano 1.0's ignore_border
default."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract

from opcore_nnet.pool import Pool, PoolGrad

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def _ref_pool_nd(x, ws, st, pad, mode, ib):
    """Loop reference over output positions, any number of pooled axes."""
    nd = len(ws)
    sizes = x.shape[-nd:]
    outs = Pool(ws, ib, st, pad, mode).out_shape(*sizes)
    out = np.zeros(x.shape[:-nd] + outs)
    for pos in itertools.product(*(range(o) for o in outs)):
        lo = [p * s - q for p, s, q in zip(pos, st, pad)]
        hi = [a + w for a, w in zip(lo, ws)]
        win = x[(Ellipsis,) + tuple(slice(max(a, 0), min(b, n)) for a, b, n in
                                    zip(lo, hi, sizes))]
        axes = tuple(range(-nd, 0))
        if mode == "max":
            val = win.max(axis=axes)
        elif mode == "sum":
            val = win.sum(axis=axes)
        elif mode == "average_exc_pad":
            val = win.mean(axis=axes)
        else:
            val = win.sum(axis=axes) / np.prod([min(b, n + q) - a for a, b, n, q in
                                                zip(lo, hi, sizes, pad)])
        out[(Ellipsis,) + pos] = val
    return out


GEOMS3 = [((2, 2, 2), (2, 2, 2), (0, 0, 0), True), ((2, 3, 2), (1, 2, 2), (1, 1, 0), True),
          ((3, 2, 2), (2, 2, 1), (0, 0, 0), False)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws,st,pad,ib", GEOMS3)
def test_pool_3d_reference_contract_grad(rng, mode, ws, st, pad, ib):
    xv = rng.standard_normal((2, 5, 4, 5))
    x = T.dtensor4("x")
    got = opcore.function([x], T.nnet.pool_3d(x, ws, ignore_border=ib, stride=st, pad=pad,
                                              mode=mode))(xv)
    np.testing.assert_allclose(got, _ref_pool_nd(xv, ws, st, pad, mode, ib), atol=1e-12)
    op = Pool(ws, ib, st, pad, mode)
    assert op.ndim == 3
    report = check_op_contract(op, [xv])
    assert {"grad", "infer_shape"} <= set(report.checked)
    check_op_contract(PoolGrad(ws, ib, st, pad, mode), [xv, rng.standard_normal(got.shape)],
                      check_grad=mode != "max")


def test_max_pool_3d_grad_ties_and_5d(rng):
    from opcore.tensor.signal import pool

    x5 = T.TensorType("float64", shape=(None,) * 5)("x")
    xv = rng.standard_normal((1, 2, 4, 4, 4))
    y = pool.max_pool_3d(x5, (2, 2, 2), ignore_border=True)
    g = opcore.grad(y.sum(), x5)
    yv, gv = opcore.function([x5], [y, g])(xv)
    np.testing.assert_allclose(yv, _ref_pool_nd(xv, (2, 2, 2), (2, 2, 2), (0, 0, 0), "max", True))
    # each disjoint window sends its gradient to its maximum: one 1 per window
    assert gv.sum() == yv.size and set(np.unique(gv)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.where(gv == 1, xv, -np.inf).max(), xv.max())
    # tied maxima all receive the window's gradient, as Theano's MaxPoolGrad does
    tied = np.ones((1, 1, 2, 2, 2))
    gt = opcore.function([x5], opcore.grad(pool.pool_3d(x5, (2, 2, 2), True).sum(), x5))(tied)
    np.testing.assert_array_equal(gt, np.ones_like(tied))
    verify_grad(lambda a: pool.pool_3d(a, (2, 1, 2), True, mode="average_exc_pad",
                                       pad=(1, 0, 1)), [xv], rng=np.random.RandomState(0))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws,st,pad,ib", [GEOMS3[1], ((2, 2, 3), (3, 1, 2), (0, 0, 0), False)])
def test_pool_3d_c_kernels_match_perform(rng, c_mode, mode, ws, st, pad, ib):
    x, g = T.dtensor4("x"), T.dtensor4("g")
    xv = rng.standard_normal((2, 5, 4, 7))
    xv[0, 1, 1, 1] = xv[0, 1, 1, 2]  # a tie
    op = Pool(ws, ib, st, pad, mode)
    gz = rng.standard_normal(xv.shape[:1] + op.out_shape(*xv.shape[1:]))
    outs = [op(x), PoolGrad(ws, ib, st, pad, mode)(x, g)]
    f = opcore.function([x, g], outs, mode=c_mode)
    assert {"Pool", "PoolGrad"} <= {type(n.op).__name__ for n in getattr(f.linker, "c_nodes", [])}
    got, ref = f(xv, gz), opcore.function([x, g], outs)(xv, gz)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got[0], _ref_pool_nd(xv, ws, st, pad, mode, ib), atol=1e-12)


def test_pool_3d_c_float32_5d_and_nan(rng, c_mode):
    x = T.tensor5("x", dtype="float32")
    xv = rng.standard_normal((2, 2, 4, 5, 6)).astype("float32")
    xv[1, 0, 2, 2, 2] = np.nan
    for mode in MODES:
        y = T.nnet.pool_3d(x, (2, 2, 2), ignore_border=True, mode=mode)
        got = opcore.function([x], y, mode=c_mode)(xv)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, _ref_pool_nd(xv.astype(np.float64), (2, 2, 2),
                                                     (2, 2, 2), (0, 0, 0), mode, True),
                                   rtol=1e-5, atol=1e-5)
        assert np.isnan(got[1, 0, 1, 1, 1])


@pytest.mark.parametrize("mode", MODES)
def test_pool_2d_symbolic_params(rng, mode):
    x, ws, st, pad = T.dtensor4("x"), T.lvector("ws"), T.lvector("st"), T.lvector("pad")
    y = T.nnet.pool_2d(x, ws, ignore_border=True, stride=st, pad=pad, mode=mode)
    assert y.owner.op.symbolic and y.owner.op == Pool(ignore_border=True, mode=mode, ndim=2)
    f = opcore.function([x, ws, st, pad], y)
    xv = rng.standard_normal((2, 3, 7, 6))
    for w, s, p in [((2, 2), (2, 2), (0, 0)), ((3, 2), (1, 2), (1, 1)), ((2, 3), (3, 1), (1, 0))]:
        np.testing.assert_allclose(f(xv, w, s, p), _ref_pool_nd(xv, w, s, p, mode, True),
                                   atol=1e-12)
    # gradient through the symbolic form
    g = opcore.grad(y.sum(), x)
    fg = opcore.function([x, ws, st, pad], g)
    fixed = opcore.function([x], opcore.grad(T.nnet.pool_2d(x, (3, 2), True, (1, 2), (1, 1),
                                                            mode).sum(), x))
    np.testing.assert_allclose(fg(xv, [3, 2], [1, 2], [1, 1]), fixed(xv), atol=1e-12)
    # bad run-time parameters raise, naming the problem
    with pytest.raises(ValueError, match="pad"):
        f(xv, [2, 2], [2, 2], [2, 0])
    with pytest.raises(ValueError, match="2 entries"):
        f(xv, [2, 2, 2], [2, 2], [0, 0])


def test_symbolic_pool_contract_infer_shape_and_theano_form(rng):
    xv = rng.standard_normal((2, 3, 7, 6))
    ints = [T.lvector("ws"), T.lvector("st"), T.lvector("pad")]
    for ib in (True, False):
        op = Pool(ib, "max", 2)        # Theano's positional Pool(ignore_border, mode, ndim)
        assert op.symbolic and op.ignore_border is ib and op.mode == "max"
        pad = [1, 0] if ib else [0, 0]
        report = check_op_contract(op, [xv, np.array([3, 2]), np.array([2, 1]), np.array(pad)],
                                   [T.dtensor4("x")] + ints, check_grad=False)
        assert "infer_shape" in report.checked
    # the symbolic-form gradient op is Theano-shaped too
    gz = rng.standard_normal((2, 3, 3, 5))
    check_op_contract(PoolGrad(ignore_border=True, mode="sum"),
                      [xv, gz, np.array([3, 2]), np.array([2, 1]), np.array([0, 0])],
                      [T.dtensor4("x"), T.dtensor4("gz")] + ints, check_grad=False)


def test_symbolic_pool_with_constant_params_becomes_fixed_and_runs_c(rng, c_mode):
    x = T.dtensor4("x")
    ws = T.as_tensor_variable(np.array([2, 2]))
    y = Pool(ignore_border=True, mode="max", ndim=2)(x, ws)
    f = opcore.function([x], [y, opcore.grad(y.sum(), x)], mode=c_mode)
    ops = [n.op for n in f.maker.fgraph.toposort()]
    assert not any(isinstance(o, (Pool, PoolGrad)) and o.symbolic for o in ops)
    assert any(isinstance(o, Pool) and o.ws == (2, 2) for o in ops)
    xv = rng.standard_normal((1, 2, 4, 6))
    yv, gv = f(xv)
    np.testing.assert_allclose(yv, _ref_pool_nd(xv, (2, 2), (2, 2), (0, 0), "max", True))


def test_pool_2d_ignore_border_default_is_theano_1_0(rng):
    x = T.dtensor4("x")
    with pytest.warns(UserWarning, match="ignore_border"):
        y = T.nnet.pool_2d(x, (2, 2))
    xv = rng.standard_normal((1, 1, 5, 5))
    got = opcore.function([x], y)(xv)
    assert got.shape == (1, 1, 3, 3)  # partial border windows are pooled (ignore_border=False)
    np.testing.assert_allclose(got, _ref_pool_nd(xv, (2, 2), (2, 2), (0, 0), "max", False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.nnet.pool_2d(x, (2, 2), ignore_border=True)


@pytest.mark.parametrize("ws,st,pad,ib", [((2, 2), (2, 2), (0, 0), True),
                                          ((3, 2), (1, 2), (1, 0), True),
                                          ((2, 2, 2), (1, 2, 2), (0, 0, 0), False)])
def test_second_derivative_of_max_pooling(rng, ws, st, pad, ib):
    from opcore.tensor.signal.pool import DownsampleFactorMaxGradGrad

    xv = rng.standard_normal((2, 5, 6, 5))
    op = Pool(ws, ib, st, pad, "max")
    gz = rng.standard_normal(xv.shape[:4 - len(ws)] + op.out_shape(*xv.shape[4 - len(ws):]))
    # the gradient of PoolGrad w.r.t. gz, checked by finite differences (x fixed, no ties)
    verify_grad(lambda g: PoolGrad(ws, ib, st, pad, "max")(xv, g), [gz],
                rng=np.random.RandomState(0))
    # values: for each window, the sum of ggx over the elements equal to its maximum
    x, m, gg = T.dtensor4("x"), T.dtensor4("m"), T.dtensor4("gg")
    ggv = rng.standard_normal(xv.shape)
    maxout = opcore.function([x], op(x))(xv)
    got = opcore.function([x, m, gg], DownsampleFactorMaxGradGrad(ws, ib, st, pad)(x, m, gg))(
        xv, maxout, ggv)
    # reference: <PoolGrad(x, e_o), ggx> for each unit vector e_o of the pooled shape
    pg = opcore.function([x, m], PoolGrad(ws, ib, st, pad, "max")(x, m))
    ref = np.zeros(maxout.shape)
    for idx in np.ndindex(*maxout.shape):
        e = np.zeros(maxout.shape)
        e[idx] = 1
        ref[idx] = np.sum(pg(xv, e) * ggv)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    check_op_contract(DownsampleFactorMaxGradGrad(ws, ib, st, pad), [xv, maxout, ggv],
                      check_grad=False)


def test_gradient_penalty_through_max_pooling(rng):
    # d/dW of |d cost / d x|^2 needs the derivative of max pooling's gradient w.r.t. gz
    x, W = T.dmatrix("x"), T.dmatrix("W")
    h = T.dot(x, W).reshape((2, 1, 4, 4))
    cost = (T.nnet.pool_2d(h, (2, 2), ignore_border=True) ** 2).sum()
    penalty = (opcore.grad(cost, x) ** 2).sum()
    xv, wv = rng.standard_normal((2, 3)), rng.standard_normal((3, 16))
    verify_grad(lambda w: (opcore.grad((T.nnet.pool_2d(T.dot(xv, w).reshape((2, 1, 4, 4)),
                                                       (2, 2), ignore_border=True) ** 2).sum(),
                                       w) ** 2).sum(), [wv], rng=np.random.RandomState(0))
    g = opcore.function([x, W], opcore.grad(penalty, W))(xv, wv)
    assert g.shape == wv.shape and np.all(np.isfinite(g))


def test_theano_gradient_op_classes(rng):
    from opcore.tensor.signal.pool import AveragePoolGrad, DownsampleFactorMaxGradGrad, MaxPoolGrad

    x, gz, mo = T.dtensor4("x"), T.dtensor4("gz"), T.dtensor4("mo")
    xv = rng.standard_normal((1, 2, 6, 5))
    ws = T.as_tensor_variable(np.array([2, 2]))
    gv, ga = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((1, 2, 4, 3))
    maxg = MaxPoolGrad(False)(x, mo, gz, [2, 2])
    avgg = AveragePoolGrad(True, "average_exc_pad")(x, gz, [2, 1], [2, 2], [1, 0])
    got = [opcore.function([x, mo, gz], maxg, on_unused_input="ignore")(
        xv, np.zeros((1, 2, 3, 3)), gv), opcore.function([x, gz], avgg)(xv, ga)]
    ref_max = opcore.function([x, gz], PoolGrad((2, 2), False, mode="max")(x, gz))(xv, gv)
    ref_avg = opcore.function([x, gz], PoolGrad((2, 1), True, (2, 2), (1, 0),
                                                "average_exc_pad")(x, gz))(xv, ga)
    np.testing.assert_allclose(got[0], ref_max)
    np.testing.assert_allclose(got[1], ref_avg)
    with pytest.raises(ValueError, match="average"):
        AveragePoolGrad(True, "max")
    # the symbolic second-derivative op becomes the fixed one for constant parameters
    dd = DownsampleFactorMaxGradGrad(True, "max", 2)(x, mo, x, ws)
    f = opcore.function([x, mo], dd)
    assert not any(getattr(n.op, "symbolic", False) for n in f.maker.fgraph.toposort())


@pytest.mark.parametrize("mode", MODES)
def test_pool_rop_vs_finite_differences(rng, mode):
    from opcore.gradient import Rop

    x, v = T.dtensor4("x"), T.dtensor4("v")
    xv, vv = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((2, 2, 5, 6))
    y = T.nnet.pool_2d(x, (2, 3), ignore_border=False, stride=(2, 2), mode=mode)
    f = opcore.function([x], y)
    got = opcore.function([x, v], Rop(y, x, v), on_unused_input="ignore")(xv, vv)
    eps = 1e-6
    np.testing.assert_allclose(got, (f(xv + eps * vv) - f(xv - eps * vv)) / (2 * eps),
                               rtol=1e-6, atol=1e-6)
    # 3-d pooling through the symbolic form as well
    ws = T.lvector("ws")
    y3 = T.nnet.pool_3d(x, ws, ignore_border=True, mode=mode)
    f3 = opcore.function([x, ws], y3)
    r3 = opcore.function([x, v, ws], Rop(y3, x, v), on_unused_input="ignore")(xv, vv, [2, 2, 2])
    fd3 = (f3(xv + eps * vv, [2, 2, 2]) - f3(xv - eps * vv, [2, 2, 2])) / (2 * eps)
    np.testing.assert_allclose(r3, fd3, rtol=1e-6, atol=1e-6)
    # the max R-op takes the first maximum on ties, as Theano's MaxPoolRop
    if mode == "max":
        tie = np.zeros((1, 1, 2, 2))
        ev = np.arange(4.0).reshape(1, 1, 2, 2) + 1
        r = opcore.function([x, v], Rop(T.nnet.pool_2d(x, (2, 2), True), x, v))(tie, ev)
        assert r.ravel().tolist() == [1.0]


def test_theano_static_out_shape(rng):
    from opcore.tensor.signal.pool import Pool as TPool

    assert TPool.out_shape((2, 3, 7, 6), (2, 2), False) == [2, 3, 4, 3]
    assert TPool.out_shape((2, 3, 7, 6), (3, 2), True, (2, 1), (1, 0)) == [2, 3, 4, 5]
    assert TPool.out_shape((5, 7, 6, 5), (2, 2, 2), ignore_border=True, ndim=3) == [5, 3, 3, 2]
    assert Pool(True, "max", 2).out_shape((1, 1, 5, 5), (2, 2), True) == [1, 1, 2, 2]
    x = T.dtensor4("x")
    sym = TPool.out_shape(tuple(x.shape[i] for i in range(4)), (3, 3), False, (2, 2))
    xv = rng.standard_normal((2, 1, 9, 8))
    got = opcore.function([x], list(sym))(xv)
    ref = opcore.function([x], T.nnet.pool_2d(x, (3, 3), ignore_border=False,
                                              stride=(2, 2)))(xv).shape
    assert tuple(int(v) for v in got) == ref
    with pytest.raises(ValueError, match="ws"):
        TPool.out_shape((1, 2, 3, 4))
