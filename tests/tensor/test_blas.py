"""The reference ``perform`` of Gemm, Gemv and Ger (NumPy only), against NumPy's own formulas,
for every float and complex dtype, mixed input dtypes, strided and empty operands, ``b == 0``
with NaN in the accumulated operand, and shape errors.  No plugin is involved: each node runs its
``perform`` directly."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import opcore.tensor as T
from opcore.tensor.blas import gemm, gemv, ger

DTYPES = ["float32", "float64", "complex64", "complex128"]
RTOL = {"float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}


def _val(rng, shape, dtype):
    v = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        v = v + 1j * rng.standard_normal(shape)
    return v.astype(dtype)


def _perform(node, values):
    out = [[None] for _ in node.outputs]
    node.op.perform(node, values, out)
    return out[0][0]


def _scalar(value, dtype):
    return np.asarray(value, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b", [0.0, 0.5])
def test_gemm_perform_is_b_z_plus_a_dot(dtype, b):
    rng = np.random.default_rng(0)
    z, x, y = (T.tensor(dtype=dtype, shape=(None, None)) for _ in range(3))
    a_v, b_v = T.scalar(dtype=dtype), T.scalar(dtype=dtype)
    node = gemm(z, a_v, x, y, b_v).owner
    zv = _val(rng, (3, 5), dtype)
    xv = _val(rng, (4, 3), dtype).T  # a strided (transposed) operand
    yv = _val(rng, (4, 5), dtype)
    if b == 0:
        zv[0, 0] = np.nan  # BLAS: beta == 0 ignores C, NaN included
    got = _perform(node, [zv, _scalar(1.5, dtype), xv, yv, _scalar(b, dtype)])
    want = 1.5 * (xv @ yv) + (b * zv if b else 0)
    assert got.dtype == np.dtype(dtype) and got is not zv
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemv_perform_is_b_y_plus_a_dot(dtype):
    rng = np.random.default_rng(1)
    y = T.tensor(dtype=dtype, shape=(None,))
    A = T.tensor(dtype=dtype, shape=(None, None))
    x = T.tensor(dtype=dtype, shape=(None,))
    node = gemv(y, T.scalar(dtype=dtype), A, x, T.scalar(dtype=dtype)).owner
    yv, Av, xv = _val(rng, (4,), dtype), _val(rng, (4, 6), dtype), _val(rng, (12,), dtype)[::2]
    got = _perform(node, [yv, _scalar(-2.0, dtype), Av, xv, _scalar(0.25, dtype)])
    np.testing.assert_allclose(got, 0.25 * yv - 2.0 * (Av @ xv), rtol=RTOL[dtype],
                               atol=RTOL[dtype])
    yv[1] = np.nan
    got = _perform(node, [yv, _scalar(1.0, dtype), Av, xv, _scalar(0.0, dtype)])
    np.testing.assert_allclose(got, Av @ xv, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ger_perform_is_A_plus_a_outer(dtype):
    rng = np.random.default_rng(2)
    A = T.tensor(dtype=dtype, shape=(None, None))
    x, y = T.tensor(dtype=dtype, shape=(None,)), T.tensor(dtype=dtype, shape=(None,))
    node = ger(A, T.scalar(dtype=dtype), x, y).owner
    Av, xv, yv = _val(rng, (3, 4), dtype), _val(rng, (3,), dtype), _val(rng, (4,), dtype)
    got = _perform(node, [Av, _scalar(0.75, dtype), xv, yv])
    np.testing.assert_allclose(got, Av + 0.75 * np.outer(xv, yv), rtol=RTOL[dtype],
                               atol=RTOL[dtype])
    assert got is not Av


def test_mixed_input_dtypes_compute_in_the_output_dtype():
    rng = np.random.default_rng(3)
    z = T.dmatrix("z")
    x, y = T.fmatrix("x"), T.imatrix("y")
    node = gemm(z, T.dscalar(), x, y, T.dscalar()).owner
    zv = rng.standard_normal((2, 3))
    xv = rng.standard_normal((2, 4)).astype("float32")
    yv = rng.integers(-3, 4, (4, 3)).astype("int32")
    got = _perform(node, [zv, np.float64(2.0), xv, yv, np.float64(1.0)])
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, zv + 2.0 * (xv.astype("float64") @ yv), rtol=1e-6)


def test_empty_operands():
    z, x, y = T.dmatrix(), T.dmatrix(), T.dmatrix()
    node = gemm(z, T.dscalar(), x, y, T.dscalar()).owner
    zv = np.ones((2, 3))
    got = _perform(node, [zv, np.float64(1.0), np.empty((2, 0)), np.empty((0, 3)),
                          np.float64(3.0)])
    np.testing.assert_array_equal(got, 3 * zv)  # an empty inner dimension adds zero
    got = _perform(node, [np.empty((0, 3)), np.float64(1.0), np.empty((0, 2)), np.ones((2, 3)),
                          np.float64(1.0)])
    assert got.shape == (0, 3)


def test_shape_mismatch_names_the_op_and_the_shapes():
    z, x, y = T.dmatrix(), T.dmatrix(), T.dmatrix()
    node = gemm(z, T.dscalar(), x, y, T.dscalar()).owner
    with pytest.raises(ValueError, match=r"Gemm: shapes z\(2, 3\), x\(2, 4\), y\(5, 3\)"):
        _perform(node, [np.ones((2, 3)), np.float64(1), np.ones((2, 4)), np.ones((5, 3)),
                        np.float64(1)])
    A, xv, yv = T.dmatrix(), T.dvector(), T.dvector()
    with pytest.raises(ValueError, match="Gemv: shapes"):
        _perform(gemv(xv, T.dscalar(), A, yv, T.dscalar()).owner,
                 [np.ones(2), np.float64(1), np.ones((2, 3)), np.ones(4), np.float64(1)])
    with pytest.raises(ValueError, match="Ger: shapes"):
        _perform(ger(A, T.dscalar(), xv, yv).owner,
                 [np.ones((2, 3)), np.float64(1), np.ones(3), np.ones(3)])


def test_the_core_blas_module_does_not_import_scipy():
    import subprocess

    code = ("import sys, opcore.tensor.blas, opcore.tensor.rewriting.blas; "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
