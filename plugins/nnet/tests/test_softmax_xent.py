"""Softmax family and crossentropies: references, contracts, gradients, stability, C path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax as sp_log_softmax
from scipy.special import softmax as sp_softmax

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract

from nnet_backends import c_backend_ok
from opcore_nnet.softmax import LogSoftmax, Softmax, SoftmaxGrad, SoftmaxWithBias
from opcore_nnet.xent import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx)


def _labels(rng, n, m):
    return rng.integers(0, m, size=n).astype("int32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_matches_scipy(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    xv = rng.standard_normal((5, 7)).astype(dtype)
    f = opcore.function([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)])
    sm, lsm = f(xv)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(sm, sp_softmax(xv, axis=1), rtol=tol, atol=tol)
    np.testing.assert_allclose(lsm, sp_log_softmax(xv, axis=1), rtol=tol, atol=tol)
    assert sm.dtype == dtype


def test_softmax_axis_and_bias(rng):
    x = T.tensor3("x", dtype="float64")
    xv = rng.standard_normal((2, 3, 4))
    out = opcore.function([x], Softmax(axis=1)(x))(xv)
    np.testing.assert_allclose(out, sp_softmax(xv, axis=1))
    m, b = T.dmatrix("m"), T.dvector("b")
    mv, bv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    got = opcore.function([m, b], T.nnet.softmax_with_bias(m, b))(mv, bv)
    np.testing.assert_allclose(got, sp_softmax(mv + bv, axis=1))


def test_softmax_of_huge_values_is_finite():
    x = T.dmatrix("x")
    xv = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])
    sm, lsm = opcore.function([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)])(xv)
    np.testing.assert_allclose(sm, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(lsm, [[0, -1e4, -2e4], [-np.log(3)] * 3])
    assert np.isfinite(lsm).all()


@pytest.mark.parametrize("op,n_in", [(Softmax(-1), 1), (LogSoftmax(-1), 1), (Softmax(0), 1),
                                     (SoftmaxWithBias(), 2), (SoftmaxGrad(-1), 2)])
def test_contract(rng, op, n_in):
    vals = [rng.standard_normal((4, 5))]
    if n_in == 2:
        second = rng.standard_normal(5) if isinstance(op, SoftmaxWithBias) else \
            sp_softmax(rng.standard_normal((4, 5)), axis=1)
        vals.append(second)
    report = check_op_contract(op, vals)
    assert "grad" in report.checked and "infer_shape" in report.checked
    assert "backend:py" in report.checked
    if c_backend_ok()[0]:
        assert "backend:c" in report.checked


def test_crossentropy_softmax_1hot_reference_and_contract(rng):
    xv = rng.standard_normal((6, 4))
    yv = _labels(rng, 6, 4)
    x, y = T.dmatrix("x"), T.ivector("y")
    nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    got_nll, got_sm = opcore.function([x, y], [nll, sm])(xv, yv)
    ref = -sp_log_softmax(xv, axis=1)[np.arange(6), yv]
    np.testing.assert_allclose(got_nll, ref)
    np.testing.assert_allclose(got_sm, sp_softmax(xv, axis=1))
    report = check_op_contract(CrossentropySoftmax1Hot(), [xv, yv], [x, y], check_grad=False)
    assert "infer_shape" in report.checked
    verify_grad(lambda a: CrossentropySoftmax1Hot()(a, yv)[0], [xv], rng=np.random.RandomState(0))
    verify_grad(lambda a: CrossentropySoftmax1Hot()(a, yv)[1], [xv], rng=np.random.RandomState(0))
    g, smv = rng.standard_normal(6), sp_softmax(xv, axis=1)
    check_op_contract(CrossentropySoftmax1HotDx(), [g, smv, yv],
                      [T.dvector("g"), T.dmatrix("s"), y], check_grad=False)
    verify_grad(lambda a, b: CrossentropySoftmax1HotDx()(a, b, yv), [g, smv],
                rng=np.random.RandomState(0))


def test_categorical_crossentropy_labels_and_onehot(rng):
    p = sp_softmax(rng.standard_normal((5, 3)), axis=1)
    yv = _labels(rng, 5, 3)
    onehot = np.eye(3)[yv]
    P, y, t = T.dmatrix("p"), T.ivector("y"), T.dmatrix("t")
    f = opcore.function([P, y, t], [T.nnet.categorical_crossentropy(P, y),
                                    T.nnet.categorical_crossentropy(P, t)])
    a, b = f(p, yv, onehot)
    ref = -np.log(p[np.arange(5), yv])
    np.testing.assert_allclose(a, ref)
    np.testing.assert_allclose(b, ref)
    check_op_contract(CrossentropyCategorical1Hot(), [p, yv], [P, y], check_grad=False)
    verify_grad(lambda a: CrossentropyCategorical1Hot()(a, yv), [p], rng=np.random.RandomState(0))
    verify_grad(lambda g, a: CrossentropyCategorical1HotGrad()(g, a, yv),
                [rng.standard_normal(5), p], rng=np.random.RandomState(0))


def test_binary_crossentropy(rng):
    o = T.dvector("o")
    t = T.dvector("t")
    ov = rng.uniform(0.05, 0.95, 8)
    tv = rng.uniform(0, 1, 8)
    got = opcore.function([o, t], T.nnet.binary_crossentropy(o, t))(ov, tv)
    np.testing.assert_allclose(got, -(tv * np.log(ov) + (1 - tv) * np.log(1 - ov)))
    verify_grad(lambda a: T.nnet.binary_crossentropy(a, tv), [ov], rng=np.random.RandomState(0))
    xv = rng.standard_normal(8) * 50
    got = opcore.function([o, t], T.nnet.sigmoid_binary_crossentropy(o, t))(xv, tv)
    ref = np.logaddexp(0, xv) - tv * xv
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_bad_labels_raise_clear_errors(rng):
    x, y = T.dmatrix("x"), T.ivector("y")
    f = opcore.function([x, y], T.nnet.crossentropy_softmax_1hot(x, y)[0])
    with pytest.raises(IndexError, match="outside"):
        f(rng.standard_normal((2, 3)), np.array([0, 3], dtype="int32"))
    with pytest.raises(ValueError, match="labels"):
        f(rng.standard_normal((2, 3)), np.array([0], dtype="int32"))
    with pytest.raises(TypeError, match="integer vector"):
        T.nnet.crossentropy_softmax_1hot(x, T.dvector("yf"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_c_kernels_match_perform(rng, c_mode, dtype):
    x, y = T.matrix("x", dtype=dtype), T.ivector("y")
    xv = (rng.standard_normal((9, 6)) * 30).astype(dtype)
    yv = _labels(rng, 9, 6)
    nll, sm = CrossentropySoftmax1Hot()(x, y)
    g = T.vector("g", dtype=dtype)
    outs = [Softmax(-1)(x), LogSoftmax(-1)(x), nll, sm, SoftmaxGrad(-1)(x, sm),
            CrossentropySoftmax1HotDx()(g, sm, y)]
    gv = rng.standard_normal(9).astype(dtype)
    fc = opcore.function([x, y, g], outs, mode=c_mode)
    linker = fc.linker
    c_ops = {type(n.op).__name__ for n in getattr(linker, "c_nodes", [])}
    assert {"Softmax", "LogSoftmax", "CrossentropySoftmax1Hot", "SoftmaxGrad",
            "CrossentropySoftmax1HotDx"} <= c_ops, c_ops
    fp = opcore.function([x, y, g], outs, mode=opcore.compile.Mode(backend="py"))
    tol = 2e-5 if dtype == "float32" else 1e-12
    for a, b in zip(fc(xv.T.copy().T, yv, gv), fp(xv, yv, gv)):  # a Fortran-ordered input too
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    with pytest.raises(IndexError, match="outside"):
        fc(xv, np.full(9, 7, dtype="int32"), gv)


@pytest.mark.parametrize("backend", ["py", "c"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 0), (0, 3)])
def test_softmax_of_empty_arrays_is_empty(backend, shape):
    """A zero-size input gives a zero-size output of its shape, on both backends (found by
    scripts/fuzz_c.py: perform's max over an empty row raised, the C code returned)."""
    if backend == "c" and not c_backend_ok()[0]:
        pytest.skip("no C backend")
    from opcore.compile import Mode

    x = T.dmatrix("x")
    f = opcore.function([x], [Softmax(-1)(x), LogSoftmax(-1)(x)], mode=Mode(backend=backend))
    for got in f(np.zeros(shape)):
        assert got.shape == shape and got.dtype == np.float64
