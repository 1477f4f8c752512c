"""The C implementations of cumsum/cumprod, repeat, sort/argsort, tril/triu and to_one_hot:
compiled (not a Python fallback), NumPy's values for every dtype, strided and empty inputs,
output buffers reused across calls of different shapes, and NumPy's errors."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode

C = Mode(backend="c")
DTYPES = ["int8", "uint8", "int32", "int64", "float32", "float64"]


def _compile(ins, out):
    f = opcore.function(ins, out, mode=C)
    nodes = f.maker.fgraph.toposort()
    hot = [n for n in nodes if type(n.op).__name__ in
           ("CumOp", "RepeatOp", "SortOp", "ArgSortOp", "TriangularPart", "ToOneHot")]
    assert hot, "the graph lost the op under test"
    for n in hot:
        assert f.placement(n) == ("c", "compiled"), (n.op, f.placement(n))
    return f


def _values(dtype, shape, rng):
    if dtype.startswith("float"):
        return (rng.standard_normal(shape) * 3).astype(dtype)
    lo = 0 if dtype.startswith("u") else -5
    return rng.integers(lo, 6, size=shape).astype(dtype)


CASES = [
    ("cumsum_axis1", lambda x: T.cumsum(x, 1), lambda v: np.cumsum(v, 1, dtype=v.dtype)),
    ("cumsum_none", lambda x: T.cumsum(x), lambda v: np.cumsum(v, dtype=v.dtype)),
    ("cumprod_axis0", lambda x: T.cumprod(x, 0), lambda v: np.cumprod(v, 0, dtype=v.dtype)),
    ("cumprod_neg_axis", lambda x: T.cumprod(x, -1), lambda v: np.cumprod(v, -1, dtype=v.dtype)),
    ("repeat_2_axis0", lambda x: T.repeat(x, 2, 0), lambda v: np.repeat(v, 2, 0)),
    ("repeat_3_none", lambda x: T.repeat(x, 3), lambda v: np.repeat(v, 3)),
    ("sort_last", lambda x: T.sort(x), np.sort),
    ("sort_axis0_mergesort", lambda x: T.sort(x, 0, "mergesort"), lambda v: np.sort(v, 0)),
    ("argsort_stable", lambda x: T.argsort(x, kind="stable"),
     lambda v: np.argsort(v, kind="stable")),
    ("argsort_axis0_stable", lambda x: T.argsort(x, 0, kind="mergesort"),
     lambda v: np.argsort(v, 0, kind="mergesort")),
    ("tril_k1", lambda x: T.tril(x, 1), lambda v: np.tril(v, 1)),
    ("tril_k_neg", lambda x: T.tril(x, -2), lambda v: np.tril(v, -2)),
    ("triu_k0", lambda x: T.triu(x), np.triu),
    ("triu_k_big", lambda x: T.triu(x, 9), lambda v: np.triu(v, 9)),
    ("triu_k_very_neg", lambda x: T.triu(x, -9), lambda v: np.triu(v, -9)),
    ("tril_k_big", lambda x: T.tril(x, 9), lambda v: np.tril(v, 9)),
    ("tril_k_very_neg", lambda x: T.tril(x, -9), lambda v: np.tril(v, -9)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build,ref", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matches_numpy(build, ref, dtype):
    rng = np.random.default_rng(0)
    x = T.TensorType(dtype, shape=(None, None, None))("x")
    f = _compile([x], build(x))
    # a strided view, then a different shape (the output buffer of the first call is reused),
    # then an empty array
    big = _values(dtype, (4, 5, 8), rng)
    for v in (big[:, ::2, 1::2], _values(dtype, (2, 3, 7), rng), np.zeros((0, 3, 2), dtype)):
        got = f(v)
        want = ref(v)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["int8", "int64", "float32", "bool"])
def test_to_one_hot(dtype):
    y = T.lvector("y")
    f = _compile([y], T.to_one_hot(y, 6, dtype=dtype))
    for yv in (np.array([5, 0, 3, 3]), np.array([1]), np.array([], dtype="int64")):
        np.testing.assert_array_equal(f(yv), np.eye(6, dtype=dtype)[yv])
    with pytest.raises(IndexError, match="class 6 is out of range for nb_class=6"):
        f(np.array([0, 6]))
    with pytest.raises(IndexError, match="class -1"):
        f(np.array([-1]))


def test_to_one_hot_symbolic_classes_and_int32_labels():
    y, n = T.ivector("y"), T.lscalar("n")
    f = _compile([y, n], T.to_one_hot(y, n))
    np.testing.assert_array_equal(f(np.array([2, 0], "int32"), 4),
                                  np.eye(4, dtype=opcore.config.floatX)[[2, 0]])


def test_repeat_vector_and_errors_are_numpys():
    x, r = T.dmatrix("x"), T.lvector("r")
    f = _compile([x, r], T.repeat(x, r, 1))
    xv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(f(xv, np.array([0, 3, 1, 2])), np.repeat(xv, [0, 3, 1, 2], 1))
    with pytest.raises(ValueError, match="negative"):
        f(xv, np.array([1, -1, 0, 0]))
    with pytest.raises(ValueError, match="broadcast"):
        f(xv, np.array([1, 2]))


def test_sort_nan_goes_last_as_numpy():
    x = T.dvector("x")
    f = _compile([x], [T.sort(x), T.argsort(x, kind="stable")])
    v = np.array([3.0, np.nan, -1.0, np.inf, np.nan, 0.0])
    s, a = f(v)
    np.testing.assert_array_equal(s, np.sort(v))
    np.testing.assert_array_equal(a, np.argsort(v, kind="stable"))


def test_cumsum_1d_and_grad_graph_compile_in_c():
    x = T.dvector("x")
    cost = (T.cumsum(x) ** 2).sum()
    f = _compile([x], opcore.grad(cost, x))
    xv = np.array([1.0, -2.0, 0.5])
    cs = np.cumsum(xv)
    np.testing.assert_allclose(f(xv), np.cumsum((2 * cs)[::-1])[::-1])
