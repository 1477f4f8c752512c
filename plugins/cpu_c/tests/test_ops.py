"""C results equal the Python backend's, on contiguous, strided, broadcast and empty inputs."""

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.scalar.basic import Composite, add, exp, mul, sigmoid
from opcore.tensor.elemwise import Elemwise

C = Mode(backend="c")
PY = Mode(backend="py")


def _both(ins, outs, **kw):
    f = opcore.function(ins, outs, mode=C, on_unused_input="ignore", **kw)
    g = opcore.function(ins, outs, mode=PY, on_unused_input="ignore", **kw)
    return f, g


def _check(f, g, *args, rtol=1e-6):
    r1, r2 = f(*args), g(*args)
    if not isinstance(r1, list):
        r1, r2 = [r1], [r2]
    for a, b in zip(r1, r2):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def test_elemwise_reductions_indexing_dot():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    v = T.dvector("v")
    i = T.lscalar("i")
    outs = [T.exp(x) * v + 2, T.tanh(x) - abs(x) ** 3, T.maximum(x, 0.5), T.switch(x > 0.5, x, -x),
            x.sum(), x.sum(axis=0), x.max(axis=1), x.min(), x.prod(axis=0), (x > 0.5).any(axis=1),
            (x > -1).all(), x.mean(axis=1), T.dot(x, y), T.dot(x, v[:4]), x.T,
            x.dimshuffle(1, "x", 0), x[1:, ::-1], x[i], x[:, i], T.set_subtensor(x[1:, :2], 7.0),
            T.inc_subtensor(x[0], v[:4]),
            T.concatenate([x, 2 * x], axis=0), x.reshape((-1,)), T.cast(x * 10, "int32"),
            T.alloc(v, 2, v.shape[0]), x.shape, T.sqrt(x) + T.log1p(x) * T.sigmoid(x)]
    f, g = _both([x, y, v, i], outs)
    assert len(f.linker.c_nodes) >= len(outs)
    rng = np.random.RandomState(1)
    a = rng.rand(5, 4)
    b = rng.rand(4, 3)
    c = rng.rand(4)
    _check(f, g, a, b, c, 2)
    _check(f, g, a[::-1], np.asfortranarray(b), c[::-1], -1)  # strided/negative/Fortran
    _check(f, g, rng.rand(10, 8)[::2, ::2], b[:, ::-1], rng.rand(8)[::2], 0)


def test_empty_inputs():
    x = T.dmatrix("x")
    f, g = _both([x], [T.exp(x) + 1, x.sum(axis=0), x.sum(), T.dot(x.T, x), x[1:], x.T * 2])
    for shape in [(0, 3), (3, 0), (0, 0)]:
        _check(f, g, np.zeros(shape))


def test_fused_composite_and_inplace():
    x = T.dvector("x")
    y = T.dvector("y")
    comp = Composite(2, ("float64", "float64"),
                     [(exp, (("i", 0),), "float64"), (mul, (("s", 0), ("i", 1)), "float64"),
                      (add, (("s", 1), ("c", 1.5, "float64")), "float64"),
                      (sigmoid, (("s", 2),), "float64")], [2, 3])
    outs = Elemwise(comp)(x, y)
    f, g = _both([x, y], list(outs))
    a, b = np.linspace(-2, 2, 11), np.linspace(0, 1, 11)
    _check(f, g, a, b)
    _check(f, g, a[::-2], b[::2])
    # in-place variant: output 0 overwrites input 1 (a mutable input)
    z = Elemwise(add, {0: 0})(x, y)
    fi = opcore.function([opcore.In(x, mutable=True), y], z, mode=C)
    buf = a.copy()
    r = fi(buf, b)
    np.testing.assert_allclose(r, a + b)


def test_broadcast_error_is_clear():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = opcore.function([x, y], x + y, mode=C)
    with pytest.raises(ValueError, match="broadcast"):
        f(np.ones((2, 3)), np.ones((3, 2)))
    # a length-1 dimension the type does not declare broadcastable is an error, as in perform
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((2, 3)), np.ones((1, 3)))
    r = T.drow("r")
    g = opcore.function([x, r], x + r, mode=C)
    np.testing.assert_allclose(g(np.ones((2, 3)), np.ones((1, 3))), 2 * np.ones((2, 3)))


