"""Indexing: basic slicing, integer and advanced indexing, set_subtensor/inc_subtensor."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad

XV = np.arange(60.0).reshape(3, 4, 5)

BASIC = [
    (lambda x: x[1], lambda a: a[1]),
    (lambda x: x[-1], lambda a: a[-1]),
    (lambda x: x[1:], lambda a: a[1:]),
    (lambda x: x[:, 1:3], lambda a: a[:, 1:3]),
    (lambda x: x[::-1], lambda a: a[::-1]),
    (lambda x: x[:, ::2, 1], lambda a: a[:, ::2, 1]),
    (lambda x: x[..., 2], lambda a: a[..., 2]),
    (lambda x: x[None, 0], lambda a: a[None, 0]),
    (lambda x: x[0, 1, 2], lambda a: a[0, 1, 2]),
    (lambda x: x[-2:, :-1, 3:0:-1], lambda a: a[-2:, :-1, 3:0:-1]),
    (lambda x: x[1:100], lambda a: a[1:100]),
    (lambda x: x[:, :, None], lambda a: a[:, :, None]),
]


@pytest.mark.parametrize("k", range(len(BASIC)))
def test_basic_indexing(k, infer_shape):
    sym, ref = BASIC[k]
    x = T.dtensor3("x")
    out = sym(x)
    np.testing.assert_array_equal(opcore.function([x], out)(XV), ref(XV))
    infer_shape([x], out, [XV])
    verify_grad(sym, [XV[:, :, :4] * 0.1 + 0.0 if False else XV * 0.01])


def test_symbolic_slice_bounds(infer_shape):
    x = T.dmatrix("x")
    a, b, s = T.lscalars("a, b, s")
    out = x[a:b:s]
    xv = np.arange(30.0).reshape(6, 5)
    f = opcore.function([x, a, b, s], out)
    for args in [(1, 5, 1), (5, 0, -2), (-4, -1, 1), (0, 100, 3), (4, 2, 1), (-1, -100, -1)]:
        np.testing.assert_array_equal(f(xv, *args), xv[args[0]:args[1]:args[2]])
        infer_shape([x, a, b, s], out, [xv, *args])
    i = T.iscalar("i")
    np.testing.assert_array_equal(opcore.function([x, i], x[i])(xv, 2), xv[2])


def test_advanced_indexing_p_arange_y():
    p = T.dmatrix("p")
    y = T.ivector("y")
    n = p.shape[0]
    out = p[T.arange(n), y]
    pv = np.random.default_rng(0).random((5, 3))
    yv = np.array([0, 2, 1, 1, 0], "int32")
    np.testing.assert_array_equal(opcore.function([p, y], out)(pv, yv), pv[np.arange(5), yv])
    # the negative log likelihood gradient flows only to the picked entries
    g = T.grad(-T.mean(T.log(out)), p)
    expect = np.zeros_like(pv)
    expect[np.arange(5), yv] = -1.0 / (5 * pv[np.arange(5), yv])
    np.testing.assert_allclose(opcore.function([p, y], g)(pv, yv), expect)


@pytest.mark.parametrize("make,ref", [
    (lambda x, i: x[i], lambda a, i: a[i]),
    (lambda x, i: x[:, i], lambda a, i: a[:, i]),
    (lambda x, i: x[i, 1:], lambda a, i: a[i, 1:]),
    (lambda x, i: x[1:, i], lambda a, i: a[1:, i]),
    (lambda x, i: x[i, :, i], lambda a, i: a[i, :, i]),
    (lambda x, i: x[:, i, i], lambda a, i: a[:, i, i]),
])
def test_advanced_indexing_positions(make, ref, infer_shape):
    x = T.dtensor3("x")
    i = T.lvector("i")
    iv = np.array([2, 0, 2])
    out = make(x, i)
    got = opcore.function([x, i], out)(XV, iv)
    np.testing.assert_array_equal(got, ref(XV, iv))
    assert out.ndim == got.ndim
    verify_grad(lambda a: make(a, T.constant(iv)), [XV * 0.01])


def test_index_with_matrix_and_constant_list():
    x = T.dvector("x")
    m = T.lmatrix("m")
    xv = np.arange(5.0)
    mv = np.array([[0, 4], [1, 1]])
    np.testing.assert_array_equal(opcore.function([x, m], x[m])(xv, mv), xv[mv])
    np.testing.assert_array_equal(opcore.function([x], x[[3, 1]])(xv), xv[[3, 1]])


def test_boolean_constant_mask():
    x = T.dvector("x")
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(opcore.function([x], x[mask])(np.array([1.0, 2.0, 3.0])),
                                  [1.0, 3.0])


def test_index_errors():
    x = T.dmatrix("x")
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(TypeError, match="integer"):
        x[T.dscalar()]
    with pytest.raises(IndexError):
        T.dscalar()[0]
    f = opcore.function([x], x[5])
    with pytest.raises(IndexError) as info:
        f(np.ones((2, 2)))
    assert "Apply node that caused the error" in str(info.value)


@pytest.mark.parametrize("setting", [True, False])
def test_set_inc_subtensor_basic(setting, infer_shape):
    x = T.dmatrix("x")
    y = T.dvector("y")
    fn = T.set_subtensor if setting else T.inc_subtensor
    out = fn(x[1:, 2], y)
    xv, yv = np.arange(12.0).reshape(3, 4), np.array([10.0, 20.0])
    ref = xv.copy()
    if setting:
        ref[1:, 2] = yv
    else:
        ref[1:, 2] += yv
    got = opcore.function([x, y], out)(xv, yv)
    np.testing.assert_array_equal(got, ref)
    assert xv[1, 2] == 6.0  # the input is untouched
    infer_shape([x, y], out, [xv, yv])
    verify_grad(lambda a, b: fn(a[1:, 2], b), [xv, yv])


def test_inc_subtensor_repeated_indices_accumulate():
    x = T.dvector("x")
    i = T.lvector("i")
    y = T.dvector("y")
    out = T.inc_subtensor(x[i], y)
    xv, iv, yv = np.zeros(4), np.array([0, 2, 0, 0]), np.array([1.0, 2.0, 3.0, 4.0])
    ref = xv.copy()
    np.add.at(ref, iv, yv)
    np.testing.assert_array_equal(opcore.function([x, i, y], out)(xv, iv, yv), ref)
    # the gradient of x[i] w.r.t. x with repeated i also accumulates
    g = T.grad(T.sum(x[i] * y), x)
    np.testing.assert_array_equal(opcore.function([x, i, y], g)(xv, iv, yv), [8.0, 0.0, 2.0, 0.0])
    set_out = T.set_subtensor(x[i], y)
    got = opcore.function([x, i, y], set_out)(xv, np.array([3, 1, 2, 0]), yv)
    np.testing.assert_array_equal(got, [4.0, 2.0, 3.0, 1.0])


def test_set_subtensor_scalar_and_broadcast():
    x = T.dmatrix("x")
    out = T.set_subtensor(x[:, 0], 5)
    xv = np.zeros((2, 3))
    np.testing.assert_array_equal(opcore.function([x], out)(xv), [[5, 0, 0], [5, 0, 0]])
    out2 = T.inc_subtensor(x[0], T.constant(np.ones(3)) * 2)
    np.testing.assert_array_equal(opcore.function([x], out2)(xv), [[2, 2, 2], [0, 0, 0]])


def test_set_subtensor_needs_an_indexed_variable():
    with pytest.raises(TypeError, match="indexed variable"):
        T.set_subtensor(T.dvector("v"), 1.0)


def test_subtensor_props():
    x = T.dmatrix()
    a, b = x[1:], x[1:]
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert a.owner.op != x[0].owner.op
    assert "Subtensor" in str(a.owner.op)


def test_take():
    x = T.dmatrix("x")
    xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(opcore.function([x], T.take(x, [2, 0], axis=1))(xv),
                                  np.take(xv, [2, 0], axis=1))
    np.testing.assert_array_equal(opcore.function([x], T.take(x, [5, 1]))(xv), np.take(xv, [5, 1]))


def test_symbolic_boolean_mask_and_nonzero():
    x = T.dvector("x")
    xv = np.array([1.0, -2.0, 3.0, -4.0])
    np.testing.assert_array_equal(opcore.function([x], x[x > 0])(xv), xv[xv > 0])
    (idx,) = T.nonzero(x > 0)
    np.testing.assert_array_equal(opcore.function([x], idx)(xv), np.nonzero(xv > 0)[0])
    m = T.dmatrix("m")
    mv = np.array([[0.0, 1.0], [2.0, 0.0]])
    got = opcore.function([m], list(m.nonzero()))(mv)
    for g, r in zip(got, np.nonzero(mv)):
        np.testing.assert_array_equal(g, r)
    g = T.grad(T.sum(x[x > 0] ** 2), x)
    np.testing.assert_array_equal(opcore.function([x], g)(xv), [2.0, 0.0, 6.0, 0.0])


def test_list_of_slices_is_a_tuple_of_indices():
    # Theano (and NumPy before 1.23) read x[[slice, slice]] as x[slice, slice]
    x = T.dmatrix("x")
    xv = np.arange(12.0).reshape(3, 4)
    f = opcore.function([x], [x[[slice(0, 2), slice(1, 3)]], x[[slice(1, None)]], x[[0, 2]]])
    got = f(xv)
    np.testing.assert_array_equal(got[0], xv[0:2, 1:3])
    np.testing.assert_array_equal(got[1], xv[1:])
    np.testing.assert_array_equal(got[2], xv[[0, 2]])  # a list of ints stays advanced indexing
