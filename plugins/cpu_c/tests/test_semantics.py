"""Table-driven semantics: every scalar op x dtypes (and mixed pairs) x special values x layouts,
and every reduction over every axis combination, on the C backend, the Python backend and NumPy.

One function is compiled per (arity, dtype combination), holding every op of that arity as an
output, and all special values (and their pairs) are fed as one array, so the whole table costs a
few dozen compiles.  The reference is NumPy's ufunc on the inputs cast to the output dtype for
ops whose output is a float (``exp`` of int8 is computed in the output float type, not in
float16), else on the raw inputs, then cast to the output dtype.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.scalar.basic import ALL_OPS
from opcore.tensor.elemwise import Elemwise

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float32", "float64"]
DTYPES = ["bool"] + INTS + FLOATS
MIXED = [("int32", "float32"), ("int64", "uint64"), ("uint64", "int64"), ("int64", "float64"),
         ("int8", "uint8"), ("bool", "int8"), ("int16", "uint16"), ("uint32", "int32"),
         ("float32", "float64"), ("int64", "float32"), ("uint64", "float64"), ("bool", "float32"),
         ("uint8", "float32"), ("int16", "float32"), ("uint16", "int8")]
# libm and NumPy's own SIMD transcendental code may differ by an ulp or two
INEXACT = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin",
           "arccos", "arctan", "sinh", "cosh", "tanh", "arctan2", "sigmoid", "softplus",
           "log1mexp", "erf", "pow", "sqrt", "inv", "true_div"}
C = Mode(backend="c")
PY = Mode(backend="py")


def special(dtype: str) -> np.ndarray:
    """0, +-1, small and large values, the dtype's extremes; -0.0, NaN, infinities, a denormal
    and halves for floats."""
    if dtype == "bool":
        return np.array([False, True])
    info = np.iinfo(dtype) if dtype in INTS else np.finfo(dtype)
    vals = [0, 1, 2, 7, 100, info.max, info.max - 1 if dtype in INTS else info.max / 3]
    if dtype in INTS and info.min < 0:
        vals += [-1, -2, -7, info.min, info.min + 1]
    if dtype in FLOATS:
        vals += [-0.0, np.nan, np.inf, -np.inf, info.smallest_subnormal, -info.tiny, 0.5, 1.5,
                 2.5, -2.5, -0.5, 1e-3, -1e3, 2.0 ** 24 + 1, -(2.0 ** 53) - 1]
    if dtype == "int64":
        vals += [2 ** 53 + 1, -(2 ** 53) - 1]
    return np.array(vals, dtype=dtype)


#: ops whose C must also give NumPy's sign of a zero result (``assert_array_equal`` takes
#: -0.0 == 0.0); clip is not among them: NumPy's own clip signs a zero differently for scalar
#: and array bounds
SIGNED_ZEROS = {"int_div", "mod", "neg", "abs", "floor", "ceil", "trunc", "round_half_to_even",
                "sgn"}


def ops_of(nin: int) -> list:
    return [op for op in ALL_OPS.values() if op.nin == nin and op.name != "second"]


def numpy_rejects(op, dtypes) -> bool:
    if not isinstance(op.numpy, np.ufunc):
        return False
    try:
        with np.errstate(all="ignore"):
            op.numpy(*[np.zeros(1, d) for d in dtypes])
    except TypeError:
        return True
    return False


def reference(op, args: list, out_dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if op.out == "float":
            args = [np.asarray(a).astype(out_dtype) for a in args]
        try:
            r = op.numpy(*args)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            return exc
        return np.asarray(r).astype(out_dtype)


def check_equal(got, want, op, what: str) -> None:
    if isinstance(want, Exception):
        return  # the caller checks that the backends raised
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f" and (op.name in INEXACT or op.out == "float"):
        rtol = 3e-6 if got.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)
    if got.dtype.kind == "f" and op.name in SIGNED_ZEROS:
        zero = want == 0
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]),
                                      err_msg=f"{what}: sign of zero")


def layouts(a: np.ndarray):
    """(name, view of ``a``'s values): contiguous, strided, negative stride, read-only,
    misaligned, stride 0 (broadcast), empty and size 1."""
    yield "contiguous", a
    s = np.empty(2 * a.size, a.dtype)
    s[::2] = a
    yield "strided", s[::2]
    yield "negative stride", a[::-1].copy()[::-1]
    ro = a.copy()
    ro.flags.writeable = False
    yield "read-only", ro
    raw = np.zeros(a.nbytes + 1, np.uint8)
    raw[1:] = a.view(np.uint8)
    mis = np.frombuffer(raw.data, dtype=a.dtype, count=a.size, offset=1)
    assert a.itemsize == 1 or not mis.flags.aligned
    yield "misaligned", mis
    yield "stride 0", np.broadcast_to(a[:1], a.shape)
    yield "empty", a[:0]
    yield "size 1", a[:1]


def build(ops, dtypes):
    """Inputs and the list of (op, output variable) of every op accepting ``dtypes``; asserts
    that each op NumPy rejects is rejected at graph build with a TypeError."""
    ins = [T.TensorType(d, (False,))(f"x{k}") for k, d in enumerate(dtypes)]
    outs = []
    for op in ops:
        if numpy_rejects(op, dtypes):
            with pytest.raises(TypeError):
                Elemwise(op)(*ins)
            continue
        outs.append((op, Elemwise(op)(*ins)))
    return ins, outs


def run_table(dtypes) -> None:
    ops = ops_of(len(dtypes))
    ins, outs = build(ops, dtypes)
    if not outs:
        return
    fns = [opcore.function(ins, [o for _, o in outs], mode=m, on_unused_input="ignore")
           for m in (C, PY)]
    grids = np.meshgrid(*[special(d) for d in dtypes], indexing="ij")
    base = [g.ravel() for g in grids]
    # ops that raise on some values (integer negative powers) are checked on their own below
    raising = [k for k, (op, o) in enumerate(outs)
               if isinstance(reference(op, base, o.dtype), Exception)]
    for name, _ in layouts(base[0]):
        args = [dict(layouts(b))[name] for b in base]
        results = []
        for f in fns:
            try:
                with np.errstate(all="ignore"):
                    results.append(f(*args))
            except ValueError as exc:
                results.append(exc)
        for backend, res in zip(("C", "Python"), results):
            if isinstance(res, Exception):
                # only a value error NumPy raises too (integer ** negative) may stop the call
                assert raising, f"{dtypes} {name}: {backend} raised {res}"
                continue
            for k, (op, o) in enumerate(outs):
                if k in raising:
                    continue
                want = reference(op, args, o.dtype)
                check_equal(res[k], want, op, f"{backend} {op.name}{tuple(dtypes)} {name}")
    for k in raising:
        op, o = outs[k]
        for m in (C, PY):
            f = opcore.function(ins, o, mode=m, on_unused_input="ignore")
            with pytest.raises(ValueError, match="negative integer powers"):
                f(*base)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ops_every_dtype(dtype):
    run_table([dtype])


@pytest.mark.parametrize("dtypes", [(d, d) for d in DTYPES] + MIXED, ids=str)
def test_binary_ops_every_dtype_and_mixed_pairs(dtypes):
    run_table(list(dtypes))


@pytest.mark.parametrize("dtypes", [("float64",) * 3, ("int32",) * 3, ("bool", "int64", "float32"),
                                    ("float32", "float64", "int8")], ids=str)
def test_ternary_ops(dtypes):
    run_table(list(dtypes))


@pytest.mark.parametrize("dtype", ["float64", "int32", "uint8"])
def test_binary_ops_broadcast_row(dtype):
    """A (rows, n) matrix with a broadcast (1, n) row, both ways round."""
    ops = ops_of(2)
    x = T.TensorType(dtype, (False, False))("x")
    r = T.TensorType(dtype, (True, False))("r")
    outs = [(op, Elemwise(op)(x, r)) for op in ops if not numpy_rejects(op, (dtype, dtype))]
    outs += [(op, Elemwise(op)(r, x)) for op in ops if not numpy_rejects(op, (dtype, dtype))]
    vals = special(dtype)
    a = np.tile(vals, (3, 1))[:, ::-1]
    b = vals[None, :]
    fc = opcore.function([x, r], [o for _, o in outs], mode=C)
    fp = opcore.function([x, r], [o for _, o in outs], mode=PY)
    half = len(outs) // 2
    with np.errstate(all="ignore"):
        for f, backend in ((fc, "C"), (fp, "Python")):
            try:
                res = f(a, b)
            except ValueError:
                assert any(isinstance(reference(op, [a, b], o.dtype), Exception) for op, o in outs)
                continue
            for k, (op, o) in enumerate(outs):
                args = [a, b] if k < half else [b, a]
                check_equal(res[k], reference(op, args, o.dtype), op, f"{backend} {op.name}")


# -- reductions ----------------------------------------------------------------------------------
KINDS = ["sum", "prod", "max", "min", "all", "any"]


def _sum_dtype(dtype):
    if dtype in ("bool", "int8", "int16", "int32"):
        return "int64"
    if dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return dtype


def reduce_reference(kind, a, axis):
    with np.errstate(all="ignore"):
        if kind in ("sum", "prod"):
            out = _sum_dtype(a.dtype.name)
            acc = "float64" if out == "float32" else out
            return np.asarray(getattr(np, kind)(a, axis=axis, dtype=acc)).astype(out)
        if kind in ("all", "any"):
            return np.asarray(getattr(np, kind)(a, axis=axis))
        return np.asarray(getattr(np, kind)(a, axis=axis))


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_every_axis_combination(dtype):
    x = T.TensorType(dtype, (False, False, False))("x")
    axes = [None] + [c for r in (1, 2) for c in itertools.combinations(range(3), r)]
    outs = [(kind, ax, getattr(T, kind)(x, axis=ax)) for kind in KINDS for ax in axes]
    argouts = [(ax, T.argmax(x, axis=ax)) for ax in (None, 0, 1, 2)] if dtype != "bool" else []
    vars_ = [o for _, _, o in outs] + [o for _, o in argouts]
    fc = opcore.function([x], vars_, mode=C)
    fp = opcore.function([x], vars_, mode=PY)
    vals = special(dtype)
    rng = np.random.RandomState(0)
    a = vals[rng.randint(0, len(vals), size=(3, 4, 5))]
    if dtype in INTS + FLOATS and dtype != "uint64":  # small values: products stay finite/exact
        a = np.where(np.abs(a.astype("float64")) > 100, 1, a).astype(dtype)
    nan_free = a.copy()
    for data in (a, a.transpose(2, 0, 1).copy().transpose(1, 2, 0), a[::-1, :, ::-1],
                 nan_free[:, :1, :]):
        for f, backend in ((fc, "C"), (fp, "Python")):
            res = f(data)
            for k, (kind, ax, o) in enumerate(outs):
                want = reduce_reference(kind, data, ax)
                got = res[k]
                what = f"{backend} {kind}(axis={ax}) {dtype}"
                assert got.dtype == want.dtype, what
                # exact, float sums and products too: NumPy's order (test_reduce_order.py)
                np.testing.assert_array_equal(got, want, err_msg=what)
            for j, (ax, o) in enumerate(argouts):
                np.testing.assert_array_equal(res[len(outs) + j], np.argmax(data, axis=ax),
                                              err_msg=f"{backend} argmax(axis={ax}) {dtype}")


def test_float32_sum_accumulates_in_float64():
    """3.9M float32 values (an image batch): the sum and mean keep float64 accuracy."""
    x = T.fvector("x")
    a = np.random.RandomState(0).rand(3_900_000).astype("float32")
    exact = a.astype("float64").sum()
    for m in (C, PY):
        f = opcore.function([x], [T.sum(x), T.mean(x), T.prod(x[:50] * 0 + 1.0001)], mode=m)
        s, mu, p = f(a)
        assert s.dtype == np.float32 and mu.dtype == np.float32
        assert abs(float(s) - exact) / exact < 1e-7
        assert abs(float(mu) - exact / a.size) / (exact / a.size) < 1e-7
        np.testing.assert_allclose(p, np.float32(np.prod(np.full(50, 1.0001, "float32"),
                                                         dtype="float64")), rtol=1e-7)


def test_float16_sum_and_mean_accumulate_beyond_float16():
    """100,000 float16 values: the sum is exact to float16 rounding and the mean is not 0 (the
    element count overflows float16; Theano divides in float32)."""
    x = T.vector("x", dtype="float16")
    a = (np.full(100_000, 1.0) * np.float16(0.1)).astype("float16")
    for m in (C, PY):
        s, mu = opcore.function([x], [T.sum(x), T.mean(x)], mode=m)(a)
        assert s.dtype == np.float16 and mu.dtype == np.float16
        assert s == np.float16(a.astype("float64").sum())
        assert mu == np.float16(a.astype("float64").mean())


def test_bool_results_are_0_or_1_inside_fused_loops():
    """C's isinf(-inf) may be -1: a bool step feeding arithmetic must still be 0 or 1 (found by
    scripts/fuzz_c.py: exp(isinf(x)) gave e**255)."""
    x = T.dvector("x")
    outs = [T.exp(T.isinf(x)), T.isinf(x) * 3, T.isnan(x) * 5 + T.isinf(x)]
    a = np.array([-np.inf, np.inf, np.nan, 1.0, -0.0])
    want = [np.exp(np.isinf(a).astype("float64")), np.isinf(a) * np.int8(3),
            np.isnan(a) * np.int8(5) + np.isinf(a)]
    for m in (C, PY):
        for got, w in zip(opcore.function([x], outs, mode=m)(a), want):
            np.testing.assert_array_equal(got.view("uint8") if got.dtype == bool else got, w)


def test_reductions_of_empty_axes_and_other_ranks():
    """Sum/prod/all/any of zero-length axes give the identity, of a length-0 kept axis an empty
    result, on ranks 1 and 4, strided and reversed views included (NumPy's values)."""
    v = T.dvector("v")
    x = T.dtensor4("x")
    axes4 = [None, 0, 1, 3, (0, 2), (1, 3), (0, 1, 2)]
    outs4 = [(k, ax, getattr(T, k)(x, axis=ax)) for k in ("sum", "prod", "all", "any")
             for ax in axes4]
    outs1 = [(k, None, getattr(T, k)(v)) for k in ("sum", "prod", "all", "any")]
    f4 = opcore.function([x], [o for _, _, o in outs4], mode=C)
    f1 = opcore.function([v], [o for _, _, o in outs1], mode=C)
    rng = np.random.RandomState(1)
    full = rng.uniform(-1.5, 1.5, size=(3, 4, 5, 6))
    for data in (np.zeros((2, 0, 3, 4)), np.zeros((0, 3, 2, 2)), full[:, ::2, ::-1, 1:5],
                 full.transpose(3, 1, 0, 2), full[:, :1]):
        for (kind, ax, _), got in zip(outs4, f4(data)):
            want = reduce_reference(kind, data, ax)
            assert got.shape == want.shape, (kind, ax, data.shape)
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{kind} {ax}")
    for data in (np.zeros(0), full[1, 2, ::-2, 3]):
        for (kind, ax, _), got in zip(outs1, f1(data)):
            np.testing.assert_allclose(got, reduce_reference(kind, data, ax), rtol=1e-12)


# -- ops that used to run in NumPy inside C loops: float // and %, integer ** ---------------------
def _c_nodes_only(f) -> bool:
    """One fused elementwise loop, and every node (dimshuffles of scalars too) in C."""
    nodes = f.maker.fgraph.toposort()
    loops = [n for n in nodes if isinstance(n.op, Elemwise)]
    return len(loops) == 1 and len(f.linker.c_nodes) == len(nodes)


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_floor_divide_and_remainder_are_c_with_numpys_rules(dtype):
    """``x // y * 2 + x % y`` is one fused C loop giving np.floor_divide / np.remainder exactly
    (signed zeros, zero divisors, infinities, NaN, values far apart in magnitude)."""
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    f = opcore.function([x, y], [x // y, x % y, (x // y) * 2 + x % y], mode=C)
    assert _c_nodes_only(f), f.maker.fgraph.toposort()
    rng = np.random.RandomState(3)
    vals = np.concatenate([special(dtype), rng.randn(40) * 10, rng.randint(-9, 9, 20),
                           rng.randn(10) * 1e30, rng.randn(10) * 1e-30]).astype(dtype)
    a, b = (g.ravel() for g in np.meshgrid(vals, vals))
    d, m, c = f(a, b)
    with np.errstate(all="ignore"):
        want = [np.floor_divide(a, b), np.remainder(a, b)]
        want.append(want[0] * dtype_of(dtype)(2) + want[1])
    for got, w, what in zip((d, m, c), want, ("//", "%", "chain")):
        assert got.dtype == w.dtype
        np.testing.assert_array_equal(got, w, err_msg=what)
        np.testing.assert_array_equal(np.signbit(got[w == 0]), np.signbit(w[w == 0]),
                                      err_msg=f"{what}: sign of zero")


def dtype_of(name: str):
    return np.dtype(name).type


@pytest.mark.parametrize("dtype", INTS)
def test_integer_power_with_array_exponent_is_c_and_raises_numpys_error(dtype):
    """``x ** y + 1`` over an integer array exponent is one fused C loop: NumPy's wrapping
    integer power for every base (extremes included) and exponent up to 130; a negative exponent
    raises NumPy's ValueError from the C loop, also from threaded loops."""
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    f = opcore.function([x, y], x ** y + 1, mode=C)
    assert _c_nodes_only(f), f.maker.fgraph.toposort()
    info = np.iinfo(dtype)
    rng = np.random.RandomState(4)
    base = np.concatenate([special(dtype), rng.randint(info.min, info.max, 30, dtype=dtype)])
    exps = np.arange(0, min(131, int(info.max)), dtype=dtype)
    a, b = (g.ravel() for g in np.meshgrid(base, exps))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(f(a, b), a ** b + dtype_of(dtype)(1))
    if info.min < 0:
        neg = b.copy()
        neg[len(neg) // 2] = -1
        with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
            f(a, neg)
        from opcore.config import change_flags

        with change_flags(cpu_c__threads=2, openmp_elemwise_minsize=16):
            g = opcore.function([x, y], x ** y + 1, mode=C)
        np.testing.assert_array_equal(g(a, b), a ** b + dtype_of(dtype)(1))
        with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
            g(a, neg)


def test_clip_with_run_time_scalar_bounds_propagates_nan_and_lets_hi_win():
    """clip(x, lo, hi) with 0-d bounds given at run time (the loop hoists the bounds' tests):
    NumPy's minimum(maximum(x, lo), hi) for every pair of special bounds."""
    for dtype in FLOATS + ["int32", "uint8"]:
        x = T.vector("x", dtype=dtype)
        lo, hi = T.scalar("lo", dtype=dtype), T.scalar("hi", dtype=dtype)
        f = opcore.function([x, lo, hi], T.clip(x, lo, hi), mode=C)
        assert _c_nodes_only(f)
        vals = special(dtype)
        for lv in vals:
            for hv in vals:
                got = f(vals, lv, hv)
                want = np.minimum(np.maximum(vals, lv), hv)
                np.testing.assert_array_equal(got, want, err_msg=f"clip {dtype} {lv} {hv}")


def test_integer_power_next_to_numpy_loop_steps_still_raises():
    """A fused loop with an exp step (computed through NumPy's loop in blocks) and an integer
    power of an array exponent: the values, and NumPy's ValueError for a negative exponent."""
    x, i, j = T.dvector("x"), T.lvector("i"), T.lvector("j")
    f = opcore.function([x, i, j], T.exp(x) + i ** j, mode=C)
    assert _c_nodes_only(f), f.maker.fgraph.toposort()
    a = np.linspace(-3, 3, 50)
    b = np.arange(50) - 25
    e = np.arange(50) % 7
    np.testing.assert_allclose(f(a, b, e), np.exp(a) + b ** e, rtol=1e-15)
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        f(a, b, e - 3)
