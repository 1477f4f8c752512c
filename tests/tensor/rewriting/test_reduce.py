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


SEP_OFF = Mode(linker="py").excluding("fusion", "sum_of_broadcast_factor",
                                      "sum_of_separable_product")


def _full_3d(f) -> list:
    """Elementwise nodes giving a 3-d array with no length-1 axis (the work these rules avoid)."""
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)
            and n.outputs[0].ndim == 3 and 1 not in n.outputs[0].type.shape]


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("axis", [(0, 1), (0, 1, 2), None, (1, 2)])
@pytest.mark.parametrize("power", [1, 2, 3])
def test_each_factor_is_summed_over_its_own_axes_first(dtype, axis, power):
    """``sum((a * b) ** k, axes)`` with ``a`` constant along axis 1 and ``b`` along axis 0: ``a``
    is summed over axis 0 and ``b`` over axis 1 before the product (``k`` 1, 2 or 3: a square
    or integer power of a product is the product of the powers)."""
    a = T.TensorType(dtype, shape=(4, 1, 5))("a")
    b = T.TensorType(dtype, shape=(1, 6, 5))("b")
    p = a * b
    y = p if power == 1 else (p ** 2 if power == 2 else p ** 3)
    out = T.sum(y, axis=axis)
    f = opcore.function([a, b], out, mode=ON)
    g = opcore.function([a, b], out, mode=SEP_OFF)
    rng = np.random.default_rng(2)
    vals = [_value((4, 1, 5), dtype, rng), _value((1, 6, 5), dtype, rng)]
    got, want = f(*vals), g(*vals)
    ref = np.sum((vals[0].astype("complex128") * vals[1]) ** power, axis=axis)
    assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == want.shape
    tol = 20 * TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(got, ref if dtype == "complex128" else ref.real, rtol=tol,
                               atol=tol)
    assert _full_3d(g)
    if axis in ((0, 1), (0, 1, 2), None):  # axes 0 and 1 both summed: no (4, 6, 5) array
        assert not _full_3d(f)


def test_contractive_penalty_itself_has_no_3d_work():
    """The Deep Learning Tutorials' cA cost ``sum(J ** 2) / batch``, ``J = h(1-h)[:, None, :] *
    W[None]``, with its gradient: one sum of n_hidden products, no (batch, n_in, n_hidden) array,
    the value and gradients of the unrewritten graph (float32, as the tutorial runs)."""
    bs, n_in, n_hid = 5, 7, 6
    W = T.matrix("W", dtype="float32")
    h = T.matrix("h", dtype="float32")
    J = T.reshape(h * (1 - h), (bs, 1, n_hid)) * T.reshape(W, (1, n_in, n_hid))
    cost = T.sum(J ** 2) / bs
    outs = [cost, *opcore.grad(cost, [W, h])]
    f = opcore.function([W, h], outs, mode=ON)
    g = opcore.function([W, h], outs, mode=SEP_OFF)
    assert not _full_3d(f) and _full_3d(g)
    rng = np.random.default_rng(3)
    Wv = rng.normal(size=(n_in, n_hid)).astype("float32")
    hv = rng.random((bs, n_hid)).astype("float32")
    for got, want in zip(f(Wv, hv), g(Wv, hv)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    d = (hv * (1 - hv)).astype("float64")
    ref = (d ** 2).sum(0) @ (Wv.astype("float64") ** 2).sum(0) / bs
    np.testing.assert_allclose(f(Wv, hv)[0], ref, rtol=1e-5)


def test_fractional_power_and_integer_sums_are_not_split():
    """``(a*b) ** 2.5`` is not ``a**2.5 * b**2.5`` for negative entries (NaN vs a value), and an
    int8 product may wrap: both keep the 3-d product."""
    a = T.TensorType("float64", shape=(3, 1, 4))("a")
    b = T.TensorType("float64", shape=(1, 2, 4))("b")
    out = T.sum(T.abs(a * b) ** 2.5 + (a * b) ** 2.5)
    f = opcore.function([a, b], out, mode=ON)
    g = opcore.function([a, b], out, mode=SEP_OFF)
    rng = np.random.default_rng(4)
    av, bv = rng.uniform(-1, 1, (3, 1, 4)), rng.uniform(0.5, 1, (1, 2, 4))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(np.isnan(f(av, bv)), np.isnan(g(av, bv)))
    ai = T.TensorType("int8", shape=(3, 1, 4))("ai")
    bi = T.TensorType("int8", shape=(1, 2, 4))("bi")
    fi = opcore.function([ai, bi], T.sum(ai * bi, dtype="int8"), mode=ON)
    assert _full_3d(fi)
    with np.errstate(over="ignore"):
        want = np.sum(np.full((3, 1, 4), 100, "int8") * np.full((1, 2, 4), 3, "int8"),
                      dtype="int8")
    np.testing.assert_array_equal(fi(np.full((3, 1, 4), 100, "int8"),
                                     np.full((1, 2, 4), 3, "int8")), want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("axis", [0, 1, None])
def test_negation_leaves_the_sum(dtype, axis):
    """``sum(-(a * X), axis)`` -> ``-(a' * sum(X))``: no elementwise negation of the whole
    array before the sum."""
    a = T.TensorType(dtype, shape=(1, 1))("a")
    X = T.matrix("X", dtype=dtype)
    out = T.sum(-(a * X), axis=axis)
    f = opcore.function([a, X], out, mode=ON)
    g = opcore.function([a, X], out, mode=SEP_OFF)
    assert all(x.owner is None or "neg" not in str(x.owner.op) for x in _sum_inputs(f))
    rng = np.random.default_rng(5)
    vals = [_value((1, 1), dtype, rng), _value((3, 4), dtype, rng)]
    got, want = f(*vals), g(*vals)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("kind,dtype", [("sum", "float32"), ("sum", "int8"), ("prod", "float64"),
                                        ("max", "int64"), ("min", "float64"), ("all", "bool"),
                                        ("any", "bool")])
@pytest.mark.parametrize("axes", [((1,), None), ((0,), (0,)), ((2,), (0, 1)), ((0, 2), (0,))])
def test_reduction_of_a_reduction_is_one(kind, dtype, axes):
    """``sum(sum(x, axis=1))`` -> ``sum(x)`` for every reduction kind; the values (and dtypes)
    of the two-step graph."""
    inner_axes, outer_axes = axes
    x = T.tensor3("x", dtype=dtype)
    fn = getattr(T, kind)
    out = fn(fn(x, axis=inner_axes), axis=outer_axes)
    f = opcore.function([x], out, mode=ON)
    g = opcore.function([x], out, mode=Mode(linker="py", optimizer=None))
    reds = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, CAReduce)]
    assert len(reds) == 1
    rng = np.random.default_rng(6)
    v = rng.integers(-3, 4, size=(2, 3, 4))
    v = (v > 0) if dtype == "bool" else (v * 0.5 + 1.5 if dtype.startswith("float") else v)
    v = np.asarray(v).astype(dtype)
    got, want = f(v), g(v)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_reduction_read_elsewhere_stays():
    x = T.dmatrix("x")
    s = T.sum(x, axis=1)
    f = opcore.function([x], [s, T.sum(s)], mode=ON)
    assert len([n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, CAReduce)]) == 2
