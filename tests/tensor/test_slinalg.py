"""opcore.tensor.slinalg against scipy.linalg: values, shapes, gradients, errors, and SciPy
loaded only when an op runs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor import slinalg as SL
from tests.tensor.family_cases import Case, family_tests

sl = pytest.importorskip("scipy.linalg")

rng = np.random.default_rng(13)
A = rng.random((4, 4)) + 4 * np.eye(4)
S = A @ A.T
L = np.linalg.cholesky(S)
B = rng.random((4, 3))
b = rng.random(4)


def _spd(x):
    return T.dot(x, x.T) + 4 * T.eye(x.shape[0], dtype=x.dtype)


CASES = [
    Case("cholesky_lower", SL.cholesky, [S], np.linalg.cholesky, SL.Cholesky, grad=False),
    Case("cholesky_upper", SL.Cholesky(lower=False), [S], lambda s: sl.cholesky(s),
         SL.Cholesky, grad=False),
    Case("cholesky_grad", lambda x: SL.cholesky(_spd(x)), [A], None),
    Case("cholesky_upper_grad", lambda x: SL.Cholesky(lower=False)(_spd(x)), [A], None),
    Case("solve_matrix", SL.solve, [A, B], np.linalg.solve, SL.Solve),
    Case("solve_vector", SL.solve, [A, b], np.linalg.solve, SL.Solve),
    Case("solve_float32", SL.solve, [A.astype("float32"), b.astype("float32")],
         lambda a, bb: np.linalg.solve(a, bb), SL.Solve, grad=False, rtol=1e-5),
    Case("solve_sym_lower", lambda a, bb: SL.Solve(assume_a="sym", lower=True)(_spd(a), bb),
         [A, B], None),
    Case("solve_pos", lambda a, bb: SL.Solve(assume_a="pos")(a, bb), [S, B],
         lambda a, bb: sl.solve(a, bb, assume_a="pos"), SL.Solve, grad=False),
    Case("solve_theano_lower_triangular", lambda a, bb: SL.solve_lower_triangular(a, bb),
         [np.tril(A), B], lambda a, bb: sl.solve_triangular(a, bb, lower=True), SL.Solve),
    Case("solve_theano_upper_triangular", lambda a, bb: SL.solve_upper_triangular(a, bb),
         [np.triu(A), b], lambda a, bb: sl.solve_triangular(a, bb), SL.Solve),
    *[Case(f"solve_triangular_lower{lo}_trans{tr}",
           lambda a, bb, lo=lo, tr=tr: SL.solve_triangular(a, bb, trans=tr, lower=lo),
           [np.tril(A) if lo else np.triu(A), B],
           lambda a, bb, lo=lo, tr=tr: sl.solve_triangular(a, bb, trans=tr, lower=lo),
           SL.SolveTriangular) for lo in (True, False) for tr in (0, 1)],
    Case("solve_triangular_unit", lambda a, bb: SL.solve_triangular(a, bb, lower=True,
                                                                    unit_diagonal=True),
         [np.tril(A), b], lambda a, bb: sl.solve_triangular(a, bb, lower=True,
                                                            unit_diagonal=True),
         SL.SolveTriangular),
    Case("cho_solve_lower", lambda c, bb: SL.cho_solve((c, True), bb), [L, B],
         lambda c, bb: sl.cho_solve((c, True), bb), SL.CholeskySolve),
    Case("cho_solve_upper", lambda c, bb: SL.cho_solve((c, False), bb), [L.T.copy(), b],
         lambda c, bb: sl.cho_solve((c, False), bb), SL.CholeskySolve),
    Case("eigvalsh", lambda a: SL.eigvalsh(a), [S], sl.eigvalsh, SL.Eigvalsh),
    Case("eigvalsh_upper", lambda a: SL.eigvalsh(a, lower=False), [S],
         lambda a: sl.eigvalsh(a, lower=False), SL.Eigvalsh),
    Case("eigvalsh_generalized", lambda a, bb: SL.eigvalsh(a, bb), [S, S + 3 * np.eye(4)],
         lambda a, bb: sl.eigvalsh(a, bb), SL.Eigvalsh),
    Case("expm", SL.expm, [A / 8], sl.expm, SL.Expm),
    Case("kron_matrices", SL.kron, [A[:2, :3], B[:3, :2]], np.kron),
    Case("kron_vector_matrix", SL.kron, [b, B], np.kron),
    Case("kron_3d", SL.kron, [rng.random((2, 1, 2)), B[:2]], np.kron),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


def test_cholesky_on_error():
    x = T.dmatrix("x")
    bad = -np.eye(2)
    with pytest.raises(np.linalg.LinAlgError):
        opcore.function([x], SL.cholesky(x))(bad)
    assert np.isnan(opcore.function([x], SL.Cholesky(on_error="nan")(x))(bad)).all()


BAD = [
    ("cholesky_vector", lambda: SL.cholesky(T.dvector()), TypeError, "must be a matrix"),
    ("cholesky_on_error", lambda: SL.Cholesky(on_error="warn"), ValueError, "on_error"),
    ("solve_rhs_tensor3", lambda: SL.solve(T.dmatrix(), T.dtensor3()), TypeError,
     "vector or a matrix"),
    ("solve_structure", lambda: SL.Solve(A_structure="banded"), ValueError, "A_structure"),
    ("solve_assume_a", lambda: SL.Solve(assume_a="diagonal"), ValueError, "assume_a"),
    ("solve_triangular_trans", lambda: SL.SolveTriangular(trans=5), ValueError, "trans"),
    ("expm_vector", lambda: SL.expm(T.dvector()), TypeError, "must be a matrix"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_scipy_is_imported_only_when_an_op_runs():
    code = (
        "import sys, opcore, opcore.tensor as T\n"
        "from opcore.tensor import slinalg\n"
        "x = T.dmatrix()\n"
        "y = slinalg.cholesky(x) + slinalg.solve(x, x) + slinalg.expm(x)\n"
        "assert 'scipy' not in sys.modules, 'scipy imported while building a graph'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_scipy_names_the_package(monkeypatch):
    from opcore import optional

    def fail(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(optional.importlib, "import_module", fail)
    with pytest.raises(ImportError, match="Cholesky.*needs scipy.linalg.*pip install scipy"):
        SL.Cholesky().perform(None, [np.eye(2)], [[None]])