def test_inc_subtensor_with_all_integer_indices():
    v = T.dvector("v")
    m = T.dmatrix("m")
    i = T.lscalar("i")
    s = T.dscalar("s")
    outs = [T.inc_subtensor(v[i], s), T.set_subtensor(v[i], s), T.inc_subtensor(m[i, 1], s),
            v[i], m[1, i]]
    f, g = _both([v, m, i, s], outs)
    rng = np.random.RandomState(8)
    _check(f, g, rng.rand(5), rng.rand(3, 4), 2, 1.5)
    _check(f, g, rng.rand(5)[::-1], rng.rand(3, 4).T.copy().T, -1, -0.5)


def test_int_and_float32_dtypes():
    x = T.matrix("x", dtype="float32")
    n = T.imatrix("n")
    f, g = _both([x, n], [x * 2 + 1, n * 3 - 1, (n + x).sum(axis=1), n.sum(), T.dot(x, x.T)])
    rng = np.random.RandomState(2)
    _check(f, g, rng.rand(3, 3).astype("float32"), rng.randint(-5, 5, (3, 3)).astype("int32"),
           rtol=1e-5)


def test_shared_update_and_python_fallback_node():
    """A training-style step: shared updates; a node without C (Argmax) runs as a Python thunk."""
    w = opcore.shared(np.zeros(3), name="w")
    x = T.dmatrix("x")
    loss = ((T.dot(x, w) - 1) ** 2).mean()
    gw = opcore.grad(loss, w)
    am = T.argmax(x, axis=1)
    f = opcore.function([x], [loss, am], updates=[(w, w - 0.1 * gw)], mode=C)
    w2 = opcore.shared(np.zeros(3), name="w2")
    loss2 = ((T.dot(x, w2) - 1) ** 2).mean()
    g = opcore.function([x], [loss2, T.argmax(x, axis=1)],
                        updates=[(w2, w2 - 0.1 * opcore.grad(loss2, w2))], mode=PY)
    a = np.random.RandomState(3).rand(6, 3)
    for _ in range(3):
        r1, r2 = f(a), g(a)
        np.testing.assert_allclose(r1[0], r2[0])
        np.testing.assert_array_equal(r1[1], r2[1])
    np.testing.assert_allclose(w.get_value(), w2.get_value())


def test_backend_registered_and_healthy():
    from opcore.plugins import get_host

    host = get_host()
    b = host.backends["c"]
    assert b.priority > host.backends["py"].priority
    assert b.check()[0]
    assert host.select_backend(None).name == "c"


def test_no_compiler_means_unhealthy_with_reason():
    from opcore.config import change_flags
    from opcore.cbuild import compiler_ok

    with change_flags(cxx=""):
        ok, why = compiler_ok()
    assert not ok and "cxx" in why
    with change_flags(cxx="no-such-compiler-xyz"):
        ok, why = compiler_ok()
    assert not ok and "no C compiler" in why


@pytest.mark.parametrize("which", ["numpy", "scipy"])
def test_gemv_c_matches_numpy(which):
    from opcore.config import change_flags

    blas = pytest.importorskip("opcore.tensor.blas")
    with change_flags(cpu_c__blas=which):
        _gemv_check(blas)


