"""``sum(a * X)`` with ``a`` broadcastable along the summed axes -> ``a' * sum(X)`` (and
``sum(X / a)`` -> ``sum(X) / a'``): the unrewritten graph's values on float and complex dtypes,
integer sums left alone, and the contractive-autoencoder penalty's gradient with no 3-d work."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.elemwise import CAReduce, Elemwise

ON = Mode(linker="py").excluding("fusion")
OFF = Mode(linker="py").excluding("fusion", "sum_of_broadcast_factor")
TOL = {"float32": 2e-5, "float64": 1e-12, "complex128": 1e-12}


def _sum_inputs(f) -> list:
    return [n.inputs[0] for n in f.maker.fgraph.apply_nodes
            if isinstance(n.op, CAReduce) and n.op.kind == "sum"]


def _value(shape, dtype, rng):
    v = rng.uniform(-2, 2, size=shape)
    if dtype == "complex128":
        v = v + 1j * rng.uniform(-2, 2, size=shape)
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("axis", [0, 1, (0, 1), None])
def test_factor_leaves_the_sum(dtype, axis):
    a = T.TensorType(dtype, shape=(1, None, None))("a")  # constant along axis 0
    b = T.TensorType(dtype, shape=(None, 1, None))("b")  # constant along axis 1
    X = T.TensorType(dtype, shape=(None, None, None))("X")
    c = T.TensorType(dtype, shape=(1, 1, None))("c")
    outs = [T.sum(a * X * b, axis=axis), T.sum((X * 3) / c, axis=axis),
            T.sum(a * (b * X) / a, axis=axis), T.sum(a * b, axis=axis)]
    f = opcore.function([a, b, X, c], outs, mode=ON)
    g = opcore.function([a, b, X, c], outs, mode=OFF)
    rng = np.random.default_rng(0)
    vals = [_value(s, dtype, rng) for s in ((1, 4, 5), (3, 1, 5), (3, 4, 5), (1, 1, 5))]
    for got, want in zip(f(*vals), g(*vals)):
        assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])
    # every product of the rewritten graph that is summed has fewer factors than before
    before = sum(x.owner is not None and isinstance(x.owner.op, Elemwise) for x in _sum_inputs(g))
    assert before >= 1
    if axis in (0, 1, (0, 1)):
        assert any(x.owner is None or x.type.shape[0] != 1 for x in _sum_inputs(f))
        assert _sum_inputs(f) != _sum_inputs(g)


@pytest.mark.parametrize("dtype", ["int8", "int64"])
def test_integer_sums_stay(dtype):
    """An int8 product may wrap before the sum; factored out it would not: not rewritten."""
    a = T.TensorType(dtype, shape=(1, None))("a")
    X = T.TensorType(dtype, shape=(None, None))("X")
    out = T.sum(a * X, axis=0)
    f = opcore.function([a, X], out, mode=ON)
    g = opcore.function([a, X], out, mode=OFF)
    av = np.full((1, 3), 100, dtype=dtype)
    Xv = np.full((4, 3), 3, dtype=dtype)
    np.testing.assert_array_equal(f(av, Xv), g(av, Xv))
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(f(av, Xv), np.sum(av * Xv, axis=0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_contractive_penalty_gradient_has_no_3d_work(dtype):
    """``sum(J ** 2)`` with ``J = h'[:, None, :] * W[None]`` (a contractive autoencoder's
    Jacobian penalty): its gradient w.r.t. W and h' is formed from 2-d sums."""
    W = T.matrix("W", dtype=dtype)
    hp = T.matrix("hp", dtype=dtype)
    bs, n_in, n_hid = 4, 6, 5
    J = T.reshape(hp, (bs, 1, n_hid)) * T.reshape(W, (1, n_in, n_hid))
    gW, gh = opcore.grad(0.1 * T.sum(J ** 2) / bs, [W, hp])
    f = opcore.function([W, hp], [gW, gh], mode=ON)
    g = opcore.function([W, hp], [gW, gh], mode=OFF)
    three_d = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)
               and n.outputs[0].ndim == 3 and None not in n.outputs[0].type.shape
               and n.outputs[0].type.shape[0] != 1 and n.outputs[0].type.shape[1] != 1]
    assert not three_d
    assert any(n.outputs[0].ndim == 3 and isinstance(n.op, Elemwise)
               for n in g.maker.fgraph.apply_nodes)
    rng = np.random.default_rng(1)
    Wv, hv = rng.normal(size=(n_in, n_hid)).astype(dtype), rng.random((bs, n_hid)).astype(dtype)
    for got, want, ref in zip(f(Wv, hv), g(Wv, hv),
                              (0.2 / bs * Wv * (hv.astype("float64") ** 2).sum(0),
                               0.2 / bs * hv * (Wv.astype("float64") ** 2).sum(0))):
        np.testing.assert_allclose(got, want, rtol=TOL[dtype])
        np.testing.assert_allclose(got, ref, rtol=TOL[dtype])
