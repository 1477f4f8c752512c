"""Constants, casts, allocation, arange, shape ops."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad


def test_as_tensor_variable_from_values():
    c = T.as_tensor_variable(np.arange(6).reshape(2, 3))
    assert isinstance(c, T.TensorConstant) and c.ndim == 2 and c.dtype == "int64"
    np.testing.assert_array_equal(c.data, np.arange(6).reshape(2, 3))
    assert T.as_tensor_variable(2.5).dtype == opcore.config.floatX
    assert T.as_tensor_variable(3).ndim == 0
    assert T.as_tensor_variable([[1.0, 2.0], [3.0, 4.0]]).type.shape == (None, None)
    assert T.as_tensor_variable([1.0]).broadcastable == (True,)
    x = T.dvector()
    assert T.as_tensor_variable(x) is x
    np.testing.assert_allclose(opcore.function([x], T.as_tensor_variable([x[0], x[1] * 2]))(
        np.array([1.0, 2.0])), [1.0, 4.0])


def test_as_tensor_variable_bad_values():
    with pytest.raises(ValueError, match="rectangular"):
        T.as_tensor_variable([[1, 2], [3]])
    with pytest.raises(TypeError, match="string"):
        T.as_tensor_variable("abc")
    with pytest.raises(TypeError):
        T.as_tensor_variable(object())


def test_constant_eval_and_str():
    c = T.constant(np.array([1.0, 2.0]), name="c")
    assert str(c) == "c"
    np.testing.assert_array_equal((c * 2).eval(), [2.0, 4.0])
    x = T.dscalar("x")
    assert float((x + 1).eval({x: 2.0})) == 3.0


@pytest.mark.parametrize("src,dst", [("float64", "int32"), ("int32", "float32"),
                                     ("float32", "float64"), ("int64", "int8"), ("bool", "int64"),
                                     ("float64", "bool")])
def test_cast(src, dst, infer_shape):
    x = T.vector("x", dtype=src)
    xv = np.array([0, 1.7, -2.2, 3]).astype(src)
    out = T.cast(x, dst)
    assert out.dtype == dst
    got = opcore.function([x], out)(xv)
    assert got.dtype == dst
    np.testing.assert_array_equal(got, xv.astype(dst))
    if out is not x:
        infer_shape([x], out, [xv])
    assert x.astype(dst).dtype == dst


def test_cast_identity_and_floatx():
    x = T.dvector()
    assert T.cast(x, "float64") is x
    assert T.cast(x, "floatX").dtype == opcore.config.floatX


def test_cast_grad():
    verify_grad(lambda x: T.cast(x, "float64") ** 2, [np.array([0.3, 1.2], "float32")])
    verify_grad(lambda x: T.cast(x, "float32") * 3, [np.array([0.3, 1.2])], eps=1e-3,
                abs_tol=1e-2, rel_tol=1e-2)
    x = T.dvector("x")
    g = T.grad(T.cast(x, "int32").sum() * 1.0 + x.sum(), x)
    np.testing.assert_allclose(opcore.function([x], g)(np.array([1.5, 2.5])), [1.0, 1.0])


def test_alloc_zeros_ones_fill(rng, infer_shape):
    n, m = T.lscalars("n, m")
    v = T.dvector("v")
    outs = [T.alloc(v, n, 3), T.zeros((n, m)), T.ones((2, m), dtype="int32"),
            T.fill(T.zeros((n, 3)), 7.0), T.full((n,), 2.5), T.alloc(1.5, n, m)]
    vv = rng.random(3)
    got = opcore.function([n, m, v], outs)(2, 3, vv)
    refs = [np.broadcast_to(vv, (2, 3)), np.zeros((2, 3)), np.ones((2, 3), "int32"),
            np.full((2, 3), 7.0), np.full(2, 2.5), np.full((2, 3), 1.5)]
    for g, r in zip(got, refs):
        np.testing.assert_array_equal(g, r)
        assert g.dtype == r.dtype
    for o in outs:
        infer_shape([n, m, v], o, [2, 3, vv])
    assert T.zeros((2, 3)).dtype == opcore.config.floatX
    assert T.zeros((2, 3)).type.shape == (2, 3)


def test_like_functions(rng):
    x = T.fmatrix("x")
    xv = rng.random((2, 3)).astype("float32")
    outs = [T.zeros_like(x), T.ones_like(x), T.zeros_like(x, dtype="int8"), T.full_like(x, 3)]
    got = opcore.function([x], outs)(xv)
    np.testing.assert_array_equal(got[0], np.zeros_like(xv))
    np.testing.assert_array_equal(got[1], np.ones_like(xv))
    assert got[0].dtype == np.float32 and got[2].dtype == np.int8
    np.testing.assert_array_equal(got[3], np.full_like(xv, 3))


def test_alloc_grad():
    verify_grad(lambda v: T.alloc(v, 4, 3), [np.array([1.0, 2.0, 3.0])])
    verify_grad(lambda s: T.alloc(s, 2, 2), [np.array(1.5)])
    verify_grad(lambda c: T.alloc(c, 3, 2), [np.array([[1.0, 2.0]])])


def test_alloc_length_one_not_broadcastable_is_an_error():
    v = T.dmatrix("v")
    f = opcore.function([v], T.alloc(v, 3, 2))
    with pytest.raises(ValueError, match="not declared broadcastable"):
        f(np.ones((1, 2)))
    np.testing.assert_array_equal(f(np.ones((3, 2))), np.ones((3, 2)))


def test_alloc_bad_inputs():
    with pytest.raises(TypeError, match="cannot fill"):
        T.alloc(T.dmatrix(), 3)
    with pytest.raises(TypeError, match="scalars"):
        T.alloc(1.0, T.lvector())


@pytest.mark.parametrize("args,dtype", [((5,), None), ((2, 9), None), ((1, 10, 3), None),
                                        ((10, 1, -2), None), ((0.5, 3.0, 0.5), None),
                                        ((5,), "int32"), ((3, 0), None)])
def test_arange(args, dtype, infer_shape):
    out = T.arange(*args, dtype=dtype)
    got = opcore.function([], out)()
    ref = np.arange(*args, dtype=dtype)
    np.testing.assert_allclose(got, ref)
    if dtype:
        assert got.dtype == dtype
    infer_shape([], out, [])


def test_arange_symbolic(infer_shape):
    n = T.iscalar("n")
    out = T.arange(n)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(opcore.function([n], out)(4), np.arange(4))
    infer_shape([n], out, [4])


def test_shape_and_shape_i(rng, infer_shape):
    x = T.dtensor3("x")
    xv = rng.random((2, 3, 4))
    s = x.shape
    got = opcore.function([x], [s, s[1], T.shape(x), x.shape[-1], x.size])(xv)
    np.testing.assert_array_equal(got[0], [2, 3, 4])
    assert got[0].dtype == np.int64
    assert int(got[1]) == 3 and int(got[3]) == 4 and int(got[4]) == 24
    infer_shape([x], s, [xv])
    infer_shape([x], T.Shape_i(1)(x), [xv])


def test_shape_is_not_differentiable():
    x = T.dvector("x")
    g = T.grad(T.cast(x.shape[0], "float64") * x.sum(), x)
    np.testing.assert_allclose(opcore.function([x], g)(np.ones(3)), [3.0, 3.0, 3.0])


def test_specify_shape_and_addbroadcast():
    x = T.dmatrix("x")
    y = T.addbroadcast(x, 0)
    assert y.broadcastable == (True, False)
    f = opcore.function([x], y)
    np.testing.assert_array_equal(f(np.ones((1, 3))), np.ones((1, 3)))
    with pytest.raises(ValueError, match="expected length 1"):
        f(np.ones((2, 3)))
    u = T.unbroadcast(T.drow(), 0)
    assert u.broadcastable == (False, False)


def test_make_vector():
    a, b = T.lscalars("a, b")
    v = T.MakeVector("int64")(a, b)
    np.testing.assert_array_equal(opcore.function([a, b], v)(2, 5), [2, 5])
    with pytest.raises(TypeError, match="not a scalar"):
        T.MakeVector()(T.lvector())


def test_copy_and_identity():
    x = T.dvector("x")
    f = opcore.function([x], x.copy())
    xv = np.ones(2)
    out = f(xv)
    out[0] = 5
    assert xv[0] == 1.0