@pytest.mark.parametrize("which", ["numpy", "scipy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_both_blas(which, dtype):
    from opcore.config import change_flags

    a = T.matrix("a", dtype=dtype)
    b = T.matrix("b", dtype=dtype)
    with change_flags(cpu_c__blas=which):
        f = opcore.function([a, b], T.dot(a, b), mode=C)
        assert f.linker.c_nodes
    rng = np.random.RandomState(9)
    A = rng.rand(6, 5).astype(dtype)
    B = rng.rand(5, 4).astype(dtype)
    for x, y in [(A, B), (A[::-1], B[:, ::-1]), (np.asfortranarray(A), B.T.copy().T),
                 (A[::2, ::2], B[::2]), (A[:0], B), (A[:, :0], B[:0])]:
        got = f(x, y)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, x.astype("float64") @ y, rtol=1e-5, atol=1e-6)


def _gemv_check(blas):
    y = T.dvector("y")
    A = T.dmatrix("A")
    x = T.dvector("x")
    a = T.dscalar("a")
    b = T.dscalar("b")
    out = blas.Gemv()(y, a, A, x, b)
    f = opcore.function([y, a, A, x, b], out, mode=C)
    assert f.linker.c_nodes
    rng = np.random.RandomState(4)
    M = rng.rand(5, 4)
    big = rng.rand(120, 90)  # 10800 entries: NumPy's product under cpu_c__blas=numpy
    for Am, xv in [(M, rng.rand(4)), (np.asfortranarray(M), rng.rand(8)[::2]),
                   (M[::-1, ::-1], rng.rand(4)[::-1]), (M[:, :0], np.zeros(0)),
                   (big, rng.rand(90)), (big[::-1].T, rng.rand(240)[::2])]:
        yv = rng.rand(Am.shape[0])
        np.testing.assert_allclose(f(yv, 0.5, Am, xv, 2.0), 2.0 * yv + 0.5 * Am.dot(xv))
        np.testing.assert_allclose(f(yv, -1.5, Am, xv, 0.0), -1.5 * Am.dot(xv))


def test_reductions_every_kind_and_axes():
    x = T.tensor3("x", dtype="float64")
    outs = []
    for kind in ("sum", "max", "min", "prod"):
        for axis in [(0,), (0, 1), (1,), (2,), (0, 2), None]:
            outs.append(getattr(x, kind)(axis=axis))
    outs += [(x > 0.5).all(axis=(0,)), (x > 0.5).any(axis=(0, 1))]
    f, g = _both([x], outs)
    rng = np.random.RandomState(5)
    a = rng.rand(3, 4, 5)
    _check(f, g, a)
    _check(f, g, a[:, ::-1, ::2])
    _check(f, g, np.asfortranarray(a))


def test_debugmode_agrees():
    """DebugMode runs the C backend's per-node thunks beside perform() and compares them."""
    from opcore.compile.debugmode import DebugMode

    x = T.dmatrix("x")
    out = (T.exp(x) * 2).sum(axis=0)
    f = opcore.function([x], out, mode=DebugMode())
    a = np.random.RandomState(6).rand(3, 4)
    np.testing.assert_allclose(f(a), (np.exp(a) * 2).sum(axis=0))


def test_openmp_loops_match():
    from opcore.config import change_flags

    with change_flags(openmp=True, openmp_elemwise_minsize=16):
        x = T.dmatrix("x")
        f = opcore.function([x], [T.exp(x) * x + 1, x.sum(axis=1), x.max(axis=0)], mode=C)
        assert "omp parallel" in f.vm.program.source
    a = np.random.RandomState(7).rand(64, 33)
    r = f(a)
    np.testing.assert_allclose(r[0], np.exp(a) * a + 1)
    np.testing.assert_allclose(r[1], a.sum(axis=1))
    np.testing.assert_allclose(r[2], a.max(axis=0))


def test_gemm_and_ger_c_match_numpy():
    blas = pytest.importorskip("opcore.tensor.blas")
    z = T.dmatrix("z")
    A = T.dmatrix("A")
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    u = T.dvector("u")
    w = T.dvector("w")
    a = T.dscalar("a")
    b = T.dscalar("b")
    f = opcore.function([z, x, y, A, u, w, a, b],
                        [blas.Gemm()(z, a, x, y, b), blas.Ger()(A, a, u, w)], mode=C)
    assert len(f.linker.c_nodes) == 2
    rng = np.random.RandomState(10)
    X, Y, Z = rng.rand(4, 3), rng.rand(3, 5), rng.rand(4, 5)
    U, W = rng.rand(4), rng.rand(5)
    for zz, xx, uu in [(Z, X, U), (Z[::-1, ::-1], np.asfortranarray(X), U[::-1]),
                       (np.zeros((0, 5)), X[:0], U[:0])]:
        g, h = f(zz, xx, Y, zz, uu, W, 0.5, 2.0)
        np.testing.assert_allclose(g, 2.0 * zz + 0.5 * xx @ Y)
        np.testing.assert_allclose(h, zz + 0.5 * np.outer(uu, W))
    # Ger's unit-stride loop (rows of A further apart than their length) and its strided one
    big = rng.rand(8, 5)
    for AA, ww in [(big[::2], W), (big[::2], W[::-1].copy()[::-1]), (big[::2, ::-1], W),
                   (np.asfortranarray(big[:4]), W)]:
        h = f(Z, X, Y, AA, U, ww, -1.5, 2.0)[1]
        np.testing.assert_allclose(h, AA - 1.5 * np.outer(U, ww))


@pytest.mark.parametrize("which", ["numpy", "scipy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_both_blas(which, dtype):
    """The product goes straight into the output (NumPy) or one ?gemm accumulates into a copy of
    z (SciPy): NumPy's values for every layout, beta 0 ignoring z (NaN included), k = 0, empty
    results, and z given as the previous call's output (a weight update fed back)."""
    from opcore.config import change_flags

    blas = pytest.importorskip("opcore.tensor.blas")
    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    with change_flags(cpu_c__blas=which):
        f = opcore.function([z, a, x, y, b], blas.Gemm()(z, a, x, y, b), mode=C)
        assert f.linker.c_nodes
    rng = np.random.RandomState(11)
    X, Y, Z = (rng.rand(*s).astype(dtype) for s in ((6, 4), (4, 5), (6, 5)))
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    cases = [(Z, X, Y), (Z[::-1, ::-1], np.asfortranarray(X), Y[:, ::-1]),
             (np.asfortranarray(Z), X.T.copy().T, Y), (Z[:, :0], X, Y[:, :0]),
             (Z[:0], X[:0], Y), (Z, X[:, :0], Y[:0])]
    for zz, xx, yy in cases:
        for av, bv in ((0.5, 2.0), (-1.0, 1.0), (1.0, 0.0)):
            got = f(zz, av, xx, yy, bv)
            assert got.dtype == np.dtype(dtype) and got.shape == zz.shape
            want = bv * zz.astype("float64") + av * (xx.astype("float64") @ yy)
            np.testing.assert_allclose(got, want, **tol)
    nan_z = np.full_like(Z, np.nan)
    np.testing.assert_allclose(f(nan_z, 2.0, X, Y, 0.0), 2.0 * (X @ Y), **tol)
    out = Z.copy()
    for _ in range(3):  # the output fed back as z: read before it is overwritten
        prev = out.copy()
        out = f(out, -0.1, X, Y, 1.0)
        np.testing.assert_allclose(out, prev - 0.1 * (X @ Y), **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_of_few_rows_and_a_transposed_matrix(dtype):
    """``h @ W.T`` with few rows of h (2..32) and W row-major runs as ``(W @ h.T).T`` through
    NumPy's cblas into a scratch array: NumPy's values and a C-contiguous result, at the
    bounds of the rule and just past them, for transposed, Fortran, sliced and contiguous
    operands."""
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    f = opcore.function([a, b], T.dot(a, b), mode=C)
    assert f.linker.c_nodes
    r = np.random.RandomState(13)
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12)
    for m, k, n in ((20, 500, 784), (2, 64, 8), (32, 100, 128), (33, 100, 200), (20, 63, 784),
                    (5, 64, 19), (1, 80, 100)):
        A = r.rand(m, k).astype(dtype)
        W = r.rand(n, k).astype(dtype)
        Wbig = r.rand(n, k + 7).astype(dtype)
        for B in (W.T, np.asfortranarray(W.T), Wbig[:, :k].T, np.ascontiguousarray(W.T)):
            for AA in (A, A[::-1], np.asfortranarray(A)):
                got = f(AA, B)
                assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous
                np.testing.assert_allclose(got, AA.astype("float64") @ B.astype("float64"),
                                           **tol)


@pytest.mark.parametrize("which", ["numpy", "scipy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_inplace_both_blas(which, dtype):
    """Gemm{inplace}: one ?gemm accumulating in z's own buffer (NumPy's cblas through
    opcore_cpu_c.numpy_blas, or SciPy's) when z's rows are contiguous, padded rows included
    (the padding untouched); a new array for reversed/column-major z, z overlapping x, k = 0 and
    empty results; NumPy's values in every case, beta 0 ignoring z (NaN included)."""
    from opcore.config import change_flags
    from opcore.tensor.blas import Gemm

    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    with change_flags(cpu_c__blas=which):
        f = opcore.function([opcore.In(z, mutable=True), a, x, y, b],
                            Gemm(inplace=True)(z, a, x, y, b), mode=C)
        assert f.linker.c_nodes
    rng = np.random.RandomState(12)
    X, Y, Z = (rng.rand(*s).astype(dtype) for s in ((6, 4), (4, 5), (6, 5)))
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    padded = np.full((6, 8), 7.0, dtype=dtype)
    padded[:, :5] = Z
    cases = [(Z, X, Y, True), (padded[:, :5], np.asfortranarray(X), Y[:, ::-1], True),
             (Z, X.T.copy().T, np.asfortranarray(Y), True),
             (Z[::-1, ::-1], X, Y, False), (np.asfortranarray(Z), X, Y, False),
             (Z[:, :0], X, Y[:, :0], False), (Z[:0], X[:0], Y, False), (Z, X[:, :0], Y[:0], False)]
    for zz, xx, yy, in_place in cases:
        for av, bv in ((0.5, 2.0), (-1.0, 1.0), (1.0, 0.0)):
            zc = zz.copy(order="A") if zz.base is None else zz
            before = zc.astype("float64")
            want = bv * before + av * (xx.astype("float64") @ yy)
            got = f(zc, av, xx, yy, bv)
            assert got.dtype == np.dtype(dtype) and got.shape == zz.shape
            np.testing.assert_allclose(got, want, **tol)
            # in place: z's buffer holds the result; else z is left as it was
            np.testing.assert_allclose(zc, want if in_place else before, **tol)
            if zc.base is padded:
                zc[...] = Z  # restore for the next coefficients
        np.testing.assert_array_equal(padded[:, 5:], 7.0)
    nan_z = np.full_like(Z, np.nan)
    np.testing.assert_allclose(f(nan_z, 2.0, X, Y, 0.0), 2.0 * (X @ Y), **tol)
    # z overlapping x: the product reads the old values
    big = rng.rand(6, 9).astype(dtype)
    want = 2.0 * big[:, :5].astype("float64") - 0.5 * (big[:, 5:].astype("float64") @ Y)
    np.testing.assert_allclose(f(big[:, :5], -0.5, big[:, 5:], Y, 2.0), want, **tol)
    out = Z.copy()
    for _ in range(3):  # the weight update fed back
        prev = out.copy()
        out = f(out, -0.1, X, Y, 1.0)
        np.testing.assert_allclose(out, prev - 0.1 * (X @ Y), **tol)


def test_names_with_quotes_and_percent_compile():
    """Variable/op names end up in C error strings: they must be escaped."""
    x = T.dmatrix('we"ird%s\\name')
    y = T.dmatrix("y%d")
    f = opcore.function([x, y], [x + y, x.sum(axis=(0, 1))], mode=C)
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((1, 3)), np.ones((2, 3)))
    np.testing.assert_allclose(f(np.ones((2, 3)), np.ones((2, 3)))[0], 2 * np.ones((2, 3)))


def test_borrowed_output_buffer_is_reused_and_plain_output_is_not():
    x = T.dvector("x")
    a, b = np.linspace(0, 1, 50), np.linspace(1, 2, 50)
    fb = opcore.function([x], opcore.Out(x + x ** 10, borrow=True), mode=C)
    r1 = fb(a)
    np.testing.assert_allclose(r1, a + a ** 10)
    r2 = fb(b)
    np.testing.assert_allclose(r2, b + b ** 10)
    assert r2 is r1  # the C loop wrote into the buffer it returned last time (Theano's borrow)
    f = opcore.function([x], x + x ** 10, mode=C)
    p1 = f(a)
    p2 = f(b)
    assert p2 is not p1 and not np.shares_memory(p1, p2)
    np.testing.assert_allclose(p1, a + a ** 10)  # the first result is left alone
    np.testing.assert_allclose(p2, b + b ** 10)


def test_multi_output_fused_loop_matches_python():
    x = T.dmatrix("x")
    s = T.tanh(x)
    outs = [x ** 10, x ** 3, s, s * x + 1]
    f, g = _both([x], outs)
    nodes = f.maker.fgraph.toposort()  # two groups that share only the input x
    assert len(nodes) == 2 and all(len(n.outputs) == 2 for n in nodes)
    v = np.random.default_rng(3).random((6, 9)) + 0.5
    _check(f, g, v)
    _check(f, g, v[::2, ::-3])
    _check(f, g, np.zeros((0, 4)))


@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "float32", "uint8", "bool"])
def test_make_vector_c(dtype):
    from opcore.tensor.basic import MakeVector

    a, b, c = (T.scalar(n, dtype=dtype) for n in "abc")
    f = opcore.function([a, b, c], MakeVector(dtype)(a, b, c * 1 if dtype != "bool" else c),
                        mode=C)
    assert any(type(n.op) is MakeVector for n in f.linker.c_nodes)
    vals = [np.array(v).astype(dtype) for v in (3, 0, 1)]
    got = f(*vals)
    assert got.dtype == np.dtype(dtype) and got.shape == (3,)
    np.testing.assert_array_equal(got, np.array(vals, dtype=dtype))
