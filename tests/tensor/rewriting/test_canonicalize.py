"""add/sub canonicalisation on every integer dtype and with negative constants: NumPy's values
and no rewrite failure (pymc-devs/pytensor#584, case_14).  The suite runs with
``rewrite_raise=True``; the tests below also turn on that flag themselves."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T

MODES = ["FAST_RUN", "FAST_COMPILE"]


@pytest.mark.parametrize("mode", MODES)
def test_negative_constants_and_small_unsigned_dtypes(mode):
    x = T.dscalar("x")
    xv = T.dvector("xv")
    u = T.vector("u", dtype="uint8")
    neg = T.as_tensor_variable(np.full((10,), -0.1))
    outs = [neg + x, x + neg, neg + xv, xv - np.float64(-2.0), u - 1, u + np.uint8(255) - 250,
            (u - 1) * 2]
    with opcore.config.change_flags(rewrite_raise=True):
        f = opcore.function([x, xv, u], outs, mode=mode)
    X, XV, U = 2.0, np.arange(10.0), np.array([1, 5, 200], dtype="uint8")
    with np.errstate(over="ignore"):
        refs = [np.full(10, -0.1) + X, X + np.full(10, -0.1), np.full(10, -0.1) + XV, XV + 2.0,
                U - np.uint8(1), U + np.uint8(255) - np.uint8(250),
                (U - np.uint8(1)) * np.uint8(2)]
    for got, ref in zip(f(X, XV, U), refs):
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64", "int8", "int64"])
def test_constants_combine_with_wraparound_in_the_output_dtype(dtype):
    v = T.vector("v", dtype=dtype)
    exprs = [v - 1 - 2, 3 - v - 5, v + 1 - 1, -(v - 7), v - v - 1]
    vv = np.array([0, 1, 9], dtype=dtype)
    with np.errstate(over="ignore"):
        one, two, three, five, seven = (np.array(k, dtype=dtype) for k in (1, 2, 3, 5, 7))
        refs = [vv - one - two, three - vv - five, vv + one - one, -(vv - seven), vv - vv - one]
    with opcore.config.change_flags(rewrite_raise=True):
        got_run = opcore.function([v], exprs, mode="FAST_RUN")(vv)
        got_compile = opcore.function([v], exprs, mode="FAST_COMPILE")(vv)
    for a, b, ref in zip(got_run, got_compile, refs):
        assert a.dtype == ref.dtype
        np.testing.assert_array_equal(a, ref)
        np.testing.assert_array_equal(b, ref)
