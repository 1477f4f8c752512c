"""Fused loops with exp/log/sin/tanh/... steps call NumPy's own ufunc inner loops: the C backend's
values are NumPy's, bit for bit, for every such op, float dtype and input layout.

The reference is NumPy on contiguous data (``np.tanh(np.ascontiguousarray(x))``): NumPy's own
negative-stride loops are scalar fallbacks that can differ from its SIMD loops by an ulp, while
opcore copies a non-contiguous block before calling the loop.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import In
from opcore.compile import Mode
from opcore.config import change_flags
from opcore.scalar.basic import ALL_OPS
from opcore.tensor.elemwise import Elemwise

from opcore_cpu_c import ufuncloops

C = Mode(backend="c")
UNARY = sorted(n for n in ufuncloops.UFUNC_OPS if ALL_OPS[n].nin == 1)
B = ufuncloops.BLOCK
SIZES = (0, 1, B - 1, B, B + 1, 3 * B + 7)


def values(dtype: str, n: int) -> np.ndarray:
    """``n`` values covering each op's domain edges: NaN, +-inf, +-0, subnormals, +-1 and
    random values of several magnitudes."""
    info = np.finfo(dtype)
    special = [np.nan, np.inf, -np.inf, 0.0, -0.0, info.smallest_subnormal, -info.tiny, 1.0,
               -1.0, 0.5, -0.5, 1.5, 30.0, -30.0, 100.0, 1e4, -1e4, info.max, -info.max]
    rng = np.random.default_rng(n)
    r = rng.standard_normal(max(n, 1)) * np.where(rng.random(max(n, 1)) < 0.5, 1.0, 20.0)
    r[: len(special)] = special[: len(r)]
    return r[:n].astype(dtype)


def ref(name: str, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(np, ALL_OPS[name].numpy.__name__)(*[np.ascontiguousarray(a)
                                                            for a in args])


def call(f, *args):
    with np.errstate(all="ignore"):
        return f(*args)


def views(a: np.ndarray):
    """(name, array of ``a``'s values in that layout)."""
    yield "contiguous", a
    s = np.empty(2 * a.size, a.dtype)
    s[::2] = a
    yield "strided", s[::2]
    yield "negative stride", a[::-1].copy()[::-1]
    yield "read-only", np.frombuffer(a.tobytes(), a.dtype)


@pytest.fixture(scope="module", params=["float16", "float32", "float64"])
def unary_fn(request):
    dtype = request.param
    x = T.TensorType(dtype, (False,))("x")
    outs = [Elemwise(ALL_OPS[n])(x) for n in UNARY]
    return dtype, opcore.function([x], outs, mode=C)


@pytest.mark.parametrize("size", SIZES)
def test_every_ufunc_op_is_numpys_in_every_layout(unary_fn, size):
    dtype, f = unary_fn
    a = values(dtype, size)
    for layout, v in views(a):
        got = call(f, v)
        for name, g in zip(UNARY, got):
            # float16 runs NumPy itself (the C backend does not compute in float16), whose
            # float16 loops differ between contiguous and strided data: compare like with like
            want = ref(name, a) if dtype != "float16" else call(ALL_OPS[name].numpy, v)
            assert g.dtype == want.dtype and g.shape == want.shape, (name, layout)
            np.testing.assert_array_equal(g, want, err_msg=f"{name} {dtype} {layout} n={size}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_steps_and_broadcast_rows(dtype):
    """Binary ufunc steps (arctan2, float ``**``, a constant and a declared scalar exponent);
    a row input broadcast over a matrix (stride 0 in the loop), a transposed (column-major)
    input and a declared scalar."""
    x = T.TensorType(dtype, (False, False))("x")
    r = T.TensorType(dtype, (True, False))("r")
    c = T.TensorType(dtype, ())("c")
    f = opcore.function([x, r, c], [T.arctan2(x, r), T.tanh(x + r), T.exp(x * c), x ** r,
                                     abs(x) ** np.asarray(1.7, dtype), x ** c], mode=C)
    assert f.vm.program.source.count('oc_uloop_get("power"') >= 2
    rng = np.random.default_rng(3)
    for shape in [(3, B + 1), (5, 7), (1, 1), (0, 4)]:
        xa = values(dtype, shape[0] * shape[1]).reshape(shape)
        ra = (rng.standard_normal((1, shape[1])) * 3).astype(dtype)
        ca = np.asarray(0.75, dtype)
        for xv in (xa, np.asfortranarray(xa), xa[::-1, ::-1].copy()[::-1, ::-1]):
            got = call(f, xv, ra, ca)
            np.testing.assert_array_equal(got[0], ref("arctan2", xa, np.broadcast_to(ra, shape)))
            np.testing.assert_array_equal(got[1], ref("tanh", xa + ra))
            np.testing.assert_array_equal(got[2], ref("exp", xa * ca))
            np.testing.assert_array_equal(got[3], ref("pow", xa, np.broadcast_to(ra, shape)))
            np.testing.assert_array_equal(got[4], ref("pow", abs(xa), np.full(shape, 1.7, dtype)))
            np.testing.assert_array_equal(got[5], ref("pow", xa, np.full(shape, ca)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_chains_match_numpy_step_by_step(dtype):
    """A ufunc step feeding another, a step read by several later steps, two outputs, an integer
    input converted before the loop and a constant: each intermediate rounds like NumPy's."""
    x = T.TensorType(dtype, (False,))("x")
    i = T.ivector("i")
    y = T.exp(-x) * T.sin(x) + x ** 2 / (1 + abs(x))
    z = T.sin(T.exp(T.tanh(x)))
    w = T.cos(i.astype(dtype)) * 2
    f = opcore.function([x, i], [y, z, w, T.tanh(x) * 3], mode=C)
    n = 5 * B + 3
    a = values(dtype, n)
    ia = np.random.default_rng(0).integers(-1000, 1000, n).astype("int32")
    with np.errstate(all="ignore"):
        want = [np.exp(-a) * np.sin(a) + a ** 2 / (1 + abs(a)),
                np.sin(np.exp(np.tanh(a))), np.cos(ia.astype(dtype)) * np.asarray(2, dtype),
                np.tanh(a) * np.asarray(3, dtype)]
    for layout, v in views(a):
        got = call(f, v, ia)
        for k, (g, wv) in enumerate(zip(got, want)):
            np.testing.assert_array_equal(g, wv, err_msg=f"output {k} {layout}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_place_outputs(dtype):
    """The output written into the input it reads: one ufunc op, and a loop that reads the input
    again after the ufunc step."""
    x = T.TensorType(dtype, (False,))("x")
    for expr, fn in [(T.tanh(x), np.tanh), (T.tanh(x) + x, lambda a: np.tanh(a) + a)]:
        f = opcore.function([In(x, mutable=True)], expr, mode=C)
        assert any(n.op.destroy_map for n in f.maker.fgraph.toposort()), "no in-place node"
        for n in (1, B - 1, 2 * B + 5):
            a = values(dtype, n)
            want = call(fn, a)
            for layout in ("contiguous", "strided", "negative stride"):
                v = dict(views(a.copy()))[layout]  # the call overwrites it
                got = call(f, v)
                np.testing.assert_array_equal(got, want, err_msg=f"{layout} n={n}")


def test_threaded_loops_are_numpys():
    with change_flags(cpu_c__threads=2, openmp_elemwise_minsize=16):
        x = T.fmatrix("x")
        r = T.frow("r")
        f = opcore.function([x, r], [T.tanh(x + r), T.exp(x.T) * 2], mode=C)
        assert "OC_POOL_RUN" in f.vm.program.source
    a = values("float32", 37 * 2 * B).reshape(37, 2 * B)
    ra = values("float32", 2 * B)[::-1].reshape(1, -1)
    for xv in (a, np.asfortranarray(a)):
        got = call(f, xv, ra)
        np.testing.assert_array_equal(got[0], ref("tanh", a + ra))
        np.testing.assert_array_equal(got[1], call(np.exp, a.T) * np.float32(2))


def test_loops_without_ufunc_steps_keep_the_plain_loop():
    x = T.dvector("x")
    f = opcore.function([x], x * 2 + 1, mode=C)
    assert "oc_vk_" not in f.vm.program.source
    g = opcore.function([x], T.exp(x) * 2 + 1, mode=C)
    assert "oc_uloop_get" in g.vm.program.source


def _sleef_or_skip():
    why = ufuncloops.sleef_available()
    if why:
        pytest.skip(why)


def test_sleef_sin_cos_within_one_ulp_of_numpy():
    """``cpu_c__vector_math='sleef'``: float64 sin and cos from SLEEF's 1-ulp functions (NumPy's
    own float64 sin/cos loops are scalar libm); NaN, infinities and -0.0 as NumPy's; the other
    steps still NumPy's loops bit for bit."""
    _sleef_or_skip()
    x = T.dvector("x")
    with change_flags(cpu_c__vector_math="sleef"):
        f = opcore.function([x], [T.sin(x), T.cos(x), T.exp(x) + T.sin(x)], mode=C)
    assert "= oc_sleef_sin_f64;" in f.vm.program.source
    for n in (1, 7, B + 3, 4 * B + 1):
        a = values("float64", n)
        for layout, v in views(a):
            got = call(f, v)
            for g, fn in zip(got[:2], (np.sin, np.cos)):
                want = call(fn, a)
                np.testing.assert_array_equal(np.isnan(g), np.isnan(want), err_msg=layout)
                ok = ~np.isnan(want)
                np.testing.assert_array_max_ulp(g[ok], want[ok], maxulp=1)
                np.testing.assert_array_equal(np.signbit(g[ok & (want == 0)]),
                                              np.signbit(want[ok & (want == 0)]))
            np.testing.assert_array_equal(got[2], call(np.exp, a) + got[0], err_msg=layout)


def test_sleef_missing_warns_and_uses_numpys_loops(monkeypatch):
    monkeypatch.setattr(ufuncloops, "sleef_available", lambda: "libsleef is not installed")
    x = T.dvector("x")
    with change_flags(cpu_c__vector_math="sleef"), pytest.warns(RuntimeWarning, match="libsleef"):
        f = opcore.function([x], T.sin(x) * 3, mode=C)
    assert "Sleef" not in f.vm.program.source
    a = values("float64", 100)
    np.testing.assert_array_equal(call(f, a), call(np.sin, a) * 3)


def test_many_steps_use_smaller_blocks_and_0d():
    """A loop with many NumPy-loop steps keeps its block buffers small (smaller blocks); 0-d
    inputs and outputs."""
    x = T.dvector("x")
    acc = x
    for k in range(1, 41):
        acc = T.tanh(acc) + T.exp(x * float(k))
    f = opcore.function([x], acc, mode=C)
    src = f.vm.program.source
    assert src.count("oc_uloop_get(") >= 80 and src.count("static void oc_vk_") == 1
    blocks = {int(b) for b in re.findall(r"for \(o = 0; o < m; o \+= (\d+)\)", src)}
    assert blocks and max(blocks) < B, blocks
    a = values("float64", 3 * B + 1)
    for layout, v in views(a):
        want = a
        with np.errstate(all="ignore"):
            for k in range(1, 41):
                want = np.tanh(want) + np.exp(a * float(k))
        np.testing.assert_array_equal(call(f, v), want, err_msg=layout)
    c = T.dscalar("c")
    g = opcore.function([c], [T.tanh(c), c ** c, T.exp(c) * 2], mode=C)
    for v in (0.5, -3.0, np.nan, np.inf):
        got = call(g, np.asarray(v))
        assert all(r.shape == () for r in got)
        np.testing.assert_array_equal(got, [call(np.tanh, np.float64(v)),
                                            call(np.power, np.float64(v), np.float64(v)),
                                            call(np.exp, np.float64(v)) * 2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softplus_is_logaddexp_through_numpys_loops(dtype):
    """``softplus`` runs ``np.logaddexp(0, x)``'s rule ``max(x, 0) + log1p(exp(-|x|))`` with
    ``exp`` and ``log1p`` through NumPy's loops: within 4 ulp of the Python backend's
    ``np.logaddexp`` (NumPy's SIMD loops and the C library round differently), NaN, infinities
    and x >= 30 exact, in every layout, alone and fused."""
    x = T.TensorType(dtype, (False,))("x")
    outs = [T.nnet.softplus(x), T.nnet.softplus(x * 2) - T.nnet.sigmoid(x)]
    f = opcore.function([x], outs, mode=C)
    assert 'oc_uloop_get("log1p"' in f.vm.program.source
    sp, sig = ALL_OPS["softplus"].numpy, ALL_OPS["sigmoid"].numpy
    edge = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e3, -1e3, 30, -30, 89, -89, 1e-30],
                    dtype=dtype)
    with np.errstate(all="ignore"):
        a = np.concatenate([values(dtype, 2 * B + 3) * 40, edge])
        want = [sp(a), sp(a * np.asarray(2, dtype)) - sig(a)]
    for layout, v in views(a):
        got = call(f, v)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype
            fin = np.isfinite(w)
            np.testing.assert_array_equal(g[~fin], w[~fin], err_msg=f"output {k} {layout}")
            tol = 4 * np.spacing(np.abs(w[fin]))
            tol = tol + (4 * np.spacing(np.ones(1, dtype)) if k else 0)  # the difference
            assert np.all(np.abs(g[fin] - w[fin]) <= tol), (k, layout)
        big = a >= 30
        np.testing.assert_array_equal(got[0][big], want[0][big])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_is_its_numpy_rule_bit_for_bit(dtype):
    """``sigmoid`` runs its NumPy rule's ``exp(-|x|)`` through NumPy's loop and the same
    arithmetic in the output dtype: the C backend's values are the Python backend's exactly (an
    integer input is converted first; the op used alone, fused, and twice in one loop)."""
    x = T.TensorType(dtype, (False,))("x")
    i = T.bvector("i")
    sig = ALL_OPS["sigmoid"]
    outs = [T.sigmoid(x), T.sigmoid(x * 2) + T.sigmoid(-x), T.sigmoid(i)]
    f = opcore.function([x, i], outs, mode=C)
    assert 'oc_uloop_get("exp"' in f.vm.program.source
    a = values(dtype, 2 * B + 3)
    ia = np.arange(2 * B + 3).astype("int8")
    idt = sig.output_dtype("int8")
    with np.errstate(all="ignore"):
        want = [sig.numpy(a), sig.numpy(a * np.asarray(2, dtype)) + sig.numpy(-a),
                sig.numpy(ia.astype(idt))]
    for layout, v in views(a):
        for k, (g, w) in enumerate(zip(call(f, v, ia), want)):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w, err_msg=f"output {k} {layout}")
