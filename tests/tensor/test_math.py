"""Reductions, argmax/argmin, mean/var/std and products, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad

REDUCTIONS = [("sum", np.sum), ("prod", np.prod), ("max", np.max), ("min", np.min),
              ("mean", np.mean), ("var", np.var), ("std", np.std)]
AXES = [None, 0, 1, 2, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_float_reductions(name, ref, axis, keepdims, rng, infer_shape):
    x = T.dtensor3("x")
    xv = rng.uniform(0.5, 1.5, (2, 3, 4))
    out = getattr(T, name)(x, axis=axis, keepdims=keepdims)
    got = opcore.function([x], out)(xv)
    expect = ref(xv, axis=axis, keepdims=keepdims)
    assert np.shape(got) == np.shape(expect)
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    if out.owner is not None:
        infer_shape([x], out, [xv])
    # the method form gives the same graph result
    meth = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(opcore.function([x], meth)(xv), expect, rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, (1, 2)], ids=str)
@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std"])
def test_reduction_grads(name, axis):
    xv = np.random.default_rng(3).uniform(0.5, 1.5, (2, 3, 4))
    verify_grad(lambda x: getattr(T, name)(x, axis=axis), [xv])


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "float32", "bool"])
def test_sum_prod_dtypes_follow_numpy(dtype, rng):
    x = T.matrix("x", dtype=dtype)
    xv = rng.integers(0, 3, (3, 4)).astype(dtype)
    s, p, mx = opcore.function([x], [x.sum(axis=0), x.prod(), x.max(axis=1)])(xv)
    np.testing.assert_array_equal(s, xv.sum(axis=0))
    assert s.dtype == xv.sum(axis=0).dtype, (s.dtype, xv.sum(axis=0).dtype)
    np.testing.assert_array_equal(p, xv.prod())
    np.testing.assert_array_equal(mx, xv.max(axis=1))
    assert mx.dtype == dtype


def test_mean_of_ints_is_float():
    x = T.ivector("x")
    out = T.mean(x)
    assert out.dtype == "float64"
    assert float(opcore.function([x], out)(np.array([1, 2], "int32"))) == 1.5


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
def test_all_any(axis, keepdims, infer_shape):
    x = T.bmatrix("x")
    xv = np.array([[0, 1, 1], [1, 1, 1]], "int8")
    a, n = T.all(x, axis=axis, keepdims=keepdims), T.any(x, axis=axis, keepdims=keepdims)
    ga, gn = opcore.function([x], [a, n])(xv)
    np.testing.assert_array_equal(ga, np.all(xv, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(gn, np.any(xv, axis=axis, keepdims=keepdims))
    assert ga.dtype == np.bool_
    if a.owner is not None:
        infer_shape([x], a, [xv])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, axis, keepdims, rng, infer_shape):
    x = T.dmatrix("x")
    xv = rng.permutation(12).reshape(3, 4).astype(float)
    out = getattr(T, name)(x, axis=axis, keepdims=keepdims)
    got = opcore.function([x], out)(xv)
    np.testing.assert_array_equal(got, getattr(np, name)(xv, axis=axis, keepdims=keepdims))
    assert got.dtype == np.int64
    infer_shape([x], out, [xv])
    np.testing.assert_array_equal(opcore.function([x], getattr(x, name)(axis=axis))(xv),
                                  getattr(np, name)(xv, axis=axis))


def test_argmax_grad_is_zero_and_max_grad_flows():
    x = T.dvector("x")
    g = T.grad(T.argmax(x).astype("float64") + T.max(x), x)
    np.testing.assert_array_equal(opcore.function([x], g)(np.array([1.0, 3.0, 2.0])), [0, 1, 0])


def test_var_std_ddof():
    x = T.dmatrix("x")
    xv = np.arange(6.0).reshape(2, 3) ** 2
    v, s = opcore.function([x], [T.var(x, axis=1, ddof=1), T.std(x, corrected=True)])(xv)
    np.testing.assert_allclose(v, np.var(xv, axis=1, ddof=1))
    np.testing.assert_allclose(s, np.std(xv, ddof=1))


def test_reduction_bad_axis():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="out of range"):
        T.sum(x, axis=2)
    with pytest.raises(ValueError, match="out of range"):
        x.max(axis=-3)


def test_max_of_empty_array_is_an_error():
    x = T.dvector("x")
    f = opcore.function([x], T.max(x))
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros(0))


# -- products ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((2, 3), (4, 3, 5)),
                                   ((), (3,)), ((2, 3), ())])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_all_ranks(sa, sb, dtype, rng, infer_shape):
    a = T.TensorType(dtype, (False,) * len(sa))("a")
    b = T.TensorType(dtype, (False,) * len(sb))("b")
    av, bv = rng.random(sa).astype(dtype), rng.random(sb).astype(dtype)
    out = T.dot(a, b)
    got = opcore.function([a, b], out)(av, bv)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np.dot(av, bv), rtol=1e-5)
    infer_shape([a, b], out, [av, bv])
    if dtype == "float64":
        verify_grad(T.dot, [av, bv])


def test_dot_int_and_mixed():
    a, b = T.imatrix("a"), T.dvector("b")
    av = np.arange(6, dtype="int32").reshape(2, 3)
    bv = np.array([0.5, 1.0, 2.0])
    out = T.dot(a, b)
    assert out.dtype == "float64"
    np.testing.assert_allclose(opcore.function([a, b], out)(av, bv), av @ bv)
    assert (a @ a.T).dtype == "int32"


def test_dot_shape_mismatch_at_run_time():
    a, b = T.dmatrices("a, b")
    f = opcore.function([a, b], T.dot(a, b))
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 2)))
    assert "not aligned" in str(info.value) and "Apply node that caused the error" in str(info.value)


@pytest.mark.parametrize("axes", [1, 2, [[1], [0]], [[0, 1], [1, 0]], [[2], [1]]], ids=str)
def test_tensordot(axes, rng, infer_shape):
    a, b = T.dtensor3("a"), T.dtensor3("b")
    av = rng.random((2, 3, 4))
    bshape = {1: (4, 2, 3), 2: (3, 4, 2), "[[1], [0]]": (3, 2, 5)}
    if axes == 1:
        bv = rng.random((4, 2, 3))
    elif axes == 2:
        bv = rng.random((3, 4, 2))
    elif axes == [[1], [0]]:
        bv = rng.random((3, 2, 5))
    elif axes == [[0, 1], [1, 0]]:
        bv = rng.random((3, 2, 5))
    else:
        bv = rng.random((2, 4, 3))
    del bshape
    out = T.tensordot(a, b, axes)
    np.testing.assert_allclose(opcore.function([a, b], out)(av, bv), np.tensordot(av, bv, axes))
    verify_grad(lambda x, y: T.tensordot(x, y, axes), [av, bv])


def test_outer(rng, infer_shape):
    x, y = T.dvectors("x, y")
    xv, yv = rng.random(3), rng.random(4)
    out = T.outer(x, y)
    np.testing.assert_allclose(opcore.function([x, y], out)(xv, yv), np.outer(xv, yv))
    infer_shape([x, y], out, [xv, yv])
    verify_grad(T.outer, [xv, yv])


def test_dot_r_op():
    W, v = T.dmatrix("W"), T.dvector("v")
    x = T.dvector("x")
    y = T.dot(W, x)
    r = opcore.gradient.Rop(y, x, v)
    Wv, vv, xv = np.arange(6.0).reshape(2, 3), np.array([1.0, 0.0, 2.0]), np.ones(3)
    f = opcore.function([W, x, v], r, on_unused_input="ignore")  # linear in x
    np.testing.assert_allclose(f(Wv, xv, vv), Wv @ vv)


def test_add_and_mul_take_any_number_of_terms_as_theano():
    """Theano's add(a, *other_terms) and mul(a, *other_terms): n-ary (the other elementwise
    ops are unary/binary/ternary there too); the dtype is the upcast of every term, the value
    NumPy's left-to-right sum/product."""
    a, b, c, d = T.dvector("a"), T.ivector("b"), T.fvector("c"), T.bvector("d")
    av = np.array([1.5, -2.0, 3.25])
    bv = np.array([3, 4, -7], "int32")
    cv = np.array([5.5, 6.0, 0.5], "float32")
    dv = np.array([1, -2, 3], "int8")
    s, p, one = T.add(a, b, c, d), T.mul(a, b, c, d), T.add(c)
    assert s.dtype == p.dtype == np.result_type(av, bv, cv, dv).name
    assert T.mul(b, d).dtype == "int32" and one.dtype == "float32"
    f = opcore.function([a, b, c, d], [s, p, one, T.mul(b, d, b)])
    rs, rp, r1, ri = f(av, bv, cv, dv)
    np.testing.assert_array_equal(rs, ((av + bv) + cv) + dv)
    np.testing.assert_array_equal(rp, ((av * bv) * cv) * dv)
    np.testing.assert_array_equal(r1, cv)
    np.testing.assert_array_equal(ri, bv * dv * bv)
    with pytest.raises(TypeError):
        T.add()


