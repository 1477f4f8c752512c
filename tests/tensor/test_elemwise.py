"""Elementwise ops: values vs NumPy, dtypes, broadcasting, gradients and shapes."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad

# name, numpy reference, number of inputs, input sampler (rng, shape) -> float array, differentiable
POS = lambda r, s: r.uniform(0.5, 2.0, s)  # noqa: E731
ANY = lambda r, s: r.uniform(-2.0, 2.0, s)  # noqa: E731
UNIT = lambda r, s: r.uniform(-0.9, 0.9, s)  # noqa: E731
NONZ = lambda r, s: r.uniform(0.5, 2.0, s) * r.choice([-1, 1], s)  # noqa: E731
NEGS = lambda r, s: r.uniform(-3.0, -0.1, s)  # noqa: E731

UNARY = [
    ("neg", np.negative, ANY, True), ("abs", np.abs, NONZ, True), ("sgn", np.sign, NONZ, True),
    ("sqr", np.square, ANY, True), ("sqrt", np.sqrt, POS, True),
    ("inv", np.reciprocal, POS, True), ("exp", np.exp, ANY, True), ("exp2", np.exp2, ANY, True),
    ("expm1", np.expm1, ANY, True), ("log", np.log, POS, True), ("log2", np.log2, POS, True),
    ("log10", np.log10, POS, True), ("log1p", np.log1p, POS, True), ("sin", np.sin, ANY, True),
    ("cos", np.cos, ANY, True), ("tan", np.tan, UNIT, True), ("arcsin", np.arcsin, UNIT, True),
    ("arccos", np.arccos, UNIT, True), ("arctan", np.arctan, ANY, True),
    ("sinh", np.sinh, ANY, True), ("cosh", np.cosh, ANY, True), ("tanh", np.tanh, ANY, True),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), ANY, True),
    ("softplus", lambda x: np.log1p(np.exp(x)), ANY, True),
    ("log1mexp", lambda x: np.log(1 - np.exp(x)), NEGS, True),
    ("floor", np.floor, NONZ, True), ("ceil", np.ceil, NONZ, True),
    ("trunc", np.trunc, NONZ, True), ("round_half_to_even", np.round, NONZ, True),
]
BINARY = [
    ("add", np.add, ANY, ANY, True), ("sub", np.subtract, ANY, ANY, True),
    ("mul", np.multiply, ANY, ANY, True), ("true_div", np.true_divide, ANY, NONZ, True),
    ("pow", np.power, POS, ANY, True), ("maximum", np.maximum, ANY, ANY, True),
    ("minimum", np.minimum, ANY, ANY, True), ("arctan2", np.arctan2, ANY, NONZ, True),
    ("mod", np.mod, POS, POS, True), ("int_div", np.floor_divide, ANY, NONZ, True),
]
COMPARE = [("lt", np.less), ("gt", np.greater), ("le", np.less_equal),
           ("ge", np.greater_equal), ("eq", np.equal), ("neq", np.not_equal)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ref,sample,diff", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values(name, ref, sample, diff, dtype, rng, infer_shape):
    x = T.matrix("x", dtype=dtype)
    out = getattr(T, name)(x)
    xv = sample(rng, (3, 4)).astype(dtype)
    got = opcore.function([x], out)(xv)
    assert got.dtype == dtype, f"{name}: {got.dtype}"
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref(xv), rtol=tol, atol=tol)
    infer_shape([x], out, [xv])


@pytest.mark.parametrize("name,ref,sample,diff", UNARY, ids=[u[0] for u in UNARY])
def test_unary_grad(name, ref, sample, diff, rng):
    xv = sample(rng, (2, 3))
    if name in ("floor", "ceil", "trunc", "round_half_to_even", "sgn"):
        # piecewise constant: the gradient is zero (finite differences agree away from jumps)
        xv = np.round(xv) + 0.3
    verify_grad(getattr(T, name), [xv], rng=np.random.default_rng(0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ref,sa,sb,diff", BINARY, ids=[b[0] for b in BINARY])
def test_binary_values_with_broadcasting(name, ref, sa, sb, diff, dtype, rng, infer_shape):
    x = T.matrix("x", dtype=dtype)
    r = T.row("r", dtype=dtype)
    out = getattr(T, name)(x, r)
    xv, rv = sa(rng, (3, 4)).astype(dtype), sb(rng, (1, 4)).astype(dtype)
    got = opcore.function([x, r], out)(xv, rv)
    assert got.shape == (3, 4) and got.dtype == dtype
    np.testing.assert_allclose(got, ref(xv, rv), rtol=1e-5 if dtype == "float32" else 1e-12)
    infer_shape([x, r], out, [xv, rv])


@pytest.mark.parametrize("name,ref,sa,sb,diff", BINARY, ids=[b[0] for b in BINARY])
def test_binary_grad(name, ref, sa, sb, diff, rng):
    av, bv = sa(rng, (2, 3)), sb(rng, (1, 3))
    if name == "mod":
        av, bv = av + 2.0, np.full((1, 3), 0.7) + rng.uniform(0, 0.01, (1, 3))
    if name == "int_div":
        av = np.round(av * 3) + 0.3
    verify_grad(lambda a, b: getattr(T, name)(a, T.addbroadcast(b, 0)), [av, bv],
                rng=np.random.default_rng(0))


@pytest.mark.parametrize("name,ref", COMPARE, ids=[c[0] for c in COMPARE])
def test_comparisons_return_bool(name, ref, rng):
    x, y = T.dvector("x"), T.dvector("y")
    out = getattr(T, name)(x, y)
    assert out.dtype == "bool"
    xv = rng.integers(0, 3, 6).astype(float)
    yv = rng.integers(0, 3, 6).astype(float)
    np.testing.assert_array_equal(opcore.function([x, y], out)(xv, yv), ref(xv, yv))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "bool"])
def test_logic_ops_on_integers(dtype):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    xv = np.array([0, 1, 1, 0], dtype=dtype)
    yv = np.array([0, 0, 1, 1], dtype=dtype)
    f = opcore.function([x, y], [x & y, x | y, x ^ y, ~x, T.and_(x, y)])
    a, o, xo, inv, a2 = f(xv, yv)
    np.testing.assert_array_equal(a, xv & yv)
    np.testing.assert_array_equal(o, xv | yv)
    np.testing.assert_array_equal(xo, xv ^ yv)
    np.testing.assert_array_equal(inv, ~xv)
    np.testing.assert_array_equal(a2, a)
    assert a.dtype == dtype


def test_python_operators(rng):
    x, y = T.dmatrices("x, y")
    xv, yv = rng.uniform(0.5, 2, (2, 3)), rng.uniform(0.5, 2, (2, 3))
    exprs = [x + y, x - y, x * y, x / y, x // y, x % y, x ** y, -x, abs(-x), x < y, x <= y,
             x > y, x >= y, 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x, 5 // x, 5 % x, +x]
    refs = [xv + yv, xv - yv, xv * yv, xv / yv, xv // yv, xv % yv, xv ** yv, -xv, xv,
            xv < yv, xv <= yv, xv > yv, xv >= yv, 2 + xv, 2 - xv, 2 * xv, 2 / xv, 2 ** xv,
            5 // xv, 5 % xv, xv]
    got = opcore.function([x, y], exprs)(xv, yv)
    for e, g, r in zip(exprs, got, refs):
        np.testing.assert_allclose(g, r, err_msg=str(e))


def test_symbolic_variable_has_no_truth_value():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)


# -- dtype promotion ----------------------------------------------------------------------------
@pytest.mark.parametrize("a,b,expected", [
    ("float32", "float32", "float32"), ("float32", "float64", "float64"),
    ("int32", "float32", "float64"), ("int8", "int16", "int16"), ("int32", "int64", "int64"),
    ("int8", "float32", "float32"), ("bool", "int8", "int8"), ("int64", "float64", "float64"),
    ("complex64", "float64", "complex128"),
])
def test_dtype_promotion_follows_numpy(a, b, expected):
    x, y = T.vector(dtype=a), T.vector(dtype=b)
    assert (x + y).dtype == expected
    assert np.result_type(a, b).name == expected
    xv, yv = np.ones(2, a), np.ones(2, b)
    assert opcore.function([x, y], x * y)(xv, yv).dtype == expected


@pytest.mark.parametrize("t,scalar,expected", [
    (T.fvector, 2.0, "float32"), (T.fvector, 2, "float32"), (T.ivector, 2, "int32"),
    (T.bvector, 1, "int8"), (T.ivector, 2.5, "float64"), (T.dvector, 2, "float64"),
    (T.wvector, 3, "int16"),
])
def test_python_scalars_do_not_upcast(t, scalar, expected):
    x = t("x")
    for out in (x * scalar, scalar * x, x + scalar):
        assert out.dtype == expected, (t, scalar, out.dtype)
    val = opcore.function([x], x * scalar)(np.ones(3, t.dtype))
    assert val.dtype == expected
    np.testing.assert_allclose(val, np.ones(3) * scalar)


def test_true_div_of_ints_gives_float():
    x, y = T.ivectors("x, y")
    out = x / y
    assert out.dtype == "float64"
    np.testing.assert_allclose(opcore.function([x, y], out)(np.array([1, 3], "int32"),
                                                           np.array([2, 4], "int32")), [0.5, 0.75])


def test_int_paths_exp_log():
    x = T.ivector("x")
    out = T.exp(x)
    assert out.dtype == "float64"
    np.testing.assert_allclose(opcore.function([x], out)(np.array([0, 1], "int32")), [1.0, np.e])


# -- broadcasting -------------------------------------------------------------------------------
def test_row_plus_matrix_and_col(rng):
    r, m, c = T.drow("r"), T.dmatrix("m"), T.dcol("c")
    rv, mv, cv = rng.random((1, 3)), rng.random((2, 3)), rng.random((2, 1))
    f = opcore.function([r, m, c], [r + m, m * c, r + c])
    a, b, d = f(rv, mv, cv)
    np.testing.assert_allclose(a, rv + mv)
    np.testing.assert_allclose(b, mv * cv)
    np.testing.assert_allclose(d, rv + cv)
    assert (r + c).broadcastable == (False, False)
    assert (r + r).broadcastable == (True, False)


def test_lower_rank_is_padded_on_the_left(rng):
    v, m = T.dvector("v"), T.dmatrix("m")
    out = m + v
    assert out.ndim == 2
    vv, mv = rng.random(3), rng.random((2, 3))
    np.testing.assert_allclose(opcore.function([v, m], out)(vv, mv), mv + vv)


def test_runtime_shapes_that_do_not_broadcast():
    x, y = T.dmatrices("x, y")
    f = opcore.function([x, y], x + y)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((2, 4)))
    msg = str(info.value)
    assert "do not broadcast" in msg
    assert "Apply node that caused the error" in msg
    assert "(2, 3)" in msg and "(2, 4)" in msg
    assert "float64" in msg


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_length_one_not_declared_broadcastable_is_an_error(mode):
    x, y = T.dmatrices("x, y")
    f = opcore.function([x, y], x + y, mode=mode)
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((2, 3)), np.ones((1, 3)))


def test_static_shape_mismatch_at_build_time():
    a = T.TensorType("float64", shape=(2, 3))("a")
    b = T.TensorType("float64", shape=(2, 4))("b")
    with pytest.raises(ValueError, match="cannot broadcast"):
        a + b


def test_wrong_argument_count_to_elemwise_op():
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        T.add.op(T.dvector())


# -- switch, clip, where, maximum -----------------------------------------------------------------
def test_switch_and_clip(rng, infer_shape):
    c, x, y = T.bvector("c"), T.dvector("x"), T.dvector("y")
    cv = np.array([1, 0, 1, 0], "int8")
    xv, yv = rng.normal(size=4), rng.normal(size=4)
    sw = T.switch(c, x, y)
    f = opcore.function([c, x, y], [sw, T.where(x > y, x, y), T.clip(x, -0.5, 0.5)])
    a, b, d = f(cv, xv, yv)
    np.testing.assert_allclose(a, np.where(cv, xv, yv))
    np.testing.assert_allclose(b, np.maximum(xv, yv))
    np.testing.assert_allclose(d, np.clip(xv, -0.5, 0.5))
    infer_shape([c, x, y], sw, [cv, xv, yv])


def test_switch_and_clip_grad():
    x0 = np.array([-1.3, -0.2, 0.3, 1.4])
    verify_grad(lambda x: T.switch(x > 0, x ** 2, -x * 3), [x0])
    verify_grad(lambda x: T.clip(x, -0.5, 0.5) * x, [x0])
    verify_grad(lambda a, b: T.switch(T.lt(a, b), a * b, a + b), [x0, x0[::-1].copy()])


def test_elemwise_props_and_str():
    assert T.add.op == T.Elemwise(T.add.op.scalar_op)
    assert hash(T.add.op) == hash(T.Elemwise(T.add.op.scalar_op))
    assert T.add.op != T.mul.op
    assert "add" in str(T.add.op)


def test_dimshuffle(rng, infer_shape):
    x = T.dmatrix("x")
    xv = rng.random((2, 3))
    outs = [x.dimshuffle(1, 0), x.dimshuffle(0, "x", 1), x.dimshuffle("x", 1, 0), x.T]
    got = opcore.function([x], outs)(xv)
    refs = [xv.T, xv[:, None, :], xv.T[None], xv.T]
    for g, r in zip(got, refs):
        np.testing.assert_array_equal(g, r)
    for o in outs:
        infer_shape([x], o, [xv])
    c = T.dcol("c")
    assert c.dimshuffle(0).ndim == 1
    with pytest.raises(ValueError, match="not broadcastable"):
        x.dimshuffle(0)
    verify_grad(lambda a: a.dimshuffle(1, "x", 0), [xv])


def test_elemwise_r_op():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.exp(x) * x
    jv = opcore.gradient.Rop(y, x, v)
    xv, vv = np.array([0.1, 0.5]), np.array([1.0, 2.0])
    np.testing.assert_allclose(opcore.function([x, v], jv)(xv, vv),
                               (np.exp(xv) * xv + np.exp(xv)) * vv)


def test_inplace_elemwise_whose_ufunc_changes_dtype_matches_the_copying_op():
    """NumPy's square of bool is int8, which cannot be stored back into the bool input: the
    in-place op on the Python backend must give what the non-in-place op gives (found by
    scripts/fuzz_c.py, seed 54321, case 1965)."""
    import opcore
    from opcore.compile import Mode

    b = T.TensorType("bool", (False,))("b")
    x = T.lvector("x")
    y = T.sqr(T.all(T.eq(x, x[::-1]) | b.dimshuffle(0), axis=None)) + 0 * x.sum()
    outs = []
    for mode in (Mode(backend="py", optimizer="fast_run"), Mode(backend="py", optimizer=None)):
        f = opcore.function([b, x], [T.sqr(b), y], mode=mode)
        outs.append(f(np.array([True, False, True]), np.array([1, 2, 1])))
    for got, want in zip(outs[0], outs[1]):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(outs[0][0], np.square(np.array([True, False, True])) != 0)
