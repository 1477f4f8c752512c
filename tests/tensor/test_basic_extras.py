"""Theano's remaining tensor.basic helpers (ptp, swapaxes, flatnonzero, largest, smallest,
deg2rad, rad2deg, split, inverse_permutation, permute_row_elements, cov, dtype lists) against
NumPy, with gradients."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from tests.tensor.family_cases import Case, family_tests

rng = np.random.default_rng(8)
M = rng.random((3, 5))
M2 = rng.random((3, 5))
M3 = rng.random((3, 5))
T3 = rng.random((2, 3, 4))
PERM = np.array([[2, 0, 1, 4, 3], [4, 3, 2, 1, 0], [0, 1, 2, 3, 4]])

CASES = [
    Case("ptp_none", lambda x: T.ptp(x), [M], np.ptp),
    Case("ptp_axis", lambda x: T.ptp(x, 1), [M], lambda x: np.ptp(x, 1)),
    Case("swapaxes", lambda x: T.swapaxes(x, 0, -1), [T3], lambda x: np.swapaxes(x, 0, -1)),
    Case("flatnonzero", lambda x: T.flatnonzero(x), [np.array([[0, 2], [3, 0]])],
         np.flatnonzero, grad=False),
    Case("largest_2", lambda a, b: T.largest(a, b), [M, M2], np.maximum),
    Case("largest_3", lambda a, b, c: T.largest(a, b, c), [M, M2, M3],
         lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    Case("smallest_3", lambda a, b, c: T.smallest(a, b, c), [M, M2, M3],
         lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    Case("deg2rad", T.deg2rad, [M * 90], np.deg2rad),
    Case("rad2deg_float32", T.rad2deg, [M.astype("float32")], np.rad2deg, grad=False,
         rtol=1e-6),
    Case("deg2rad_int", T.deg2rad, [np.array([0, 90, 180])], np.deg2rad, grad=False),
    Case("split_axis1", lambda x: T.split(x, [2, 0, 3], 3, axis=1), [M],
         lambda x: np.split(x, [2, 2], axis=1)),
    Case("split_symbolic_sizes", lambda x, s: T.split(x, s, 2, axis=-1), [T3, np.array([1, 3])],
         lambda x, s: np.split(x, [1], axis=-1), grad_args=[0]),
    Case("inverse_permutation", T.inverse_permutation, [PERM],
         lambda p: np.argsort(p, axis=-1), grad=False),
    Case("permute_row_elements", lambda x, p: T.permute_row_elements(x, p), [M, PERM],
         lambda x, p: np.take_along_axis(x, p, 1), grad_args=[0]),
    Case("permute_row_elements_broadcast", lambda x, p: T.permute_row_elements(x, p),
         [M, PERM[1]], lambda x, p: x[:, p], grad_args=[0]),
    Case("permute_row_elements_inverse", lambda x, p: T.permute_row_elements(x, p, True),
         [M, PERM], lambda x, p: _inverse_permuted(x, p), grad_args=[0]),
    Case("advanced_subtensor1", lambda x, i: T.advanced_subtensor1(x, i), [M, np.array([2, 0, 2])],
         lambda x, i: x[i], grad_args=[0]),
    Case("advanced_inc_subtensor1", lambda x, y, i: T.advanced_inc_subtensor1(x, y, i),
         [M, M2[:2], np.array([1, 1])], lambda x, y, i: _inc_at(x, y, i), grad_args=[0, 1]),
    Case("advanced_set_subtensor1", lambda x, y, i: T.advanced_set_subtensor1(x, y, i),
         [M, M2[:2], np.array([2, 0])], lambda x, y, i: _set_at(x, y, i), grad_args=[0, 1]),
    Case("advanced_subtensor", lambda x, i, j: T.advanced_subtensor(x, i, j),
         [M, np.array([0, 2]), np.array([4, 1])], lambda x, i, j: x[i, j], grad_args=[0]),
    Case("advanced_inc_subtensor", lambda x, y, i, j: T.advanced_inc_subtensor(x, y, i, j),
         [M, np.array([1.0, 2.0]), np.array([0, 0]), np.array([1, 1])],
         lambda x, y, i, j: _inc_at2(x, y, i, j), grad_args=[0, 1]),
    Case("advanced_set_subtensor", lambda x, y, i, j: T.advanced_set_subtensor(x, y, i, j),
         [M, np.array([1.0, 2.0]), np.array([0, 2]), np.array([1, 3])],
         lambda x, y, i, j: _set_at2(x, y, i, j), grad_args=[0, 1]),
    Case("ceil_intdiv", T.ceil_intdiv, [np.array([7, -7, 6, 0]), np.array([2, 2, 3, 5])],
         lambda a, b: -(-a // b), grad=False),
    Case("divmod", lambda a, b: list(T.divmod(a, b)), [np.array([7, -7, 6]), np.array([2, 3, -4])],
         lambda a, b: list(np.divmod(a, b)), grad=False),
    Case("round_half_away_from_zero", T.round_half_away_from_zero,
         [np.array([0.5, 1.5, -0.5, -2.5, 2.4])], lambda a: np.array([1.0, 2.0, -1.0, -3.0, 2.0]),
         grad=False),
    Case("cov_rows", lambda x: T.cov(x), [M], np.cov),
    Case("cov_cols_bias", lambda x: T.cov(x, rowvar=False, bias=True), [M],
         lambda x: np.cov(x, rowvar=False, bias=True)),
    Case("cov_y_ddof", lambda x, y: T.cov(x, y, ddof=2), [M, M[::-1] * 2],
         lambda x, y: np.cov(x, y, ddof=2)),
    Case("cov_vector", lambda v: T.cov(v), [M[0]], np.cov),
]


def _inc_at(x, y, i):
    out = x.copy()
    np.add.at(out, i, y)
    return out


def _set_at(x, y, i):
    out = x.copy()
    out[i] = y
    return out


def _inc_at2(x, y, i, j):
    out = x.copy()
    np.add.at(out, (i, j), y)
    return out


def _set_at2(x, y, i, j):
    out = x.copy()
    out[i, j] = y
    return out


def _inverse_permuted(x, p):
    out = np.zeros_like(x)
    np.put_along_axis(out, p, x, axis=1)
    return out


test_values, test_infer_shape, test_grad = family_tests(CASES)


def test_dtype_lists_and_type_tuples():
    assert T.integer_dtypes == T.int_dtypes + T.uint_dtypes
    assert T.discrete_dtypes[0] == "bool" and "float16" in T.float_dtypes
    assert set(T.all_dtypes) == set(T.discrete_dtypes) | set(T.continuous_dtypes)
    assert T.float_vector_types == (T.fvector, T.dvector)
    assert T.int_matrix_types[-1] is T.lmatrix
    assert T.tensor6("x").ndim == 6 and T.tensor7(dtype="int8").dtype == "int8"


def test_get_vector_length_and_extract_constant():
    x = T.dmatrix("x")
    assert T.get_vector_length(x.shape) == 2
    assert T.get_vector_length(T.as_tensor_variable([1, 2, 3])) == 3
    assert T.get_vector_length(T.stack([T.dscalar(), T.dscalar()])) == 2
    with pytest.raises(ValueError, match="not known"):
        T.get_vector_length(T.dvector())
    c = T.extract_constant(T.cast(T.constant(3), "float64"))
    assert float(c.data) == 3.0
    v = T.dscalar()
    assert T.extract_constant(v) is v


def test_split_lengths_must_cover_the_axis():
    x = T.dmatrix("x")
    f = opcore.function([x], T.split(x, [2, 2], 2, axis=1))
    with pytest.raises(ValueError, match="expected shape"):
        f(M)


BAD = [
    ("split_float_sizes", lambda: T.split(T.dmatrix(), [1.5, 2.5], 2), TypeError,
     "integer vector"),
    ("split_no_pieces", lambda: T.split(T.dmatrix(), [1], 0), ValueError, "positive"),
    ("inverse_permutation_float", lambda: T.inverse_permutation(T.dvector()), TypeError,
     "integer"),
    ("permute_float_y", lambda: T.permute_row_elements(T.dmatrix(), T.dmatrix()), TypeError,
     "integer"),
    ("cov_weights", lambda: T.cov(T.dmatrix(), fweights=[1, 2]), NotImplementedError,
     "fweights"),
    ("flatnonzero_scalar", lambda: T.flatnonzero(T.dscalar()), ValueError, "one dimension"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()
