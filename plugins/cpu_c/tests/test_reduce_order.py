"""Floating-point sums, means and products give NumPy's bits on the C backend.

NumPy sums pairwise over runs its iterator chooses (``opcore_cpu_c.reduce_order``); these tests
compare the raw bytes of the C backend's results with the Python backend's (which calls
``np.sum``/``np.prod`` with the accumulator dtype) and with NumPy called directly, over the sizes
around the pairwise block (8, 128) and buffer (8192) boundaries, every dtype, and contiguous,
Fortran, strided, negative-stride, broadcast, misaligned and transposed layouts.  The data have
wide exponents (floats) or lie near the int64 limits (means of integers), so any other order of
the additions gives other bits.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode

C = Mode(backend="c")
PY = Mode(backend="py")
SIZES = [0, 1, 7, 8, 9, 127, 128, 129, 255, 8191, 8192, 8193, 20000]
DTYPES = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "bool"]


def data(shape, dtype, rng):
    """Values whose sum depends on the order of the additions."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        # near the limits: their float64 sum rounds at every step
        a = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        a[: n // 3] = info.max - rng.integers(0, 3, n // 3).astype(dtype)
        return rng.permutation(a).reshape(shape)
    a = rng.standard_normal(n) * 2.0 ** rng.integers(-20, 20, n)
    return a.astype(dtype).reshape(shape)


def misaligned(a):
    """``a``'s values at an address one byte off its dtype's alignment."""
    b = np.zeros(a.nbytes + 1, np.uint8)
    b[1:] = a.view(np.uint8).ravel() if a.size else b[1:]
    return np.frombuffer(b.data, a.dtype, a.size, 1).reshape(a.shape)


def layouts(shape, dtype, rng):
    """(name, array) for every layout of one shape."""
    a = data(shape, dtype, rng)
    yield "C", a
    yield "misaligned", misaligned(a)
    if len(shape) == 1:
        yield "strided", data((2 * shape[0],), dtype, rng)[::2]
        yield "negative", a[::-1]
        if shape[0]:
            yield "broadcast", np.broadcast_to(a[:1], shape)
        return
    yield "Fortran", np.asfortranarray(a)
    yield "strided", data((shape[0], 3 * shape[1]), dtype, rng)[:, 1::3]
    yield "negative", a[::-1, ::-1]
    yield "negative inner", a[:, ::-1]
    yield "transposed", np.ascontiguousarray(data(shape[::-1], dtype, rng)).T
    yield "broadcast", np.broadcast_to(a[:1], shape)


def sum_acc(dtype):
    """(output dtype, accumulator dtype) of ``T.sum`` of ``dtype`` data (Theano's rule)."""
    out = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
           "uint8": "uint64", "uint16": "uint64", "uint32": "uint64"}.get(dtype, dtype)
    return out, ("float64" if out == "float32" else out)


def numpy_results(kind, a, axis, keepdims=False):
    """NumPy's sum / mean / prod of ``a``: the mean is Theano's, the sum accumulated in float64,
    rounded to the output dtype (float64 for integers), divided by the count in that dtype."""
    with np.errstate(all="ignore"):
        if kind == "mean":
            out = np.dtype(a.dtype.name if a.dtype.kind == "f" else "float64").type
            s = out(np.add.reduce(a, axis=axis, dtype="float64", keepdims=keepdims))
            n = a.size if axis is None else int(np.prod([a.shape[d] for d in np.atleast_1d(axis)]))
            return np.asarray(np.true_divide(s, out(n)))
        out, acc = sum_acc(a.dtype.name)
        uf = np.add if kind == "sum" else np.multiply
        return np.asarray(uf.reduce(a, axis=axis, dtype=acc, keepdims=keepdims)).astype(out)


