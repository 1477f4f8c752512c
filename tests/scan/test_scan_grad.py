"""Gradients through scan: finite differences (verify_grad), truncation, Rop, backends agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.scan_module import until

warnings.filterwarnings("ignore", message=".*backend 'gpu'.*")


def rng():
    return np.random.default_rng(7)


def test_cumulative_sum_grad():
    def f(v):
        s, _ = opcore.scan(lambda a, acc: acc + a * a, sequences=v, outputs_info=T.constant(0.0))
        return s

    verify_grad(f, [rng().standard_normal(6)], rng=rng())


def elman(x, h0, W, U, b):
    def step(x_t, h_tm1, W, U, b):
        return T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b)

    h, _ = opcore.scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    return h


def test_elman_rnn_grad_finite_differences():
    r = rng()
    pt = [r.standard_normal((5, 2)), r.standard_normal(3), r.standard_normal((2, 3)),
          r.standard_normal((3, 3)) * 0.5, r.standard_normal(3)]
    verify_grad(elman, pt, rng=r, n_tests=1)


def test_elman_rnn_grad_backends_agree():
    r = rng()
    x, W, U = T.dmatrices("x", "W", "U")
    h0, b = T.dvectors("h0", "b")
    cost = (elman(x, h0, W, U, b) ** 2).sum()
    gs = T.grad(cost, [x, h0, W, U, b])
    vals = [r.standard_normal((20, 4)), r.standard_normal(8), r.standard_normal((4, 8)),
            r.standard_normal((8, 8)) * 0.3, r.standard_normal(8)]
    fast = opcore.function([x, h0, W, U, b], gs)(*vals)
    slow = opcore.function([x, h0, W, U, b], gs, mode="FAST_COMPILE")(*vals)
    for a, c in zip(fast, slow):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)


def test_recurrent_taps_grad():
    def fib(f0, c):
        out, _ = opcore.scan(lambda a, b, c: a * c + T.sin(b),
                             outputs_info=dict(initial=f0, taps=[-2, -1]), non_sequences=c,
                             n_steps=5)
        return out

    verify_grad(fib, [rng().standard_normal(3), np.array(0.7)], rng=rng())


def test_sequence_taps_and_backwards_grad():
    def f(x, y):
        out, _ = opcore.scan(lambda a, b, c, d: a * b + c * d,
                             sequences=[dict(input=x, taps=[-1, 0, 2]), y], go_backwards=True,
                             n_steps=3)
        return out

    verify_grad(f, [rng().standard_normal(7), rng().standard_normal(4)], rng=rng())


def test_multiple_outputs_and_nit_grad():
    def f(x, w):
        def step(a, h, w):
            hn = T.tanh(a * w + h)
            return hn, hn * a  # recurrent + non-recurrent

        (h, y), _ = opcore.scan(step, sequences=x, outputs_info=[T.zeros_like(w), None],
                                non_sequences=w)
        return h.sum() + (y ** 2).sum()

    verify_grad(f, [rng().standard_normal(5), rng().standard_normal(2)], rng=rng())


def test_until_grad():
    def f(v):
        out, _ = opcore.scan(lambda h: (h * 1.5, until(T.sum(h) > 100.0)), outputs_info=v,
                             n_steps=50)
        return out

    verify_grad(f, [np.array([1.0, 2.0])], rng=rng())


def test_truncate_gradient_matches_truncated_unrolled_graph():
    n, k = 6, 2
    xs = T.dvector("xs")
    w = T.dscalar("w")
    h, _ = opcore.scan(lambda a, h, w: T.tanh(a + h * w), sequences=xs,
                       outputs_info=T.constant(0.0), non_sequences=w, truncate_gradient=k)
    cost = h[-1:].sum()
    gx, gw = T.grad(cost, [xs, w])
    f = opcore.function([xs, w], [gx, gw])
    xv, wv = rng().standard_normal(n), 0.8
    # reference: the state before the window is a constant, the last k steps are unrolled
    hv = 0.0
    for t in range(n - k):
        hv = np.tanh(xv[t] + hv * wv)
    c = T.dscalar("c")
    xs_w = T.dvector("xs_w")
    hh = c
    for t in range(k):
        hh = T.tanh(xs_w[t] + hh * w)
    ref = opcore.function([xs_w, w, c], T.grad(hh, [xs_w, w]), mode="FAST_COMPILE")(
        xv[n - k:], wv, hv)
    got_x, got_w = f(xv, wv)
    np.testing.assert_allclose(got_x[:n - k], 0.0)
    np.testing.assert_allclose(got_x[n - k:], ref[0], rtol=1e-10)
    np.testing.assert_allclose(got_w, ref[1], rtol=1e-10)
    # without truncation the early steps receive gradient
    h2, _ = opcore.scan(lambda a, h, w: T.tanh(a + h * w), sequences=xs,
                        outputs_info=T.constant(0.0), non_sequences=w)
    full = opcore.function([xs, w], T.grad(h2[-1:].sum(), xs))(xv, wv)
    assert np.all(full[:n - k] != 0.0)


def test_rop_matches_finite_differences():
    W, V = T.dmatrices("W", "V")
    h, _ = opcore.scan(lambda h, W: T.tanh(T.dot(h, W)), outputs_info=T.ones(3),
                       non_sequences=W, n_steps=4)
    r = opcore.gradient.Rop(h, W, V)
    fr = opcore.function([W, V], r)
    fh = opcore.function([W], h)
    Wv = rng().standard_normal((3, 3)) * 0.5
    Vv = rng().standard_normal((3, 3))
    eps = 1e-6
    num = (fh(Wv + eps * Vv) - fh(Wv - eps * Vv)) / (2 * eps)
    np.testing.assert_allclose(fr(Wv, Vv), num, rtol=1e-5, atol=1e-8)


def test_integer_inputs_get_no_gradient():
    idx = T.ivector("idx")
    w = T.dvector("w")
    out, _ = opcore.scan(lambda i, w: w[i] ** 2, sequences=idx, non_sequences=w)
    g = opcore.function([idx, w], T.grad(out.sum(), w), mode="FAST_COMPILE")
    wv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g(np.array([0, 2, 2], dtype="int32"), wv), [2.0, 0.0, 12.0])
    with pytest.raises(Exception):
        T.grad(out.sum(), idx)


def _row_cumsum(r):
    s, _ = opcore.scan(lambda a, acc: acc + a * a, sequences=r, outputs_info=T.constant(0.0))
    return s


def test_nested_scan_forward_and_grad():
    M = T.dmatrix("M")
    out, _ = opcore.scan(_row_cumsum, sequences=M)
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(opcore.function([M], out)(v), np.cumsum(v ** 2, axis=1))
    verify_grad(lambda m: opcore.scan(_row_cumsum, sequences=m)[0],
                [rng().standard_normal((3, 4))], rng=rng())


def test_ifelse_inside_scan_forward_and_grad():
    from opcore.ifelse import ifelse

    def run(x):
        out, _ = opcore.scan(lambda a, h: ifelse(T.gt(a, 0), h * a, h * 0.5), sequences=x,
                             outputs_info=T.constant(1.0))
        return out

    x = T.dvector("x")
    val = np.array([1.5, -1.0, 2.0, -3.0])
    ref, h = [], 1.0
    for a in val:
        h = h * a if a > 0 else h * 0.5
        ref.append(h)
    np.testing.assert_allclose(opcore.function([x], run(x))(val), ref)
    verify_grad(run, [val], rng=rng())
