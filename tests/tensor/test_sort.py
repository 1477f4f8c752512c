"""sort, argsort, topk, argtopk against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor.sort import ArgSortOp, SortOp, TopKOp
from tests.tensor.family_cases import Case, family_tests

rng = np.random.default_rng(3)
M = rng.permutation(12).reshape(3, 4).astype("float64") + rng.random((3, 4)) * 0.1
T3 = rng.random((2, 3, 5))


def _topk_ref(x, k, axis=-1):
    idx = np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    sel = np.flip(np.take(idx, np.arange(n - k, n), axis=axis), axis=axis) if k > 0 else \
        np.take(idx, np.arange(0, -k), axis=axis)
    return np.take_along_axis(x, sel, axis=axis), sel


CASES = [
    Case("sort_last", lambda x: T.sort(x), [M], lambda x: np.sort(x), SortOp),
    Case("sort_axis0", lambda x: T.sort(x, 0), [T3], lambda x: np.sort(x, 0), SortOp),
    Case("sort_none", lambda x: T.sort(x, None), [M], lambda x: np.sort(x, None), SortOp),
    Case("sort_int32_mergesort", lambda x: T.sort(x, kind="mergesort"),
         [np.array([[3, 1, 2], [0, -1, 5]], dtype="int32")], lambda x: np.sort(x), SortOp,
         grad=False),
    Case("argsort_last", lambda x: T.argsort(x), [M], lambda x: np.argsort(x), ArgSortOp,
         grad=False),
    Case("argsort_axis1_3d", lambda x: T.argsort(x, 1), [T3], lambda x: np.argsort(x, 1),
         ArgSortOp, grad=False),
    Case("argsort_none_float32", lambda x: T.argsort(x, None), [M.astype("float32")],
         lambda x: np.argsort(x, None), ArgSortOp, grad=False),
    Case("topk_2", lambda x: T.topk(x, 2), [M], lambda x: _topk_ref(x, 2)[0], TopKOp),
    Case("topk_neg_axis0", lambda x: T.topk(x, -2, axis=0), [M],
         lambda x: _topk_ref(x, -2, 0)[0], TopKOp),
    Case("topk_full", lambda x: T.topk(x, 4), [M], lambda x: _topk_ref(x, 4)[0], TopKOp),
    Case("topk_unsorted", lambda x: T.topk(x, 3, sorted=False), [T3],
         lambda x: _topk_ref(x, 3)[0], TopKOp, unordered_last_axis=True),
    Case("argtopk", lambda x: T.argtopk(x, 2, axis=1), [T3], lambda x: _topk_ref(x, 2, 1)[1],
         TopKOp, grad=False),
    Case("argtopk_int32", lambda x: T.argtopk(x, -1, idx_dtype="int32"), [M],
         lambda x: _topk_ref(x, -1)[1].astype("int32"), TopKOp, grad=False),
    Case("topk_and_argtopk_none", lambda x: list(T.topk_and_argtopk(x, 3, axis=None)), [M],
         lambda x: list(_topk_ref(x.ravel(), 3)), TopKOp),
    Case("topk_uint8", lambda x: T.topk(x, 2), [np.array([[5, 1, 200, 7]], dtype="uint8")],
         lambda x: _topk_ref(x, 2)[0], TopKOp, grad=False),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


def test_symbolic_axis_values_and_gradient_needs_constant():
    x, ax = T.dmatrix("x"), T.lscalar("ax")
    f = opcore.function([x, ax], [SortOp()(x, ax), ArgSortOp()(x, ax)])
    for a in (0, 1, -1):
        s, i = f(M, a)
        np.testing.assert_array_equal(s, np.sort(M, a))
        np.testing.assert_array_equal(i, np.argsort(M, a))
    with pytest.raises(Exception, match="constant axis"):
        opcore.grad(SortOp()(x, ax).sum(), x)


def test_topk_symbolic_k():
    x, k = T.dmatrix("x"), T.lscalar("k")
    f = opcore.function([x, k], T.topk(x, k))
    for kv in (1, 2, -3):
        np.testing.assert_array_equal(f(M, kv), _topk_ref(M, kv)[0])


BAD = [
    ("sort_scalar", lambda: T.sort(T.dscalar()), ValueError, "0-d"),
    ("sort_axis_range", lambda: T.sort(T.dmatrix(), 2), ValueError, "out of range"),
    ("sort_float_axis", lambda: SortOp()(T.dmatrix(), T.dscalar()), TypeError,
     "integer scalar"),
    ("sort_kind", lambda: T.sort(T.dvector(), kind="bogo"), ValueError, "kind"),
    ("topk_float_k", lambda: T.topk(T.dvector(), 1.5), TypeError, "integer scalar"),
    ("topk_axis", lambda: T.topk(T.dvector(), 1, axis=1), IndexError, "out of range"),
    ("topk_idx_dtype", lambda: T.argtopk(T.dvector(), 1, idx_dtype="float32"), TypeError,
     "integer dtype"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("k,match", [(0, "cannot be 0"), (5, "larger than")])
def test_topk_bad_k_at_run_time(k, match):
    x, kk = T.dmatrix("x"), T.lscalar("k")
    f = opcore.function([x, kk], T.topk(x, kk))
    with pytest.raises(ValueError, match=match):
        f(M, k)