def test_batched_dot_of_every_rank_pair_is_a_dot_per_batch():
    """Theano's batched_dot: np.dot(a[i], b[i]) per batch for (B,n)/(B,n,k) x (B,n)/(B,n,m)
    operands; a 1-d operand scales the other per batch."""
    rng = np.random.RandomState(0)
    B, n, k, m = 3, 4, 5, 2
    shapes = {1: (B,), 2: (B, k), 3: (B, n, k)}
    bshapes = {1: (B,), 2: (B, k), 3: (B, k, m)}
    for ra in (1, 2, 3):
        for rb in (1, 2, 3):
            a = T.TensorType("float64", (False,) * ra)("a")
            b = T.TensorType("float64", (False,) * rb)("b")
            av, bv = rng.randn(*shapes[ra]), rng.randn(*bshapes[rb])
            got = opcore.function([a, b], T.batched_dot(a, b))(av, bv)
            if ra == 1 or rb == 1:
                want = (av.reshape(av.shape + (1,) * (bv.ndim - 1)) * bv if ra == 1
                        else av * bv.reshape(bv.shape + (1,) * (av.ndim - 1)))
            else:
                want = np.array([np.dot(av[i], bv[i]) for i in range(B)])
            np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"{ra}-d x {rb}-d")
    with pytest.raises(TypeError, match="batch axis"):
        T.batched_dot(T.dscalar(), T.dmatrix())
