"""scan forward: the tutorial's polynomial, NumPy loops, taps, updates, until, errors, shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.scan import Scan, ScanError
from opcore.scan_module import until

warnings.filterwarnings("ignore", message=".*backend 'gpu'.*")

MODES = [None, "FAST_COMPILE"]


def _scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def test_tutorial_polynomial():
    def one_step(coef, power, x):
        return coef * x ** power

    coefs = T.ivector()
    powers = T.ivector()
    x = T.iscalar()
    result, updates = opcore.scan(fn=one_step, sequences=[coefs, powers], outputs_info=None,
                                  non_sequences=x)
    assert len(updates) == 0
    f_poly = opcore.function([x, coefs, powers], result, allow_input_downcast=True)
    coef_val = np.array([2, 3, 4, 6, 5])  # int64 arrays into ivector inputs
    power_val = np.array([0, 1, 2, 3, 4])
    out = f_poly(10, coef_val, power_val)
    assert out.tolist() == [2, 30, 400, 6000, 50000]
    assert out.tolist() == [c * 10 ** p for c, p in zip(coef_val, power_val)]
    f_sum = opcore.function([x, coefs, powers], result.sum(), allow_input_downcast=True)
    assert int(f_sum(10, coef_val, power_val)) == 56432
    with pytest.raises(TypeError, match="argument 1"):
        opcore.function([x, coefs, powers], result)(10, coef_val, power_val)


@pytest.mark.parametrize("mode", MODES)
def test_cumulative_sum(mode):
    v = T.dvector("v")
    s, upd = opcore.scan(lambda a, acc: acc + a, sequences=v, outputs_info=T.constant(0.0))
    f = opcore.function([v], s, mode=mode)
    val = np.random.default_rng(0).standard_normal(17)
    np.testing.assert_allclose(f(val), np.cumsum(val))
    assert f(np.zeros(0)).shape == (0,)


@pytest.mark.parametrize("mode", MODES)
def test_fibonacci_two_taps(mode):
    f0 = T.lvector("f0")
    k = T.iscalar("k")
    fib, _ = opcore.scan(lambda a, b: a + b, outputs_info=dict(initial=f0, taps=[-2, -1]),
                         n_steps=k)
    f = opcore.function([f0, k], fib, mode=mode)
    ref = [0, 1]
    for _ in range(20):
        ref.append(ref[-1] + ref[-2])
    assert f(np.array([0, 1]), 20).tolist() == ref[2:]
    # extra history entries before the taps are ignored; only the last two are read
    assert f(np.array([99, 0, 1]), 5).tolist() == ref[2:7]


def _np_elman(x, h0, W, U, b):
    h = h0
    hs = []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ W + h @ U + b)
        hs.append(h)
    return np.array(hs)


def elman(x, h0, W, U, b):
    def step(x_t, h_tm1, W, U, b):
        return T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b)

    h, _ = opcore.scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    return h


@pytest.mark.parametrize("mode", MODES)
def test_elman_rnn_forward(mode):
    rng = np.random.default_rng(3)
    x, W, U = T.dmatrices("x", "W", "U")
    h0, b = T.dvectors("h0", "b")
    f = opcore.function([x, h0, W, U, b], elman(x, h0, W, U, b), mode=mode)
    vals = [rng.standard_normal((9, 3)), rng.standard_normal(5), rng.standard_normal((3, 5)),
            rng.standard_normal((5, 5)) * 0.5, rng.standard_normal(5)]
    np.testing.assert_allclose(f(*vals), _np_elman(*vals), rtol=1e-10)


def test_power_iteration_until():
    rng = np.random.default_rng(5)
    A = T.dmatrix("A")
    v0 = T.dvector("v0")

    def step(v, A):
        w = T.dot(A, v)
        w = w / T.sqrt((w ** 2).sum())
        return w, until(T.sqrt(((w - v) ** 2).sum()) < 1e-9)

    vs, _ = opcore.scan(step, outputs_info=v0, non_sequences=A, n_steps=500)
    f = opcore.function([A, v0], [vs[-1], vs.shape[0]])
    M = rng.standard_normal((6, 6))
    M = M @ M.T
    v = np.ones(6)
    steps = 0
    for _ in range(500):
        w = M @ v
        w /= np.linalg.norm(w)
        steps += 1
        done = np.linalg.norm(w - v) < 1e-9
        v = w
        if done:
            break
    got, n = f(M, np.ones(6))
    assert int(n) == steps < 500
    np.testing.assert_allclose(got, v)
    ev = np.linalg.eigh(M)[1][:, -1]
    np.testing.assert_allclose(np.abs(got), np.abs(ev), atol=1e-6)


def test_sequence_taps_and_go_backwards():
    x = T.dvector("x")
    r, _ = opcore.scan(lambda a, b, c: a * b + c, sequences=dict(input=x, taps=[-1, 0, 2]))
    val = np.arange(1.0, 8.0)
    ref = [val[t - 1] * val[t] + val[t + 2] for t in range(1, len(val) - 2)]
    np.testing.assert_allclose(opcore.function([x], r)(val), ref)
    back, _ = opcore.scan(lambda a, acc: acc + a, sequences=x, outputs_info=T.constant(0.0),
                          go_backwards=True)
    np.testing.assert_allclose(opcore.function([x], back)(val), np.cumsum(val[::-1]))
    # taps keep their forward meaning; with n_steps the first n entries are visited backwards
    r, _ = opcore.scan(lambda a, b: a * 10 + b, sequences=dict(input=x, taps=[-1, 0]),
                       go_backwards=True)
    ref = [val[t - 1] * 10 + val[t] for t in range(len(val) - 1, 0, -1)]
    np.testing.assert_allclose(opcore.function([x], r)(val), ref)
    r, _ = opcore.scan(lambda a: a * 1.0, sequences=x, go_backwards=True, n_steps=3)
    np.testing.assert_allclose(opcore.function([x], r)(val), val[:3][::-1])


def test_n_steps_alone_multiple_outputs_and_none():
    k = T.iscalar("k")
    a0 = T.dscalar("a0")

    def step(a):
        return a * 2, a + 1  # the second output is not fed back

    (a, b), _ = opcore.scan(step, outputs_info=[a0, None], n_steps=k)
    f = opcore.function([a0, k], [a, b])
    ra, rb = f(1.0, 4)
    np.testing.assert_allclose(ra, [2, 4, 8, 16])
    np.testing.assert_allclose(rb, [2, 3, 5, 9])
    outs, _ = opcore.scan(lambda: T.constant(3.0), n_steps=3)
    np.testing.assert_allclose(opcore.function([], outs)(), [3.0, 3.0, 3.0])


def test_shared_variable_updates():
    acc = opcore.shared(np.float64(0.0), name="acc")
    count = opcore.shared(np.int64(0), name="count")
    x = T.dvector("x")

    def step(v):
        return v * acc, {acc: acc + v, count: count + 1}

    out, updates = opcore.scan(step, sequences=x)
    assert set(updates) == {acc, count}
    f = opcore.function([x], out, updates=updates)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), [0.0, 2.0, 9.0])
    assert acc.get_value() == 6.0 and count.get_value() == 3
    np.testing.assert_allclose(f(np.array([1.0])), [6.0])
    assert acc.get_value() == 7.0 and count.get_value() == 4


def test_closure_variables_and_strict():
    x = T.dvector("x")
    w = T.dscalar("w")
    out, _ = opcore.scan(lambda a: a * w, sequences=x)  # w captured, not passed
    np.testing.assert_allclose(opcore.function([x, w], out)(np.array([1.0, 2.0]), 3.0), [3, 6])
    # Theano: strict=True concerns shared variables only; a free symbolic w is accepted
    out, _ = opcore.scan(lambda a: a * w, sequences=x, strict=True)
    np.testing.assert_allclose(opcore.function([x, w], out)(np.array([1.0, 2.0]), 3.0), [3, 6])
    out, _ = opcore.scan(lambda a, w_: a * w_, sequences=x, non_sequences=w, strict=True)
    np.testing.assert_allclose(opcore.function([x, w], out)(np.array([1.0, 2.0]), 3.0), [3, 6])


def test_strict_checks_shared_variables_only():
    x = T.dmatrix("x")
    W = opcore.shared(np.arange(6.0).reshape(2, 3), name="W")
    with pytest.raises(ScanError, match="strict=True.*shared variable W"):
        opcore.scan(lambda a: T.dot(W, a), sequences=x, strict=True)
    # reached through a non_sequences expression (an LSTM layer passing W.T): accepted
    out, _ = opcore.scan(lambda a, wt: T.dot(a, wt), sequences=x, non_sequences=[W.T],
                         strict=True)
    xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(opcore.function([x], out)(xv), xv @ W.get_value().T)


def test_loop_invariant_computation_is_hoisted():
    x = T.dvector("x")
    W = T.dmatrix("W")
    h, _ = opcore.scan(lambda a, h, W: T.tanh(a * T.dot(h, T.exp(W).T)), sequences=x,
                       outputs_info=T.ones(3), non_sequences=W)
    op = h.owner.op
    inner_ops = {type(n.op).__name__ for n in op.fgraph.toposort()}
    # exp(W).T does not depend on the step: it is computed once, outside the loop
    assert not any(getattr(getattr(n.op, "scalar_op", None), "name", "") == "exp"
                   for n in op.fgraph.toposort()), inner_ops
    assert not any("1,0" in str(n.op).replace(" ", "") for n in op.fgraph.toposort()), inner_ops
    f = opcore.function([x, W], h)
    Wv = np.random.default_rng(0).standard_normal((3, 3))
    ref, hv = [], np.ones(3)
    for a in [0.5, -1.0]:
        hv = np.tanh(a * hv @ np.exp(Wv).T)
        ref.append(hv)
    np.testing.assert_allclose(f(np.array([0.5, -1.0]), Wv), ref)


def test_save_last_only_rewrite():
    x = T.dvector("x")
    s, _ = opcore.scan(lambda a, acc: acc + a, sequences=x, outputs_info=T.constant(0.0))
    f = opcore.function([x], s[-1])
    (node,) = _scan_nodes(f)
    assert node.op.info.save_last == (True,)
    g = opcore.function([x], [s[-1], s])  # the full sequence is used: every step kept
    (node,) = _scan_nodes(g)
    assert node.op.info.save_last == (False,)
    val = np.arange(6.0)
    assert float(f(val)) == 15.0
    np.testing.assert_allclose(g(val)[1], np.cumsum(val))


def test_infer_shape_without_running():
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    h, _ = opcore.scan(lambda a, h: h + a, sequences=x, outputs_info=h0)
    node = h.owner
    shp = node.op.infer_shape(node, [tuple(T.shape_i(i, d) for d in range(i.ndim))
                                     for i in node.inputs])
    f = opcore.function([x, h0], list(shp[0]), on_unused_input="ignore")
    assert [int(v) for v in f(np.ones((4, 3)), np.ones(3))] == [4, 3]
    assert tuple(opcore.function([x, h0], h.shape)(np.ones((4, 3)), np.ones(3))) == (4, 3)


def test_jacobian_uses_scan_for_symbolic_lengths():
    x = T.dvector("x")
    J = opcore.gradient.jacobian(x ** 2, x)
    val = np.array([1.0, 2.0, 3.0])
    # Python backend: the C IncSubtensor cannot yet write an integer index of a vector
    f = opcore.function([x], J, mode="FAST_COMPILE")
    np.testing.assert_allclose(f(val), np.diag(2 * val))


# -- errors ------------------------------------------------------------------------------------
def test_error_wrong_number_of_outputs():
    x = T.dvector("x")
    with pytest.raises(ScanError, match="returned 2 output.*outputs_info has 1"):
        opcore.scan(lambda a, h: (h + a, h), sequences=x, outputs_info=T.constant(0.0))


def test_error_wrong_return_type():
    x = T.dvector("x")
    with pytest.raises(ScanError, match="fn returned str"):
        opcore.scan(lambda a: "oops", sequences=x)


def test_error_recurrent_type_changes():
    x = T.dvector("x")
    with pytest.raises(ScanError, match="dtype float64 .* int64.*T.cast"):
        opcore.scan(lambda a, h: h + a, sequences=x, outputs_info=0)
    with pytest.raises(ScanError, match="dimension"):
        opcore.scan(lambda a, h: (h + a).sum(), sequences=x, outputs_info=T.dvector())


def test_error_taps_out_of_range():
    x = T.dvector("x")
    with pytest.raises(ScanError, match="taps out of range.*negative"):
        opcore.scan(lambda h: h, outputs_info=dict(initial=x, taps=[0]), n_steps=2)
    f0 = T.dvector("f0")
    fib, _ = opcore.scan(lambda a, b: a + b, outputs_info=dict(initial=f0, taps=[-3, -1]),
                         n_steps=3)
    f = opcore.function([f0], fib)
    with pytest.raises(ValueError, match="taps out of range.*tap -3.*3 entries.*got 2"):
        f(np.array([1.0, 2.0]))


@pytest.mark.parametrize("mode", MODES)
def test_sequences_of_different_lengths_run_over_the_shortest(mode):
    # Theano's docs: scan truncates to the shortest sequence; its polynomial example relies on it
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    components, _ = opcore.scan(lambda c, p, v: c * v ** p, outputs_info=None,
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    f = opcore.function([coefficients, x], components.sum(), mode=mode)
    assert float(f(np.array([1.0, 0.0, 2.0]), 3.0)) == 19.0  # Theano's documented value
    a, b = T.dvector("alpha"), T.dvector("beta")
    out, _ = opcore.scan(lambda u, v: u + v, sequences=[a, b])
    g = opcore.function([a, b], out, mode=mode)
    np.testing.assert_array_equal(g(np.arange(3.0), np.ones(5)), np.arange(3.0) + 1)
    np.testing.assert_array_equal(g(np.arange(3.0), np.ones(2)), [1.0, 2.0])
    # with taps, the lengths after the tap cut are compared
    out, _ = opcore.scan(lambda u, v: u * v, sequences=[dict(input=a, taps=[-1]), b])
    np.testing.assert_array_equal(opcore.function([a, b], out, mode=mode)(
        np.arange(1.0, 6.0), np.full(10, 2.0)), 2 * np.arange(1.0, 5.0))
    # n_steps longer than a sequence is an error naming it
    out, _ = opcore.scan(lambda u, v: u + v, sequences=[a, b], n_steps=4)
    with pytest.raises(ValueError, match="beta has 2 entries.*4 steps"):
        opcore.function([a, b], out, mode=mode)(np.ones(5), np.ones(2))


@pytest.mark.parametrize("mode", MODES)
def test_sequence_taps_span_includes_tap_zero(mode):
    # Theano/Theano#2946: taps cut the sequence as if tap 0 were used too
    x = T.dvector("x")
    X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    (a, b), _ = opcore.scan(lambda xm2, xm1: [xm2 * 1.0, xm1 * 1.0],
                            sequences=dict(input=x, taps=[-2, -1]))
    c, _ = opcore.scan(lambda xm1, xp1: xp1 - xm1, sequences=dict(input=x, taps=[-1, 1]))
    d, _ = opcore.scan(lambda xm1: xm1 * 1.0, sequences=dict(input=x, taps=[-1]))
    e, _ = opcore.scan(lambda xp2: xp2 * 1.0, sequences=dict(input=x, taps=[2]))
    got = opcore.function([x], [a, b, c, d, e], mode=mode)(X)
    for g, ref in zip(got, [X[:-2], X[1:-1], X[2:] - X[:-2], X[:-1], X[2:]]):
        np.testing.assert_array_equal(g, ref)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_last_step_of_zero_steps_raises_in_every_mode(mode):
    # pymc-devs/pytensor#1288: keeping only the last step must not turn xs[-1] of an empty
    # result into the initial value
    n = T.iscalar("n")
    x0 = T.dvector("x0")
    xs, _ = opcore.scan(lambda xtm1: xtm1 + 1, outputs_info=[x0], n_steps=n)
    f = opcore.function([n, x0], xs[-1], mode=mode)
    g = opcore.function([n, x0], [xs[-1], xs], mode=mode)
    np.testing.assert_array_equal(f(3, np.array([0.0, 1.0])), [3.0, 4.0])
    for fn in (f, g):
        with pytest.raises(IndexError):
            fn(0, np.array([0.0, 1.0]))
    # shared-variable updates of a zero-step scan leave the variable unchanged
    acc = opcore.shared(np.float64(2.0), name="acc")
    _, upd = opcore.scan(lambda: {acc: acc + 1}, n_steps=n)
    h = opcore.function([n], [], updates=upd, mode=mode)
    h(0)
    assert acc.get_value() == 2.0
    h(3)
    assert acc.get_value() == 5.0


def test_error_no_length():
    with pytest.raises(ScanError, match="sequences or n_steps"):
        opcore.scan(lambda h: h * 2, outputs_info=T.dscalar())


def test_pickle_and_debugmode():
    import pickle

    from opcore.ifelse import ifelse

    x = T.dvector("x")
    c = T.dscalar("c")
    s, _ = opcore.scan(lambda a, acc: acc + a, sequences=x, outputs_info=T.constant(0.0))
    out = ifelse(T.gt(c, 0), s, x)
    val = np.arange(4.0)
    g = pickle.loads(pickle.dumps(opcore.function([c, x], out)))
    np.testing.assert_allclose(g(1.0, val), np.cumsum(val))
    np.testing.assert_allclose(g(-1.0, val), val)
    d = opcore.function([c, x], [out, T.grad(s.sum(), x)], mode="DebugMode")
    r = d(1.0, val)
    np.testing.assert_allclose(r[0], np.cumsum(val))
    np.testing.assert_allclose(r[1], np.arange(4.0, 0.0, -1.0))


def test_opcore_scan_is_callable_and_a_package():
    import subprocess
    import sys

    code = ("import opcore, opcore.tensor as T\n"
            "assert opcore.scan.until is opcore.scan_module.until\n"
            "out, _ = opcore.scan(lambda h: h * 2, outputs_info=T.dscalar(), n_steps=2)\n"
            "from opcore.scan import scan\n"
            "assert callable(scan) and callable(opcore.scan)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
