"""MRG31k3p streams: the published Java reference samples, the recurrence by definition,
stream layout, seeding, distributions, updates and pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.sandbox import rng_mrg
from opcore.tensor.random import mrg31k3p
from opcore.sandbox.rng_mrg import MRG_RandomStreams

# Reference samples of L'Ecuyer et al.'s Java implementation (SSJ), as published with Theano's
# tests: main seed [12345]*6, 12 streams, 7 substreams each, 5 draws per substream.
JAVA = np.loadtxt(Path(__file__).parent / "data" / "samples_MRG31k3p_12_7_5.txt")
M1, M2 = 2 ** 31 - 1, 2 ** 31 - 21069


def _definition_draws(state, n):
    """The recurrences of L'Ecuyer & Touzin (2000) with Python integers, one state."""
    x1 = [int(v) for v in state[:3]]  # x1[n-1], x1[n-2], x1[n-3]
    x2 = [int(v) for v in state[3:]]
    out = []
    for _ in range(n):
        a = (2 ** 22 * x1[1] + (2 ** 7 + 1) * x1[2]) % M1
        b = (2 ** 15 * x2[0] + (2 ** 15 + 1) * x2[2]) % M2
        x1 = [a, x1[0], x1[1]]
        x2 = [b, x2[0], x2[1]]
        out.append(((a - b) % M1 or M1) / 2 ** 31)
    return np.array(out), np.array(x1 + x2, dtype="int32")


def test_java_reference_samples_through_mrg_random_streams():
    # each uniform() call starts a new stream (2^134 jump); nstreams=7 gives 7 substreams
    rng = MRG_RandomStreams(seed=12345)
    samples = []
    for _ in range(12):
        f = opcore.function([], rng.uniform(size=(7,), nstreams=7, dtype="float64"))
        samples.append(np.array([f() for _ in range(5)]).T.flatten())
    np.testing.assert_array_equal(np.array(samples).flatten(), JAVA)


def test_java_reference_samples_serial_substreams_with_mrg_uniform():
    samples = []
    cur = np.array([12345] * 6, dtype="int32")
    for _ in range(12):
        st = cur.copy()
        for _ in range(7):
            rstate = opcore.shared(np.array([st], dtype="int32"))
            new_r, u = rng_mrg.mrg_uniform.new(rstate, ndim=None, dtype="float64", size=(1,))
            rstate.default_update = new_r
            f = opcore.function([], u)
            samples.extend(float(f()[0]) for _ in range(5))
            st = rng_mrg.ff_2p72(st)
        cur = rng_mrg.ff_2p134(cur)
    np.testing.assert_array_equal(np.array(samples), JAVA)


def test_vectorised_step_equals_the_recurrence_definition():
    rs = np.random.default_rng(0)
    states = np.concatenate([rs.integers(1, M1, size=(5, 3)), rs.integers(1, M2, size=(5, 3))],
                            axis=1).astype("int32")
    states[0] = [M1 - 1, M1 - 1, M1 - 1, M2 - 1, M2 - 1, M2 - 1]  # wrap-around corner
    new, draws = mrg31k3p.uniform_draws(states, 5 * 13, "float64")
    for s in range(5):
        want, want_state = _definition_draws(states[s], 13)
        np.testing.assert_array_equal(draws[s::5], want)
        np.testing.assert_array_equal(new[s], want_state)


def test_jump_matrices_equal_stepping():
    st = np.array([12345] * 6, dtype="int32")
    for e in (1, 3, 6):
        jumped = mrg31k3p.multMatVect(st, mrg31k3p.matpow2_mod(mrg31k3p.A1p0, e, M1), M1,
                                      mrg31k3p.matpow2_mod(mrg31k3p.A2p0, e, M2), M2)
        _, stepped = _definition_draws(st, 2 ** e)
        np.testing.assert_array_equal(jumped, stepped)


def test_substream_states_chain_ff_2p72_and_inc_rstate():
    r = MRG_RandomStreams(seed=[1, 2, 3, 4, 5, 6])
    start = r.rstate.copy()
    states = r.get_substream_rstates(37, "float32")
    chain = [start]
    for _ in range(36):
        chain.append(rng_mrg.ff_2p72(chain[-1]))
    np.testing.assert_array_equal(states, np.array(chain))
    np.testing.assert_array_equal(r.rstate, rng_mrg.ff_2p134(start))
    r.get_substream_rstates(3, "float32", inc_rstate=False)
    np.testing.assert_array_equal(r.rstate, rng_mrg.ff_2p134(start))