def assert_bits(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, what
    # NaNs compare as NaNs, every other value (and the sign of a zero) by its bytes
    if got.dtype.kind == "f":
        nan = np.isnan(got)
        np.testing.assert_array_equal(nan, np.isnan(want), err_msg=what)
        got, want = np.where(nan, 0, got), np.where(nan, 0, want)
    assert got.tobytes() == want.tobytes(), f"{what}: {got!r} != {want!r}"


def check(fns, outs, arrays):
    for name, a in arrays:
        res = {b: f(a) for b, f in fns.items()}
        # a misaligned array is summed as its aligned copy (NumPy's own sum of one would
        # depend on the data's address: it buffers misaligned operands in runs of 8192)
        ref = a if a.flags.aligned else np.array(a, order="K")
        for k, (kind, axis, keepdims) in enumerate(outs):
            want = numpy_results(kind, ref, axis, keepdims)
            for b, r in res.items():
                assert_bits(r[k], want, f"{b} {kind}(axis={axis}, keepdims={keepdims}) of "
                            f"{a.dtype} {a.shape} {name}")


def compile_both(inputs, outputs):
    return {b: opcore.function(inputs, outputs, mode=m) for b, m in (("C", C), ("Python", PY))}


def check_every_layout(fns, shape, dtypes, outs, rng):
    """Call ``fns`` (one input per dtype, outputs ``outs`` per input) on every layout of
    ``shape`` and compare each result's bits with NumPy's."""
    per_dtype = [list(layouts(shape, dt, rng)) for dt in dtypes]
    for k in range(len(per_dtype[0])):
        arrays = [lay[k][1] for lay in per_dtype]
        res = {b: f(*arrays) for b, f in fns.items()}
        for j, a in enumerate(arrays):
            ref = a if a.flags.aligned else np.array(a, order="K")
            for m, (kind, axis, keepdims) in enumerate(outs):
                want = numpy_results(kind, ref, axis, keepdims)
                for b, r in res.items():
                    assert_bits(r[len(outs) * j + m], want,
                                f"{b} {kind}(axis={axis}, keepdims={keepdims}) of {a.dtype} "
                                f"{shape} {per_dtype[j][k][0]}")


def test_vector_sum_and_mean_bits():
    """Every dtype, every size around the pairwise and buffer boundaries, every 1-d layout (one
    function holds every dtype: two compiles)."""
    rng = np.random.default_rng(1)
    xs = [T.TensorType(dt, (False,))(f"x_{dt}") for dt in DTYPES]
    fns = compile_both(xs, [o for x in xs for o in (T.sum(x), T.mean(x))])
    outs = [("sum", None, False), ("mean", None, False)]
    for n in SIZES:
        check_every_layout(fns, (n,), DTYPES, outs, rng)


def test_matrix_sum_and_mean_bits_every_axis():
    """Rows and columns around the boundaries, every axis argument, keepdims, every layout."""
    rng = np.random.default_rng(7)
    dtypes = ["float32", "float64", "int64", "uint8"]
    axes = [None, 0, 1, -1, (0, 1)]
    outs = [(k, ax, kd) for k in ("sum", "mean") for ax in axes for kd in (False, True)]
    xs = [T.TensorType(dt, (False, False))(f"x_{dt}") for dt in dtypes]
    fns = compile_both(xs, [getattr(T, k)(x, axis=ax, keepdims=kd) for x in xs
                            for k, ax, kd in outs])
    for shape in [(4, 3), (3, 129), (129, 3), (2, 8193), (8193, 2), (1, 20000), (3, 0)]:
        check_every_layout(fns, shape, dtypes, outs, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_sum_bits_over_axis_tuples_of_3d(dtype):
    """Every axis combination of a 3-d array: the reduced axes coalesce into one pairwise run
    only when they are adjacent in memory."""
    rng = np.random.default_rng(11)
    x = T.TensorType(dtype, (False, False, False))("x")
    axes = [None] + [c for r in (1, 2, 3) for c in itertools.combinations(range(3), r)]
    outs = [("sum", ax, False) for ax in axes] + [("mean", ax, False) for ax in axes]
    fns = compile_both([x], [T.sum(x, axis=ax) for ax in axes] + [T.mean(x, axis=ax)
                                                                   for ax in axes])
    for shape in [(3, 5, 40), (2, 30, 150), (40, 3, 70)]:
        a = data(shape, dtype, rng)
        arrays = [("C", a), ("Fortran", np.asfortranarray(a)), ("transposed 021",
                  np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)),
                  ("strided", a[:, ::2, 1::3]), ("negative", a[::-1]),
                  ("size-1 axis", a[:, :1, :])]
        check(fns, outs, arrays)


def test_float_products_multiply_in_numpy_order():
    """Products multiply in memory order (NumPy's multiply.reduce is not pairwise)."""
    rng = np.random.default_rng(5)
    outs = [("prod", ax, False) for ax in (None, 0, 1)]
    for dtype in ("float32", "float64"):
        x = T.TensorType(dtype, (False, False))("x")
        fns = compile_both([x], [T.prod(x, axis=ax) for _, ax, _ in outs])
        a = (1 + rng.standard_normal((30, 47)) * 0.3).astype(dtype)
        check(fns, outs, [("C", a), ("Fortran", np.asfortranarray(a)), ("negative", a[::-1]),
                          ("strided", a[:, ::2])])


def test_explicit_float32_accumulator():
    """``acc_dtype='float32'``: pairwise in float32, as ``np.sum(x, dtype=float32)``."""
    rng = np.random.default_rng(6)
    x = T.fmatrix("x")
    outs = [T.sum(x, axis=ax, acc_dtype="float32") for ax in (None, 0, 1)]
    fns = compile_both([x], outs)
    for a in (data((3, 9000), "float32", rng), data((300, 40), "float32", rng)):
        for b, f in fns.items():
            for r, ax in zip(f(a), (None, 0, 1)):
                assert_bits(r, np.add.reduce(a, axis=ax, dtype="float32"), f"{b} axis={ax}")


def test_var_and_std_match_numpy_bits():
    """``var``/``std`` (a mean, then a sum of squares, each divided by the count) give
    ``np.var``/``np.std``'s float64 bits, and the C backend the Python backend's for float32
    (whose mean accumulates in float64, unlike ``np.var``)."""
    rng = np.random.default_rng(9)
    for dtype in ("float64", "float32"):
        x = T.TensorType(dtype, (False, False))("x")
        exprs = [T.var(x), T.var(x, axis=0), T.var(x, axis=1), T.std(x), T.std(x, axis=1)]
        fc = opcore.function([x], exprs, mode=C)
        fp = opcore.function([x], exprs, mode=PY)
        # row-major data: the C backend's elementwise results are C-contiguous where NumPy's
        # keep a Fortran input's order, and a sum's runs follow the layout (docs/cpu_c.md)
        for a in (data((20, 300), dtype, rng), data((129, 18), dtype, rng)[:, ::2]):
            a = a / np.abs(a).max()
            rc, rp = fc(a), fp(a)
            for k in range(len(exprs)):
                assert_bits(rc[k], rp[k], f"{dtype} output {k}")
            if dtype == "float64":
                want = [np.var(a), np.var(a, axis=0), np.var(a, axis=1), np.std(a),
                        np.std(a, axis=1)]
                for k, w in enumerate(want):
                    assert_bits(rc[k], w, f"numpy output {k}")
