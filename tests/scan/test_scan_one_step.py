"""scan with ``n_steps`` fixed at 1 builds no Scan node (as in Theano) and gives what the loop
gives: each case is compared with the same scan whose ``n_steps`` is a symbolic input fed 1."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.scan import Scan
from opcore.scan_module import until
from opcore.tensor.shared_randomstreams import RandomStreams


def _has_scan(f) -> bool:
    return any(isinstance(n.op, Scan) for n in f.maker.fgraph.toposort())


#: the rewritten graph on the Python backend (what is checked is the graph, not the C code)
MODE = Mode(linker="py", optimizer="fast_run")


def _both(build, inputs, values, updates_extra=None):
    """Compile ``build(n_steps)`` with n_steps=1 and with a symbolic n_steps fed 1; return the
    two functions' results (outputs, then updated shared values after one call)."""
    results = []
    for sym in (False, True):
        n = T.lscalar("n") if sym else 1
        outs, upd = build(n)
        outs = outs if isinstance(outs, list) else [outs]
        f = opcore.function(inputs + ([n] if sym else []), outs, updates=upd, mode=MODE)
        assert _has_scan(f) == sym
        results.append((outs, f(*values, *([1] if sym else []))))
    return results


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_sequence_taps_state_and_nit_outputs(dtype, go_backwards):
    xs = T.matrix("xs", dtype=dtype)
    h0 = T.vector("h0", dtype=dtype)
    w = T.vector("w", dtype=dtype)

    def step(a, b, c, h, w):
        new_h = T.cast(h * w + a - b + c, dtype)
        return new_h, T.cast(new_h.sum() * 2, dtype)

    def build(n):
        return opcore.scan(step, sequences=dict(input=xs, taps=[-1, 0, 2]),
                           outputs_info=[h0, None], non_sequences=w, n_steps=n,
                           go_backwards=go_backwards, return_list=True)

    rng = np.random.default_rng(0)
    vals = [(rng.normal(size=(6, 3)) * 4).astype(dtype), (rng.normal(size=3) * 4).astype(dtype),
            (rng.normal(size=3) * 4).astype(dtype)]
    (o1, r1), (o2, r2) = _both(build, [xs, h0, w], vals)
    for a, b, va, vb in zip(o1, o2, r1, r2):
        assert a.type.ndim == b.type.ndim and a.dtype == b.dtype == dtype
        assert a.type.broadcastable[0] is False
        assert va.shape == vb.shape and va.shape[0] == 1
        np.testing.assert_array_equal(va, vb)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_several_taps_of_a_state(dtype):
    init = T.vector("init", dtype=dtype)  # three past values, taps -3 and -1 read two of them

    def build(n):
        return opcore.scan(lambda a, b: a * 2 + b, outputs_info=dict(initial=init, taps=[-3, -1]),
                           n_steps=n)

    v = np.array([1.5, -2.0, 4.0, 0.25], dtype)
    (o1, r1), (o2, r2) = _both(build, [init], [v])
    np.testing.assert_array_equal(r1[0], r2[0])
    np.testing.assert_array_equal(r1[0], [v[-3] * 2 + v[-1]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shared_updates_until_and_gradient(dtype):
    acc = opcore.shared(np.array([1.0, 2.0], dtype), name="acc")
    x0 = T.vector("x0", dtype=dtype)
    W = T.matrix("W", dtype=dtype)

    def step(h, W):
        new = T.tanh(T.dot(W, h))
        return [new], {acc: acc + new}, until(new.sum() > 100)

    got = []
    for sym in (False, True):
        acc.set_value(np.array([1.0, 2.0], dtype))
        n = T.lscalar("n") if sym else 1
        hs, upd = opcore.scan(step, outputs_info=x0, non_sequences=W, n_steps=n)
        cost = (hs[-1] ** 2).sum()
        gW, gx0 = opcore.grad(cost, [W, x0])
        f = opcore.function([x0, W] + ([n] if sym else []), [hs, gW, gx0], updates=upd, mode=MODE)
        assert _has_scan(f) == sym
        vals = [np.array([0.3, -0.7], dtype), np.array([[0.5, 1.0], [-2.0, 0.25]], dtype)]
        got.append(f(*vals, *([1] if sym else [])) + [acc.get_value()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == "float64" else 1e-5)
    # the update is the first step's value added once
    h1 = np.tanh(vals[1] @ vals[0])
    np.testing.assert_allclose(got[0][-1], np.array([1.0, 2.0]) + h1, rtol=1e-5)


def test_random_stream_draws_match_the_loop_and_advance():
    """A Theano-tutorial Gibbs step (binomial samples from RandomStreams): the one-step build
    draws what the one-step loop draws, and the stream advances between calls."""
    p = T.dvector("p")
    draws = []
    for sym in (False, True):
        srng = RandomStreams(1234)
        n = T.lscalar("n") if sym else 1

        def step(prev, p):
            s = srng.binomial(size=p.shape, n=1, p=p, dtype="float64")
            return s + 0 * prev

        out, upd = opcore.scan(step, outputs_info=T.zeros_like(p), non_sequences=p, n_steps=n)
        f = opcore.function([p] + ([n] if sym else []), out, updates=upd, mode=MODE)
        assert _has_scan(f) == sym
        pv = np.linspace(0.05, 0.95, 50)
        a = f(pv, *([1] if sym else []))
        b = f(pv, *([1] if sym else []))
        assert a.shape == (1, 50) and not np.array_equal(a, b)
        draws.append((a, b))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])


def test_constant_n_steps_variable_and_single_output_return():
    x0 = T.dscalar("x0")
    out, upd = opcore.scan(lambda h: h * 3, outputs_info=x0, n_steps=T.constant(1, dtype="int8"))
    assert not upd
    f = opcore.function([x0], out, mode=MODE)
    assert not _has_scan(f)
    np.testing.assert_array_equal(f(2.0), [6.0])
    # two steps still loop
    out2, _ = opcore.scan(lambda h: h * 3, outputs_info=x0, n_steps=2)
    f2 = opcore.function([x0], out2, mode=MODE)
    assert _has_scan(f2)
    np.testing.assert_array_equal(f2(2.0), [6.0, 18.0])