def test_guess_n_streams_and_stream_layout():
    assert rng_mrg.guess_n_streams((10, 20)) == 200 // 6
    assert rng_mrg.guess_n_streams((2, 3)) == 6
    assert rng_mrg.guess_n_streams((1000, 1000)) == 60 * 256
    assert rng_mrg.guess_n_streams(T.lvector()) == 60 * 256
    r = MRG_RandomStreams(seed=42)
    u = r.uniform(size=(10, 20))
    state = r.state_updates[-1][0].get_value()
    assert state.shape == (33, 6)
    _, want = mrg31k3p.uniform_draws(state, 200, u.dtype)
    np.testing.assert_array_equal(opcore.function([], u)(), want.reshape(10, 20))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_dtypes_are_strictly_inside_0_1(dtype):
    r = MRG_RandomStreams(seed=7)
    u = r.uniform(size=(300, 50), dtype=dtype)
    v = opcore.function([], u)()
    assert v.dtype == dtype and v.min() > 0 and v.max() < 1
    assert abs(v.mean() - 0.5) < 0.01


def test_float32_extremes_stay_below_one():
    ints = np.array([1, 2, M1 - 1, M1], dtype="int32")
    for dt in ("float16", "float32", "float64"):
        v = mrg31k3p.ints_to_unit(ints, dt)
        assert v.max() < 1 and v.min() > 0


def test_deterministic_and_seed():
    r = MRG_RandomStreams(seed=99)
    u = r.uniform(size=(4, 5))
    n = r.normal(size=(7,))
    f = opcore.function([], [u, n])
    a1, b1 = f()
    a2, b2 = f()
    assert not np.array_equal(a1, a2)
    r2 = MRG_RandomStreams(seed=99)
    g = opcore.function([], [r2.uniform(size=(4, 5)), r2.normal(size=(7,))])
    c1, d1 = g()
    np.testing.assert_array_equal(a1, c1)
    np.testing.assert_array_equal(b1, d1)
    r.seed()  # back to the constructor's seed
    e1, f1 = f()
    np.testing.assert_array_equal(a1, e1)
    np.testing.assert_array_equal(b1, f1)
    r.seed(5)
    assert not np.array_equal(f()[0], a1)


