"""opcore.tensor.nlinalg against numpy.linalg: values, dtypes, shapes, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor import nlinalg as NL
from tests.tensor.family_cases import Case, check_grad, family_tests

rng = np.random.default_rng(11)
A = rng.random((4, 4)) + 4 * np.eye(4)
S = A @ A.T
R = rng.random((3, 5))
RT = rng.random((5, 3))


A4 = np.moveaxis((np.eye(6) * 3 + rng.random((6, 6))).reshape(2, 3, 2, 3), 0, 2).copy()
B23 = rng.random((2, 3))


def _svd_cost(x):
    # sign-invariant functions of the singular vectors, so finite differences are well defined
    u, s, vt = NL.svd(x, full_matrices=False)
    return abs(u).sum() + 2 * abs(vt).sum() + 3 * s.sum() + (T.dot(u * s, vt) ** 2).sum()


def _qr_cost(x):
    q, r = NL.qr(x)
    return abs(q).sum() + 2 * abs(r).sum()


CASES = [
    Case("inv", NL.matrix_inverse, [A], np.linalg.inv, NL.MatrixInverse),
    Case("inv_float32", NL.matrix_inverse, [A.astype("float32")], np.linalg.inv,
         NL.MatrixInverse, grad=False, rtol=1e-5),
    Case("inv_int_gives_float64", NL.matrix_inverse, [np.array([[2, 0], [0, 4]])],
         np.linalg.inv, NL.MatrixInverse, grad=False),
    Case("pinv_wide", NL.pinv, [R], np.linalg.pinv, NL.MatrixPinv),
    Case("pinv_tall", NL.pinv, [RT], np.linalg.pinv, NL.MatrixPinv),
    Case("det", NL.det, [A], np.linalg.det, NL.Det),
    Case("eig", lambda x: NL.eig(x), [A], None, NL.Eig, grad=False),
    Case("eigh_w", lambda x: NL.eigh(x)[0], [S], lambda x: np.linalg.eigh(x)[0], NL.Eigh),
    Case("eigh_U_w", lambda x: NL.eigh(x, "U")[0], [S], lambda x: np.linalg.eigh(x, "U")[0],
         NL.Eigh),
    Case("eigh_v_abs", lambda x: abs(NL.eigh(x)[1]), [S],
         lambda x: abs(np.linalg.eigh(x)[1]), NL.Eigh),
    Case("svd_full", lambda x: NL.svd(x), [R], lambda x: list(np.linalg.svd(x)), NL.SVD,
         grad=False),
    Case("svd_reduced", lambda x: NL.svd(x, full_matrices=False), [RT],
         lambda x: list(np.linalg.svd(x, full_matrices=False)), NL.SVD, grad=False),
    Case("svd_values", lambda x: NL.svd(x, compute_uv=False), [R],
         lambda x: np.linalg.svd(x, compute_uv=False), NL.SVD),
    Case("qr_reduced", lambda x: NL.qr(x), [RT], lambda x: list(np.linalg.qr(x)), NL.QRFull,
         grad=False),
    Case("qr_complete", lambda x: NL.qr(x, "complete"), [R],
         lambda x: list(np.linalg.qr(x, "complete")), NL.QRFull, grad=False),
    Case("qr_r", lambda x: NL.qr(x, "r"), [RT], lambda x: np.linalg.qr(x, "r"), NL.QRFull,
         grad=False),
    Case("lstsq", lambda a, b: NL.lstsq(a, b, -1)[0], [RT, rng.random(5)],
         lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], grad=False),
    Case("trace", NL.trace, [R], np.trace),
    Case("matrix_dot", lambda a, b, c: NL.matrix_dot(a, b, c), [R, RT, A[:3, :3]],
         lambda a, b, c: a @ b @ c),
    *[Case(f"matrix_power_{n}", lambda x, n=n: NL.matrix_power(x, n), [A / 4],
           lambda x, n=n: np.linalg.matrix_power(x, n)) for n in (0, 1, 3, 6, -2)],
    *[Case(f"norm_matrix_{o}", lambda x, o=o: NL.norm(x, o), [R - 0.5],
           lambda x, o=o: np.linalg.norm(x, o)) for o in ("fro", np.inf, -np.inf, 1, -1)],
    *[Case(f"norm_vector_{o}", lambda x, o=o: NL.norm(x, o), [R[0] - 0.5],
           lambda x, o=o: np.linalg.norm(x, o), grad=o not in (0,))
      for o in (None, 1, 3, np.inf, -np.inf, 0)],
    Case("tensorinv", lambda x: NL.tensorinv(x, 1), [A], lambda x: np.linalg.tensorinv(x, 1),
         NL.TensorInv),
    Case("tensorinv_ind2", lambda x: NL.tensorinv(x, 2),
         [(np.eye(6) * 3 + rng.random((6, 6))).reshape(2, 3, 6)],
         lambda x: np.linalg.tensorinv(x, 2), NL.TensorInv),
    Case("tensorsolve", lambda a, b: NL.tensorsolve(a, b), [A, rng.random(4)],
         lambda a, b: np.linalg.tensorsolve(a, b), NL.TensorSolve),
    Case("tensorsolve_axes", lambda a, b: NL.tensorsolve(a, b, axes=(2,)), [A4, B23],
         lambda a, b: np.linalg.tensorsolve(a, b, axes=(2,)), NL.TensorSolve),
    *[Case(f"svd_uv_grad_{m}x{n}", lambda x: _svd_cost(x), [rng.random((m, n))], None)
      for m, n in ((4, 4), (3, 5), (5, 3))],
    *[Case(f"qr_grad_{m}x{n}", lambda x: _qr_cost(x), [rng.random((m, n))], None)
      for m, n in ((4, 4), (3, 5), (5, 3))],
    Case("qr_r_grad", lambda x: abs(NL.qr(x, "r")), [RT], None),
    Case("diag_alloc_extract", lambda v: NL.extract_diag(NL.alloc_diag(v)), [R[0]],
         lambda v: v),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_norm_and_abs_of_complex_are_real(dtype):
    z = T.TensorType(dtype, shape=(None, None))("z")
    zv = (R + 1j * R[::-1]).astype(dtype)
    assert abs(z).dtype == {"complex64": "float32", "complex128": "float64"}[dtype]
    for o in ("fro", 1, np.inf):
        got = opcore.function([z], NL.norm(z, o))(zv)
        np.testing.assert_allclose(got, np.linalg.norm(zv, o), rtol=1e-5)
        assert got.dtype == np.linalg.norm(zv, o).dtype


def test_eig_reconstructs():
    x = T.dmatrix("x")
    w, v = opcore.function([x], NL.eig(x))(A)
    np.testing.assert_allclose(A @ v, v * w, atol=1e-10)


def test_eigh_gradient_of_symmetrized_input():
    # eigenvector gradients through a symmetric parametrisation (sign-invariant cost)
    check_grad(Case("eigh_sym_vec", lambda x: (NL.eigh(_sym_t(x))[1] ** 2).sum(0) *
                    NL.eigh(_sym_t(x))[0], [S], None))


def _sym_t(x):
    return (x + x.T) / 2


def test_matrix_inverse_rop():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    r = opcore.gradient.Rop(NL.matrix_inverse(x), x, v)
    V = rng.random((4, 4))
    inv = np.linalg.inv(A)
    np.testing.assert_allclose(opcore.function([x, v], r)(A, V), -inv @ V @ inv, rtol=1e-9)


def test_gradients_that_are_not_defined_say_why():
    x = T.dmatrix("x")
    for out in (NL.svd(x)[0].sum(), NL.qr(x, "complete")[1].sum()):
        with pytest.raises(opcore.gradient.NullTypeGradError, match="full_matrices|complete"):
            opcore.grad(out, x)


BAD = [
    ("inv_vector", lambda: NL.matrix_inverse(T.dvector()), TypeError, "must be a matrix"),
    ("det_static_nonsquare", lambda: NL.det(T.TensorType("float64", shape=(2, 3))()),
     ValueError, "square"),
    ("eigh_uplo", lambda: NL.eigh(T.dmatrix(), "X"), ValueError, "UPLO"),
    ("qr_mode", lambda: NL.qr(T.dmatrix(), "full"), ValueError, "mode"),
    ("norm_tensor3", lambda: NL.norm(T.dtensor3(), 2), ValueError, "only vectors"),
    ("norm_matrix_ord", lambda: NL.norm(T.dmatrix(), 3), ValueError, "not supported"),
    ("matrix_power_float", lambda: NL.matrix_power(T.dmatrix(), 1.5), TypeError, "int"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_run_time_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="square"):
        opcore.function([x], NL.det(x))(R)
    with pytest.raises(np.linalg.LinAlgError):
        opcore.function([x], NL.matrix_inverse(x))(np.zeros((2, 2)))
