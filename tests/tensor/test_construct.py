"""Array construction and shape utilities (eye, tri, tril/triu, diag family, tile, roll,
stacklists, mgrid/ogrid, patternbroadcast, specify_shape) and the special functions
(logsumexp, xlogx, xlogy0, chi2sf, choose) against NumPy/SciPy."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor import construct as C
from opcore.tensor import special as SP
from tests.tensor.family_cases import Case, family_tests

rng = np.random.default_rng(5)
M = rng.random((3, 4)) + 0.1
T3 = rng.random((2, 3, 4)) + 0.1
V = rng.random(5) + 0.1
FX = opcore.config.floatX

CASES = [
    Case("eye", lambda n: T.eye(n, 5, 1), [np.array(3)], lambda n: np.eye(3, 5, 1, dtype=FX),
         C.Eye, grad=False),
    Case("eye_int8", lambda n: T.eye(n, dtype="int8"), [np.array(4)],
         lambda n: np.eye(4, dtype="int8"), C.Eye, grad=False),
    Case("identity_like", lambda x: T.identity_like(x), [M], lambda x: np.eye(3, 4), C.Eye,
         grad=False),
    Case("tri", lambda n: T.tri(n, 4, -1), [np.array(3)], lambda n: np.tri(3, 4, -1, dtype=FX),
         C.Tri, grad=False),
    *[Case(f"tril_k{k}", lambda x, k=k: T.tril(x, k), [M], lambda x, k=k: np.tril(x, k),
           C.TriangularPart) for k in (-1, 0, 2)],
    *[Case(f"triu_k{k}", lambda x, k=k: T.triu(x, k), [M], lambda x, k=k: np.triu(x, k),
           C.TriangularPart) for k in (-2, 0, 1)],
    Case("tril_batched", lambda x: T.tril(x), [T3], lambda x: np.tril(x), C.TriangularPart),
    Case("triu_int", lambda x: T.triu(x), [np.arange(12).reshape(3, 4)], lambda x: np.triu(x),
         C.TriangularPart, grad=False),
    Case("tril_symbolic_k", lambda x, k: T.tril(x, k), [M, np.array(1)],
         lambda x, k: np.tril(x, 1), grad_args=[0]),
    Case("diag_vector", lambda v: T.diag(v), [V], lambda v: np.diag(v), C.AllocDiag),
    Case("diag_vector_k", lambda v: T.diag(v, -2), [V], lambda v: np.diag(v, -2), C.AllocDiag),
    Case("diag_matrix", lambda x: T.diag(x, 1), [M], lambda x: np.diag(x, 1), C.ExtractDiag),
    Case("diagonal_3d", lambda x: T.diagonal(x, 0, 1, 2), [T3],
         lambda x: np.diagonal(x, 0, 1, 2), C.ExtractDiag),
    Case("diagonal_3d_axes20", lambda x: T.diagonal(x, -1, 2, 0), [T3],
         lambda x: np.diagonal(x, -1, 2, 0), C.ExtractDiag),
    Case("extract_diag", lambda x: T.extract_diag(x), [M], lambda x: np.diagonal(x).copy(),
         C.ExtractDiag),
    Case("alloc_diag_batched", lambda x: C.AllocDiag(1, 0, 2)(x), [M],
         lambda x: np.stack([np.diag(r, 1) for r in x], axis=1), C.AllocDiag),
    Case("tile_2d", lambda x: T.tile(x, (2, 3)), [M], lambda x: np.tile(x, (2, 3))),
    Case("tile_more_reps", lambda x: T.tile(x, (2, 1, 3)), [M], lambda x: np.tile(x, (2, 1, 3))),
    Case("tile_symbolic", lambda x, r: T.tile(x, [r, 2]), [M, np.array(3)],
         lambda x, r: np.tile(x, (3, 2)), grad_args=[0]),
    Case("roll_none", lambda x: T.roll(x, 5), [M], lambda x: np.roll(x, 5)),
    Case("roll_axis_neg_shift", lambda x: T.roll(x, -1, 1), [M], lambda x: np.roll(x, -1, 1)),
    Case("roll_symbolic", lambda x, s: T.roll(x, s, 0), [T3, np.array(7)],
         lambda x, s: np.roll(x, 7, 0), grad_args=[0]),
    Case("stacklists", lambda a, b: T.stacklists([[a, b], [b, a]]), [V, V * 2],
         lambda a, b: np.array([[a, b], [b, a]])),
    Case("mgrid", lambda n: T.mgrid[0:n, 1:4], [np.array(3)],
         lambda n: list(np.mgrid[0:3, 1:4]), grad=False),
    Case("ogrid", lambda n: T.ogrid[0:n, 0:4:2], [np.array(3)],
         lambda n: list(np.ogrid[0:3, 0:4:2]), grad=False),
    Case("specify_shape_symbolic", lambda x, n: T.specify_shape(x, (n, 4)),
         [M, np.array(3)], lambda x, n: x, C.SpecifyShapeDynamic, grad_args=[0]),
    Case("logsumexp_all", lambda x: T.logsumexp(x), [M * 100],
         lambda x: np.log(np.exp(x - x.max()).sum()) + x.max()),
    Case("logsumexp_axis_keepdims", lambda x: T.logsumexp(x, 1, keepdims=True), [T3],
         lambda x: np.log(np.exp(x).sum(1, keepdims=True))),
    Case("logsumexp_neg_inf", lambda x: T.logsumexp(x, 0),
         [np.array([[-np.inf, 0.0], [-np.inf, 1.0]])],
         lambda x: np.log(np.exp(x).sum(0)), grad=False),
    Case("xlogx", lambda x: T.xlogx(x), [np.array([0.0, 0.5, 2.0])],
         lambda x: np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, x))), grad=False),
    Case("xlogx_grad", lambda x: T.xlogx.xlogx(x), [V], lambda x: x * np.log(x)),
    Case("xlogy0", lambda x, y: T.xlogy0(x, y), [np.array([0.0, 0.5, 2.0]), V[:3]],
         lambda x, y: np.where(x == 0, 0, x * np.log(y)), grad_args=[1]),
    Case("choose_list", lambda a, b, c: T.choose(a, [b, c]), [np.array([0, 1, 1, 0, 1]), V, -V],
         lambda a, b, c: np.choose(a, [b, c]), SP.Choose, grad_args=[1, 2]),
    Case("choose_tensor_broadcast", lambda a, c: T.choose(a, c),
         [np.array([[0, 2, 1]]), rng.random((3, 2, 3))], lambda a, c: np.choose(a, c),
         SP.Choose, grad_args=[1]),
    Case("choose_wrap", lambda a, c: T.choose(a, c, mode="wrap"),
         [np.array([3, -1, 4]), rng.random((3, 3))], lambda a, c: np.choose(a, c, mode="wrap"),
         SP.Choose, grad_args=[1]),
    Case("choose_clip", lambda a, c: T.choose(a, c, mode="clip"),
         [np.array([3, -1, 1]), rng.random((3, 3))], lambda a, c: np.choose(a, c, mode="clip"),
         SP.Choose, grad_args=[1]),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


def test_chi2sf_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    x, k = T.dvector("x"), T.dscalar("k")
    xv = np.array([0.5, 1.0, 3.0, 10.0])
    for kv in (1.0, 3.0, 7.5):
        np.testing.assert_allclose(opcore.function([x, k], T.chi2sf(x, k))(xv, kv),
                                   stats.chi2.sf(xv, kv), rtol=1e-10)
    assert T.chi2sf(T.fvector(), T.fscalar()).dtype == "float32"
    assert T.chi2sf(T.lvector(), 3).dtype == "float64"


def test_patternbroadcast_addbroadcast_unbroadcast():
    x = T.dmatrix("x")
    r = T.patternbroadcast(x, (True, False))
    assert r.broadcastable == (True, False)
    assert T.patternbroadcast(r, (False, False)).broadcastable == (False, False)
    assert T.unbroadcast(T.addbroadcast(x, 1), 1).broadcastable == (False, False)
    f = opcore.function([x], r)
    np.testing.assert_array_equal(f(M[:1]), M[:1])
    with pytest.raises(ValueError, match="length 1"):
        f(M)
    with pytest.raises(ValueError, match="pattern"):
        T.patternbroadcast(x, (True,))


def test_specify_shape_static_and_errors():
    x = T.dmatrix("x")
    y = T.specify_shape(x, (3, None))
    assert y.type.shape == (3, None)
    with pytest.raises(ValueError, match="length 3"):
        opcore.function([x], y)(np.ones((2, 2)))
    n = T.lscalar("n")
    f = opcore.function([x, n], T.specify_shape(x, (n, 4)))
    with pytest.raises(ValueError, match="expected shape"):
        f(M, 2)
    with pytest.raises(ValueError, match="dimensions"):
        T.specify_shape(x, (3,))


def test_horizontal_vertical_stack_and_abs():
    a, b = T.dmatrices("a", "b")
    f = opcore.function([a, b], [T.horizontal_stack(a, b), T.vertical_stack(a, b),
                                 T.abs_(a - b)])
    h, v, d = f(M, -M)
    np.testing.assert_array_equal(h, np.hstack([M, -M]))
    np.testing.assert_array_equal(v, np.vstack([M, -M]))
    np.testing.assert_array_equal(d, 2 * M)


BAD = [
    ("eye_float", lambda: T.eye(2.5), TypeError, "integer scalar"),
    ("tril_vector", lambda: T.tril(T.dvector()), ValueError, "at least 2"),
    ("diag_scalar", lambda: T.diag(T.dscalar()), ValueError, "at least 1"),
    ("diagonal_same_axes", lambda: T.diagonal(T.dmatrix(), 0, 1, 1), ValueError, "differ"),
    ("tile_float_reps", lambda: T.tile(T.dmatrix(), (2.0, 1)), ValueError, "integer"),
    ("tile_small_ndim", lambda: T.tile(T.dmatrix(), (2, 2), ndim=1), ValueError, "smaller"),
    ("roll_axis", lambda: T.roll(T.dvector(), 1, 3), ValueError, "out of bounds"),
    ("mgrid_int", lambda: T.mgrid[3], TypeError, "slices"),
    ("choose_float_index", lambda: T.choose(T.dvector(), T.dmatrix()), TypeError, "integer"),
    ("choose_mode", lambda: T.choose(T.lvector(), T.dmatrix(), mode="x"), ValueError, "mode"),
    ("choose_out", lambda: T.choose(T.lvector(), T.dmatrix(), out=1), ValueError, "out="),
    ("chi2sf_complex", lambda: T.chi2sf(T.zvector(), 2), TypeError, "complex"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_choose_raise_mode_at_run_time():
    a = T.lvector("a")
    f = opcore.function([a], T.choose(a, np.ones((2, 3))))
    with pytest.raises(ValueError):
        f(np.array([0, 2, 1]))
