"""reshape, flatten, transpose, join/concatenate/stack, squeeze."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad


@pytest.mark.parametrize("newshape", [(6, 4), (2, 12), (-1,), (4, -1), (2, 3, 4), (-1, 2, 2),
                                      (24,), (1, 24)], ids=str)
def test_reshape_constant_shapes(newshape, rng, infer_shape):
    x = T.dtensor3("x")
    xv = rng.random((2, 3, 4))
    out = x.reshape(newshape)
    got = opcore.function([x], out)(xv)
    np.testing.assert_array_equal(got, xv.reshape(newshape))
    infer_shape([x], out, [xv])
    verify_grad(lambda a: T.reshape(a, newshape), [xv])


def test_reshape_symbolic_shape(rng, infer_shape):
    x = T.dmatrix("x")
    n = T.lscalar("n")
    out = T.reshape(x, (n, -1))
    xv = rng.random((4, 6))
    np.testing.assert_array_equal(opcore.function([x, n], out)(xv, 3), xv.reshape(3, -1))
    infer_shape([x, n], out, [xv, 3])
    s = T.lvector("s")
    out2 = T.reshape(x, s, ndim=3)
    np.testing.assert_array_equal(opcore.function([x, s], out2)(xv, np.array([2, 2, 6])),
                                  xv.reshape(2, 2, 6))
    infer_shape([x, s], out2, [xv, np.array([2, -1, 6])])
    out3 = x.reshape(x.shape[::-1])
    np.testing.assert_array_equal(opcore.function([x], out3)(xv), xv.reshape(6, 4))


def test_reshape_errors():
    x = T.dmatrix("x")
    f = opcore.function([x], x.reshape((5, -1)))
    with pytest.raises(ValueError, match="cannot reshape"):
        f(np.ones((2, 3)))
    with pytest.raises(ValueError, match="ndim"):
        T.reshape(x, T.lvector())


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_flatten(ndim, rng, infer_shape):
    x = T.dtensor3("x")
    xv = rng.random((2, 3, 4))
    out = T.flatten(x, ndim)
    got = opcore.function([x], out)(xv)
    np.testing.assert_array_equal(got, xv.reshape(xv.shape[:ndim - 1] + (-1,)))
    if out is not x:
        infer_shape([x], out, [xv])
        verify_grad(lambda a: T.flatten(a, ndim), [xv])
    assert x.flatten().ndim == 1


@pytest.mark.parametrize("axes", [None, (0, 2, 1), (2, 0, 1), (1, 0, 2)], ids=str)
def test_transpose(axes, rng, infer_shape):
    x = T.dtensor3("x")
    xv = rng.random((2, 3, 4))
    out = T.transpose(x, axes)
    np.testing.assert_array_equal(opcore.function([x], out)(xv), np.transpose(xv, axes))
    infer_shape([x], out, [xv])
    verify_grad(lambda a: T.transpose(a, axes), [xv])
    if axes is not None:
        np.testing.assert_array_equal(opcore.function([x], x.transpose(*axes))(xv),
                                      np.transpose(xv, axes))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_join(axis, rng, infer_shape):
    a, b, c = T.dmatrices("a, b, c")
    av, bv, cv = rng.random((2, 3)), rng.random((2, 3)), rng.random((2, 3))
    out = T.concatenate([a, b, c], axis=axis)
    got = opcore.function([a, b, c], [out, T.join(axis, a, b)])(av, bv, cv)
    np.testing.assert_array_equal(got[0], np.concatenate([av, bv, cv], axis=axis))
    np.testing.assert_array_equal(got[1], np.concatenate([av, bv], axis=axis))
    infer_shape([a, b, c], out, [av, bv, cv])
    verify_grad(lambda x, y: T.concatenate([x, y * 2], axis=axis), [av, bv])


def test_join_mixed_dtypes_and_errors():
    a, b = T.ivector("a"), T.dvector("b")
    out = T.concatenate([a, b])
    assert out.dtype == "float64"
    np.testing.assert_array_equal(opcore.function([a, b], out)(np.array([1], "int32"),
                                                              np.array([2.5])), [1, 2.5])
    with pytest.raises(TypeError, match="dimensions"):
        T.concatenate([T.dvector(), T.dmatrix()])
    x, y = T.dmatrices("x, y")
    f = opcore.function([x, y], T.concatenate([x, y], axis=0))
    with pytest.raises(ValueError, match="Join"):
        f(np.ones((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(axis, rng, infer_shape):
    a, b = T.dvectors("a, b")
    av, bv = rng.random(3), rng.random(3)
    out = T.stack([a, b], axis=axis)
    np.testing.assert_array_equal(opcore.function([a, b], out)(av, bv),
                                  np.stack([av, bv], axis=axis))
    infer_shape([a, b], out, [av, bv])
    verify_grad(lambda x, y: T.stack([x, y], axis=axis), [av, bv])


def test_stack_scalars():
    x, y = T.dscalars("x, y")
    np.testing.assert_array_equal(opcore.function([x, y], T.stack([x, y, x * y]))(2, 3), [2, 3, 6])


def test_squeeze_expand_dims(rng):
    x = T.TensorType("float64", (True, False, True))("x")
    xv = rng.random((1, 3, 1))
    out = T.squeeze(x)
    assert out.ndim == 1
    np.testing.assert_array_equal(opcore.function([x], out)(xv), np.squeeze(xv))
    v = T.dvector("v")
    e = T.expand_dims(v, 0)
    assert e.broadcastable == (True, False)
    np.testing.assert_array_equal(opcore.function([v], e)(np.ones(2)), np.ones((1, 2)))


def test_stack_positional_and_list_forms():
    # Theano 1.0 still accepts T.stack(a, b, c); scalars make a vector
    a, b, c = T.dscalars("abc")
    f = opcore.function([a, b, c], [T.stack(a, b, c), T.stack([a, b, c]), T.stack(a)])
    got = f(1.0, 2.0, 3.0)
    np.testing.assert_array_equal(got[0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(got[1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(got[2], [1.0])
    u, v = T.dvectors("uv")
    uv, vv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    g = opcore.function([u, v], [T.stack([u, v], 1), T.stack(u, v, axis=1), T.stack([u, v], axis=0)])
    for got, ref in zip(g(uv, vv), [np.stack([uv, vv], 1), np.stack([uv, vv], 1), np.stack([uv, vv])]):
        np.testing.assert_array_equal(got, ref)
    with pytest.raises(ValueError, match="nothing"):
        T.stack([])
