"""The literal-dtype policy (docs/literals.md): Python numbers are NumPy 2 weak scalars.

References: NumPy 2 (NEP 50) for every dtype checked; Theano/Theano#4523 (case_08) for the values
``T.pow(2, p)`` must give.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T

MODES = ["FAST_RUN", "FAST_COMPILE"]
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("mode", MODES)
def test_integer_literals_never_overflow_where_numpy_does_not(mode):
    ps = [4, 5, 6, 7, 8, 9, 20]
    outs = [T.pow(2, p) for p in ps] + [T.constant(2) ** 10, T.as_tensor_variable(100) * 100 * 100]
    got = [int(np.asarray(v)) for v in opcore.function([], outs, mode=mode)()]
    assert got == [int(np.power(2, p)) for p in ps] + [1024, 1000000]
    p = T.iscalar("p")
    out = T.pow(2, p)
    assert out.dtype == "int32"  # the literal adopts the typed operand's dtype
    assert int(opcore.function([p], out, mode=mode)(7)) == 128


def test_literal_constant_dtypes():
    assert T.constant(2).dtype == np.asarray(2).dtype.name == "int64"
    assert T.constant(True).dtype == "bool"
    assert T.constant(1j).dtype == "complex128"
    assert T.constant(2 ** 63).dtype == "uint64"
    with pytest.raises(OverflowError, match="out of bounds"):
        T.constant(2 ** 64)
    assert T.constant(0.5).dtype == opcore.config.floatX
    assert T.constant(np.int8(3)).dtype == "int8"  # NumPy scalars keep their dtype
    # Python arithmetic on literals alone: 2 * 0.5 is a float, 2 ** 10 an int64
    assert (T.constant(2) * 0.5).dtype == opcore.config.floatX
    assert (T.constant(2) ** 10).dtype == "int64"


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_literal_takes_the_typed_operand_dtype(dtype, mode):
    x = T.vector("x", dtype=dtype)
    xv = np.array([3, 5, 7], dtype=dtype)
    outs = [x - 1, x + 2, 3 * x, x // 2, x * True]
    refs = [xv - 1, xv + 2, 3 * xv, xv // 2, xv * True]  # NumPy 2's weak-scalar answers
    got = opcore.function([x], outs, mode=mode)(xv)
    for o, g, r in zip(outs, got, refs):
        assert o.dtype == r.dtype.name, (o, o.dtype, r.dtype)
        assert g.dtype == r.dtype
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("mode", MODES)
def test_literal_that_does_not_fit_widens_instead_of_wrapping(mode):
    u = T.vector("u", dtype="uint8")
    b = T.bvector("b")
    uv = np.array([0, 5, 250], "uint8")
    bv = np.array([-10, 0, 10], "int8")
    outs = [u + 300, u + (-1), b * 1000, u * 0.5]
    got = opcore.function([u, b], outs, mode=mode)(uv, bv)
    refs = [uv.astype("int64") + 300, uv.astype("int64") - 1, bv.astype("int64") * 1000,
            uv * 0.5]
    assert [o.dtype for o in outs] == ["uint16", "int16", "int16", "float64"]
    for g, r in zip(got, refs):
        np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint32", "int16"])
def test_constant_folding_follows_the_same_policy(dtype):
    # a folded graph (FAST_RUN) and the same graph computed (FAST_COMPILE) agree with NumPy
    c = T.constant(np.array([1, 2, 3], dtype=dtype))
    outs = [c - 1, (c - 1) * 2, c + 2 - 4, 2 ** T.constant(np.array([3], dtype=dtype))]
    arr = np.array([1, 2, 3], dtype=dtype)
    with np.errstate(over="ignore"):
        refs = [arr - 1, (arr - 1) * 2, arr + 2 - 4, 2 ** np.array([3], dtype=dtype)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for mode in MODES:
            got = opcore.function([], outs, mode=mode)()
            for g, r in zip(got, refs):
                assert g.dtype == r.dtype
                np.testing.assert_array_equal(g, r)