def test_bad_seeds():
    for bad in (0, 2 ** 31 - 21069, -3):
        with pytest.raises(ValueError):
            MRG_RandomStreams(bad)
    with pytest.raises(ValueError):
        MRG_RandomStreams([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError):
        MRG_RandomStreams([1, 1, 1, 0, 0, 0])
    with pytest.raises(TypeError):
        MRG_RandomStreams([1, 2])


def test_bad_sizes():
    r = MRG_RandomStreams(1)
    with pytest.raises(ValueError):
        r.uniform(size=(2, 0))
    with pytest.raises(TypeError):
        r.uniform(size=2.5)
    with pytest.raises(ValueError):
        r.normal(size=(2, -1))


def test_symbolic_sizes_and_broadcastable():
    r = MRG_RandomStreams(234)
    x = T.matrix("x")
    for dist in (r.uniform, r.normal, r.truncated_normal, r.binomial):
        assert dist(size=(10, 1)).broadcastable == (False, True)
        assert dist(size=(x.shape[0], 1)).broadcastable == (False, True)
    f = opcore.function([x], [r.uniform(size=x.shape), r.normal(size=(x.shape[0], 3))])
    a, b = f(np.zeros((4, 6), dtype=x.dtype))
    assert a.shape == (4, 6) and b.shape == (4, 3)


def test_normal_moments_and_ks():
    stats = pytest.importorskip("scipy.stats")
    r = MRG_RandomStreams(123)
    v = opcore.function([], r.normal(size=(4001,), avg=1.5, std=2.0, dtype="float64"))()
    assert v.shape == (4001,)
    assert stats.kstest(v, stats.norm(1.5, 2.0).cdf).pvalue > 1e-3
    t = opcore.function([], r.normal(size=(5000,), truncate=True, dtype="float64"))()
    assert np.abs(t).max() <= 2.0
    assert stats.kstest(t, stats.truncnorm(-2, 2).cdf).pvalue > 1e-3
    tn = opcore.function([], r.truncated_normal(size=(5000,), std=3.0, dtype="float64"))()
    assert np.abs(tn).max() <= 2.0 * 3.0 / 0.87962566103423978 + 1e-9
    assert abs(tn.std() - 3.0) < 0.1
    assert stats.kstest(tn, stats.truncnorm(-2, 2, scale=3.0 / 0.87962566103423978).cdf
                        ).pvalue > 1e-3


def test_normal_is_box_muller_of_the_uniform_stream():
    r = MRG_RandomStreams(31)
    v = opcore.function([], r.normal(size=(3, 3), dtype="float64"))()
    r2 = MRG_RandomStreams(31)
    u = opcore.function([], r2.uniform(size=(10,), nstreams=60 * 256, dtype="float64"))()
    rad = np.sqrt(-2.0 * np.log(u[:5]))
    th = 2.0 * np.pi * u[5:]
    want = np.concatenate([rad * np.cos(th), rad * np.sin(th)])[:9].reshape(3, 3)
    np.testing.assert_allclose(v, want, rtol=1e-12)


def test_binomial_multinomial_choice():
    r = MRG_RandomStreams(5)
    b = opcore.function([], r.binomial(size=(200, 50), p=0.3))()
    assert b.dtype == np.int64 and set(np.unique(b)) <= {0, 1}
    assert abs(b.mean() - 0.3) < 0.01
    with pytest.raises(NotImplementedError):
        r.binomial(size=(3,), n=2)
    pv = np.array([[0.2, 0.3, 0.5]] * 3000)
    m = opcore.function([], r.multinomial(pvals=pv, n=4))()
    assert m.shape == pv.shape and (m.sum(axis=1) == 4).all()
    np.testing.assert_allclose(m.mean(axis=0), 4 * pv[0], atol=0.06)
    c = opcore.function([], r.choice(size=3, p=np.array([[0.1, 0.2, 0.3, 0.4]] * 2000),
                                     replace=False))()
    assert c.shape == (2000, 3)
    assert all(len(set(row)) == 3 for row in c.tolist())
    np.testing.assert_allclose(np.bincount(c[:, 0], minlength=4) / 2000, [0.1, 0.2, 0.3, 0.4],
                               atol=0.035)
    with pytest.raises(NotImplementedError):
        r.choice(size=1, p=pv)
    with pytest.warns(DeprecationWarning):
        w = r.multinomial_wo_replacement(pvals=np.array([[0.5, 0.5]]), n=2)
    assert sorted(opcore.function([], w)()[0].tolist()) == [0, 1]


def test_multinomial_from_uniform_matches_a_loop():
    from opcore.sandbox.multinomial import ChoiceFromUniform, MultinomialFromUniform

    rs = np.random.default_rng(3)
    p = rs.random((4, 5))
    p /= p.sum(axis=1, keepdims=True)
    u = rs.random(4 * 3)
    pv, uv = T.dmatrix(), T.dvector()
    got = opcore.function([pv, uv], MultinomialFromUniform("int64")(pv, uv, 3))(p, u)
    want = np.zeros((4, 5), dtype="int64")
    for c in range(3):
        for n in range(4):
            want[n, np.searchsorted(np.cumsum(p[n]), u[c * 4 + n], side="right")] += 1
    np.testing.assert_array_equal(got, want)
    ch = opcore.function([pv, uv], ChoiceFromUniform("int64")(pv, uv, 3))(p, u)
    pc = p.copy()
    for c in range(3):
        for n in range(4):
            m = int(np.searchsorted(np.cumsum(pc[n]), u[c * 4 + n], side="right"))
            assert ch[n, c] == m
            pc[n, m] = 0
            pc[n] /= pc[n].sum()
    with pytest.raises(ValueError, match="unis"):
        opcore.function([pv, uv], MultinomialFromUniform("int64")(pv, uv, 2))(p, u)


def test_undefined_grad_names_the_parameter():
    from opcore.gradient import NullTypeGradError

    r = MRG_RandomStreams(1)
    lo = T.dscalar("lo")
    with pytest.raises(NullTypeGradError, match="'low'"):
        T.grad(r.uniform(size=(3,), low=lo, dtype="float64").sum(), lo)
    s = T.dscalar("s")
    with pytest.raises(NullTypeGradError, match="'std'"):
        T.grad(r.normal(size=(3,), std=s, dtype="float64").sum(), s)


def test_dropout_gradient_with_mrg_mask():
    r = MRG_RandomStreams(11)
    W = opcore.shared(np.ones((6, 2)), name="W")
    x = T.dmatrix("x")
    mask = r.binomial(size=x.shape, p=0.5, dtype="float64")
    cost = T.dot(x * mask, W).sum()
    f = opcore.function([x], [T.grad(cost, W), mask])
    xv = np.arange(18.0).reshape(3, 6)
    g, m = f(xv)
    np.testing.assert_allclose(g, np.repeat((xv * m).sum(axis=0)[:, None], 2, axis=1))


def test_default_updates_no_default_updates_and_pickling():
    r = MRG_RandomStreams(8)
    u = r.uniform(size=(5,))
    g = opcore.function([], u, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    f = opcore.function([], u)
    f()
    blob = pickle.dumps(f)
    want = [f(), f()]
    h = pickle.loads(blob)
    for a, b in zip(want, [h(), h()]):
        np.testing.assert_array_equal(a, b)


def test_more_than_2_31_draws_is_an_error():
    with pytest.raises(ValueError, match="2\\*\\*31"):
        mrg31k3p.uniform_draws(np.ones((1, 6), dtype="int32"), 2 ** 31, "float32")


def test_infer_shape_answers_without_drawing():
    r = MRG_RandomStreams(2)
    x = T.dmatrix("x")
    outs = [r.uniform(size=x.shape), r.uniform(size=(3, x.shape[1]))]
    shape_fn = opcore.function([x], [o.shape for o in outs], no_default_updates=True)
    assert not any(isinstance(n.op, rng_mrg.mrg_uniform)
                   for n in shape_fn.maker.fgraph.toposort())
    values = opcore.function([x], outs)(np.zeros((2, 5)))
    for s, v in zip(shape_fn(np.zeros((2, 5))), values):
        assert tuple(s) == v.shape


def test_mrg_stream_inside_scan_advances_through_scan_updates():
    r = MRG_RandomStreams(5)
    x = T.dmatrix("x")

    def step(xt):
        return xt + r.uniform(size=(3,), nstreams=3, dtype="float64")

    out, upd = opcore.scan(step, sequences=[x])
    assert len(upd) == 1
    f = opcore.function([x], out, updates=upd)
    zeros = np.zeros((4, 3))
    first, second = f(zeros), f(zeros)
    # the same streams drawn outside scan: row t, column j is stream j's t-th draw
    r2 = MRG_RandomStreams(5)
    ref = opcore.function([], r2.uniform(size=(8, 3), nstreams=3, dtype="float64"))()
    np.testing.assert_array_equal(first, ref[:4])
    np.testing.assert_array_equal(second, ref[4:])


def test_gradient_through_scan_with_mrg_dropout_matches_finite_differences():
    r = MRG_RandomStreams(5)
    x, W = T.dmatrix("x"), T.dmatrix("W")

    def step(xt, h, w):
        m = r.binomial(size=(3,), p=0.5, dtype="float64", nstreams=3)
        return T.tanh(T.dot(h, w) + xt * m)

    hs, _ = opcore.scan(step, sequences=[x], outputs_info=[T.zeros((3,), "float64")],
                        non_sequences=[W])
    cost = hs.sum()
    f = opcore.function([x, W], [cost, T.grad(cost, W)], no_default_updates=True)
    W0 = np.random.default_rng(0).normal(size=(3, 3))
    X = np.random.default_rng(1).normal(size=(6, 3))
    _, g = f(X, W0)
    eps = 1e-6
    for i, j in [(0, 0), (1, 2), (2, 1)]:
        d = np.zeros((3, 3))
        d[i, j] = eps
        num = (f(X, W0 + d)[0] - f(X, W0 - d)[0]) / (2 * eps)
        np.testing.assert_allclose(g[i, j], num, rtol=1e-5, atol=1e-8)


def test_symbolic_size_vector_with_ndim():
    s = T.lvector("s")
    r = MRG_RandomStreams(1)
    f = opcore.function([s], [r.uniform(size=s, ndim=2), r.normal(size=s, ndim=2)])
    a, b = f([2, 3])
    assert a.shape == b.shape == (2, 3)
