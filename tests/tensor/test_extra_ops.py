"""opcore.tensor.extra_ops against NumPy: values and dtypes on every backend, infer_shape,
gradients, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor import extra_ops as E
from tests.tensor.family_cases import Case, check_grad, family_tests

rng = np.random.default_rng(42)
M = rng.random((3, 4)) + 0.5
T3 = rng.random((2, 3, 4)) + 0.5
IV = np.array([3, 1, 3, 0, 5], dtype="int64")

CASES = [
    Case("cumsum_axis1", lambda x: E.cumsum(x, 1), [M], lambda x: np.cumsum(x, 1), E.CumOp),
    Case("cumsum_none", lambda x: E.cumsum(x), [T3], lambda x: np.cumsum(x), E.CumOp),
    Case("cumsum_int32", lambda x: E.cumsum(x, 0), [IV.astype("int32")],
         lambda x: np.cumsum(x, 0, dtype="int32"), E.CumOp, grad=False),
    Case("cumprod_axis0", lambda x: E.cumprod(x, 0), [M], lambda x: np.cumprod(x, 0), E.CumOp),
    Case("cumprod_none", lambda x: E.cumprod(x), [M], lambda x: np.cumprod(x), E.CumOp),
    Case("cumprod_neg_axis", lambda x: E.cumprod(x, -1), [T3], lambda x: np.cumprod(x, -1),
         E.CumOp),
    Case("cumsum_bool_counts", lambda x: E.cumsum(x, 1), [M > 0.9],
         lambda x: np.cumsum(x, 1), E.CumOp, grad=False),
    Case("cumprod_bool", lambda x: E.cumprod(x), [M > 0.6], lambda x: np.cumprod(x), E.CumOp,
         grad=False),
    Case("diff_bool_is_not_equal", lambda x: E.diff(x), [M > 0.9], lambda x: np.diff(x),
         grad=False),
    Case("diff_n2", lambda x: E.diff(x, 2, 1), [M], lambda x: np.diff(x, 2, 1)),
    Case("diff_axis0", lambda x: E.diff(x, axis=0), [T3], lambda x: np.diff(x, axis=0)),
    Case("bincount", lambda x: E.bincount(x), [IV], lambda x: np.bincount(x), grad=False),
    Case("bincount_weights_minlength", lambda x, w: E.bincount(x, w, minlength=9),
         [IV, rng.random(5)], lambda x, w: np.bincount(x, w, 9), grad_args=[1]),
    Case("bincount_empty", lambda x: E.bincount(x), [IV[:0]], lambda x: np.bincount(x),
         grad=False),
    Case("bincount_empty_minlength", lambda x: E.bincount(x, minlength=4), [IV[:0]],
         lambda x: np.bincount(x, minlength=4), grad=False),
    Case("unique_empty_inverse", lambda x: E.unique(x, return_inverse=True), [M[:0]],
         lambda x: [np.unique(x), np.unique(x, return_inverse=True)[1].ravel()], grad=False),
    Case("unique_inverse_shape", lambda x: E.unique(x, False, True, True), [IV.reshape(1, 5)],
         lambda x: [a.ravel() if k else a for k, a in enumerate(
             np.unique(x, return_inverse=True, return_counts=True))], grad=False),
    Case("repeat_scalar_axis0", lambda x: E.repeat(x, 2, 0), [M], lambda x: np.repeat(x, 2, 0),
         E.RepeatOp),
    Case("repeat_none", lambda x: E.repeat(x, 3), [M], lambda x: np.repeat(x, 3), E.RepeatOp),
    Case("repeat_vector", lambda x, r: E.repeat(x, r, 1), [M, np.array([1, 0, 2, 3])],
         lambda x, r: np.repeat(x, r, 1), E.RepeatOp, grad_args=[0]),
    Case("repeat_vector_none", lambda x, r: E.repeat(x, r), [M[0], np.array([2, 0, 1, 1])],
         lambda x, r: np.repeat(x, r), E.RepeatOp, grad_args=[0]),
    Case("repeat_int8", lambda x: E.repeat(x, 2, 0), [IV.astype("int8")],
         lambda x: np.repeat(x, 2, 0), E.RepeatOp, grad=False),
    Case("compress_axis0", lambda c, x: E.compress(c, x, 0), [np.array([1, 0, 1]), M],
         lambda c, x: np.compress(c, x, 0), grad_args=[1]),
    Case("compress_none", lambda c, x: E.compress(c, x), [np.array([0, 1, 1, 0, 1]), M],
         lambda c, x: np.compress(c, x), grad_args=[1]),
    Case("searchsorted_left", lambda x, v: E.searchsorted(x, v),
         [np.array([0.1, 0.4, 0.6, 0.9]), M], lambda x, v: np.searchsorted(x, v),
         E.SearchsortedOp, grad=False),
    Case("searchsorted_right_sorter", lambda x, v, s: E.searchsorted(x, v, "right", s),
         [np.array([0.9, 0.1, 0.6, 0.4]), M[0], np.array([1, 3, 2, 0])],
         lambda x, v, s: np.searchsorted(x, v, "right", s), E.SearchsortedOp, grad=False),
    Case("unique_all", lambda x: E.unique(x, True, True, True), [np.array([[3, 1], [3, 2]])],
         lambda x: [a.ravel() if k else a for k, a in
                    enumerate(np.unique(x, return_index=True, return_inverse=True,
                                        return_counts=True))], grad=False),
    Case("unique_axis0", lambda x: E.unique(x, axis=0, return_counts=True),
         [np.array([[1, 2], [1, 2], [0, 5]])],
         lambda x: list(np.unique(x, axis=0, return_counts=True)), grad=False),
    Case("bartlett", lambda m: E.bartlett(m), [np.array(7)], lambda m: np.bartlett(7),
         E.Bartlett, grad=False),
    Case("fill_diagonal", lambda x: E.fill_diagonal(x, 5.0), [M],
         lambda x: _filled(x, 5.0), E.FillDiagonal),
    Case("fill_diagonal_val_grad", lambda x, v: E.fill_diagonal(x, v), [M.T, np.array(2.0)],
         lambda x, v: _filled(x, v), E.FillDiagonal),
    Case("fill_diagonal_python_int_on_int8", lambda x: E.fill_diagonal(x, 3),
         [IV[:4].reshape(2, 2).astype("int8")], lambda x: _filled(x, 3), E.FillDiagonal,
         grad=False),
    Case("fill_diagonal_python_float_on_float32", lambda x: E.fill_diagonal(x, 0.5),
         [M.astype("float32")], lambda x: _filled(x, 0.5), E.FillDiagonal, grad=False),
    Case("fill_diagonal_3d", lambda x: E.fill_diagonal(x, 1.0), [np.zeros((3, 3, 3))],
         lambda x: _filled(x, 1.0), E.FillDiagonal, grad=False),
    *[Case(f"fill_diagonal_offset_{o}_{s}", lambda x, v, o=o: E.fill_diagonal_offset(x, v, o),
           [rng.random(s), np.array(3.0)], lambda x, v, o=o: _filled_offset(x, v, o),
           E.FillDiagonalOffset) for o in (-2, 0, 1, 3) for s in ((3, 5), (5, 3))],
    Case("to_one_hot", lambda y: E.to_one_hot(y, 6), [IV], lambda y: np.eye(6)[y].astype(
        opcore.config.floatX), E.ToOneHot, grad=False),
    Case("to_one_hot_int8", lambda y: E.to_one_hot(y, 7, dtype="int8"), [IV],
         lambda y: np.eye(7, dtype="int8")[y], E.ToOneHot, grad=False),
    Case("unravel_index", lambda i: E.unravel_index(i, (3, 4)), [np.array([[1, 11], [7, 4]])],
         lambda i: list(np.unravel_index(i, (3, 4))), E.UnravelIndex, grad=False),
    Case("unravel_index_F", lambda i: E.unravel_index(i, (3, 4), order="F"), [IV],
         lambda i: list(np.unravel_index(i, (3, 4), order="F")), E.UnravelIndex, grad=False),
    Case("ravel_multi_index", lambda a, b: E.ravel_multi_index((a, b), (4, 6)),
         [np.array([1, 3]), np.array([5, 0])],
         lambda a, b: np.ravel_multi_index((a, b), (4, 6)), E.RavelMultiIndex, grad=False),
    Case("ravel_multi_index_wrap", lambda a, b: E.ravel_multi_index((a, b), (4, 6), "wrap"),
         [np.array([5, -1]), np.array([7, 0])],
         lambda a, b: np.ravel_multi_index((a, b), (4, 6), "wrap"), E.RavelMultiIndex,
         grad=False),
    Case("cpu_contiguous", lambda x: E.cpu_contiguous(x.T), [M], lambda x: x.T.copy(),
         E.CpuContiguous),
    Case("squeeze_broadcastable", lambda x: E.squeeze(T.addbroadcast(x, 0)), [M[:1]],
         lambda x: np.squeeze(x, 0)),
    Case("squeeze_axis_runtime_check", lambda x: E.squeeze(x, 1), [M[:, :1]],
         lambda x: np.squeeze(x, 1)),
]


def _filled(x, v):
    x = x.copy()
    if x.ndim == 2:
        x.flat[:x.shape[1] ** 2:x.shape[1] + 1] = v
    else:
        np.fill_diagonal(x, v)
    return x


def _filled_offset(x, v, o):
    x = x.copy()
    n = min(x.shape[0] - max(0, -o), x.shape[1] - max(0, o))
    for i in range(max(n, 0)):
        x[i + max(0, -o), i + max(0, o)] = v
    return x


test_values, test_infer_shape, test_grad = family_tests(CASES)


@pytest.mark.parametrize("axis", [None, 0])
def test_unique_inverse_shape_needs_no_unique(axis):
    # the inverse's length is the input's size: the shape graph must not run Unique (the other
    # outputs' lengths depend on the values)
    x = T.lmatrix("x")
    inv = E.unique(x, return_inverse=True, axis=axis)[1]
    f = opcore.function([x], inv.shape)
    assert not any(isinstance(n.op, E.Unique) for n in f.maker.fgraph.toposort())
    xv = np.array([[1, 2], [1, 2], [0, 3]])
    assert tuple(f(xv)) == np.unique(xv, return_inverse=True, axis=axis)[1].ravel().shape


def test_broadcast_shape():
    x, y = T.dmatrix("x"), T.drow("y")
    z = T.dtensor3("z")
    shp = E.broadcast_shape(x, y, z)
    got = opcore.function([x, y, z], list(shp))(np.ones((3, 4)), np.ones((1, 4)),
                                                 np.ones((2, 3, 4)))
    assert tuple(int(g) for g in got) == np.broadcast_shapes((3, 4), (1, 4), (2, 3, 4))
    assert [int(s.eval()) for s in E.broadcast_shape((2, 1), (1, 5),
                                                       arrays_are_shapes=True)] == [2, 5]


def test_cumprod_grad_matches_theano_formula_on_nonzero():
    # Theano's gradient divides by x: exact away from zeros
    check_grad(Case("cumprod_neg", lambda x: E.cumprod(x, 1), [-M], None))


def test_repeat_grad_of_repeats_is_disconnected():
    x = T.dvector("x")
    r = T.lscalar("r")
    g = opcore.grad(E.repeat(x, r).sum(), x)
    assert opcore.function([x, r], g)(np.ones(3), 4).tolist() == [4.0, 4.0, 4.0]


BAD = [
    ("cumsum_axis", lambda: E.cumsum(T.dmatrix(), 2), ValueError, "axis 2 is out of bounds"),
    ("cumop_mode", lambda: E.CumOp(0, "max"), ValueError, "mode must be"),
    ("diff_scalar", lambda: E.diff(T.dscalar()), ValueError, "0-d"),
    ("diff_negative_n", lambda: E.diff(T.dvector(), -1), ValueError, "non-negative"),
    ("bincount_matrix", lambda: E.bincount(T.lmatrix()), TypeError, "must be a vector"),
    ("bincount_float", lambda: E.bincount(T.dvector()), TypeError, "integer dtype"),
    ("repeat_float_repeats", lambda: E.repeat(T.dvector(), T.dscalar()), TypeError,
     "integer dtype"),
    ("repeat_matrix_repeats", lambda: E.repeat(T.dvector(), T.lmatrix()), ValueError,
     "scalar or a vector"),
    ("repeat_axis", lambda: E.repeat(T.dvector(), 2, axis=1), ValueError, "out of bounds"),
    ("searchsorted_matrix", lambda: E.searchsorted(T.dmatrix(), T.dvector()), TypeError,
     "must be a vector"),
    ("searchsorted_side", lambda: E.searchsorted(T.dvector(), T.dvector(), "middle"),
     ValueError, "side must be"),
    ("bartlett_float", lambda: E.bartlett(T.dscalar()), TypeError, "integer"),
    ("bartlett_vector", lambda: E.bartlett(T.lvector()), TypeError, "scalar"),
    ("fill_diagonal_vector", lambda: E.fill_diagonal(T.dvector(), 1.0), TypeError,
     "at least 2 dimensions"),
    ("fill_diagonal_upcast", lambda: E.fill_diagonal(T.imatrix(), T.dscalar()), TypeError,
     "without upcasting"),
    ("fill_diagonal_inexact_python_value", lambda: E.fill_diagonal(T.bmatrix(), 1.5),
     TypeError, "without upcasting"),
    ("fill_diagonal_offset_float", lambda: E.fill_diagonal_offset(T.dmatrix(), 1.0, 0.5),
     TypeError, "integer scalar"),
    ("to_one_hot_float", lambda: E.to_one_hot(T.dvector(), 3), TypeError, "integer vector"),
    ("unravel_float", lambda: E.unravel_index(T.dvector(), (2, 3)), TypeError, "integers"),
    ("unravel_ndim", lambda: E.unravel_index(T.lvector(), T.lvector()), ValueError, "ndim="),
    ("ravel_not_tuple", lambda: E.ravel_multi_index(T.lvector(), (2, 3)), TypeError,
     "tuple or list"),
    ("compress_matrix_condition", lambda: E.compress(T.lmatrix(), T.dvector()), TypeError,
     "1-d"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


RUNTIME_BAD = [
    ("bincount_negative", lambda y: E.bincount(y), [np.array([1, -2])], ValueError, "negative"),
    ("to_one_hot_range", lambda y: E.to_one_hot(y, 3), [np.array([0, 3])], IndexError,
     "out of range"),
    ("unravel_out_of_bounds", lambda i: E.unravel_index(i, (2, 2)), [np.array([9])],
     ValueError, "bounds"),
    ("squeeze_not_one", lambda x: E.squeeze(x, 0), [np.ones((2, 3))], ValueError,
     "expected length 1"),
]


@pytest.mark.parametrize("build,vals,exc,match", [b[1:] for b in RUNTIME_BAD],
                         ids=[b[0] for b in RUNTIME_BAD])
def test_bad_values(build, vals, exc, match):
    from tests.tensor.family_cases import symbolic

    ins = symbolic(vals)
    f = opcore.function(ins, build(*ins))
    with pytest.raises(exc, match=match):
        f(*vals)


def test_module_and_tensor_namespace():
    for name in ("cumsum", "cumprod", "diff", "bincount", "repeat", "squeeze", "compress",
                 "fill_diagonal", "fill_diagonal_offset", "to_one_hot", "unravel_index",
                 "ravel_multi_index", "searchsorted", "unique", "bartlett", "broadcast_shape",
                 "CpuContiguous"):
        assert hasattr(E, name), name
    import opcore.tensor.extra_ops as mod

    assert mod is E
    assert T.cumsum is E.cumsum and T.repeat is E.repeat
