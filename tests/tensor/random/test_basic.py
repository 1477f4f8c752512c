"""opcore.tensor.random: distributions against scipy.stats, shapes, updates, pickling, grads."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import NullTypeGradError
from opcore.tensor import random as R
from opcore.tensor.random import RandomStream

stats = pytest.importorskip("scipy.stats")

N = 4000

# name -> (params, scipy frozen distribution, discrete?)
CASES = {
    "uniform": ((-1.0, 3.0), lambda: stats.uniform(-1.0, 4.0), False),
    "normal": ((2.0, 0.5), lambda: stats.norm(2.0, 0.5), False),
    "integers": ((2, 9), lambda: stats.randint(2, 9), True),
    "binomial": ((10, 0.3), lambda: stats.binom(10, 0.3), True),
    "bernoulli": ((0.3,), lambda: stats.bernoulli(0.3), True),
    "poisson": ((4.0,), lambda: stats.poisson(4.0), True),
    "gamma": ((2.5, 1.5), lambda: stats.gamma(2.5, scale=1.5), False),
    "beta": ((2.0, 5.0), lambda: stats.beta(2.0, 5.0), False),
    "exponential": ((2.0,), lambda: stats.expon(scale=2.0), False),
}


def _draw(name, params, size=(N,), seed=11, **kw):
    srng = RandomStream(seed)
    return opcore.function([], getattr(srng, name)(*params, size=size, **kw))()


@pytest.mark.parametrize("name", sorted(CASES))
def test_scalar_distribution_moments_and_ks(name):
    params, dist, discrete = CASES[name]
    x = _draw(name, params)
    d = dist()
    assert x.shape == (N,)
    se = d.std() / np.sqrt(N)
    assert abs(x.mean() - d.mean()) < 5 * se
    assert abs(x.std() - d.std()) < 0.1 * d.std()
    if discrete:
        # chi-square-like check on the probability mass of the common values
        vals, counts = np.unique(x, return_counts=True)
        for v, c in zip(vals, counts):
            p = d.pmf(v)
            assert abs(c / N - p) < 5 * np.sqrt(p * (1 - p) / N) + 1e-3, (v, c / N, p)
    else:
        assert stats.kstest(x, d.cdf).pvalue > 1e-3


def test_multinomial_dirichlet_categorical_mvn_choice_permutation():
    srng = RandomStream(3)
    pv = np.array([0.2, 0.3, 0.5])
    m = opcore.function([], srng.multinomial(20, pv, size=(N,)))()
    assert m.shape == (N, 3) and (m.sum(axis=1) == 20).all()
    np.testing.assert_allclose(m.mean(axis=0), 20 * pv, atol=0.1)
    alpha = np.array([1.0, 2.0, 3.0])
    d = opcore.function([], srng.dirichlet(alpha, size=(N,)))()
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    np.testing.assert_allclose(d.mean(axis=0), alpha / alpha.sum(), atol=0.01)
    assert stats.kstest(d[:, 0], stats.beta(1.0, 5.0).cdf).pvalue > 1e-3
    c = opcore.function([], srng.categorical(pv, size=(N,)))()
    np.testing.assert_allclose(np.bincount(c, minlength=3) / N, pv, atol=0.03)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    mv = opcore.function([], srng.multivariate_normal(np.array([1.0, -1.0]), cov, size=(N,)))()
    np.testing.assert_allclose(mv.mean(axis=0), [1.0, -1.0], atol=0.1)
    np.testing.assert_allclose(np.cov(mv.T), cov, atol=0.15)
    ch = opcore.function([], srng.choice(5, size=(N,), p=np.array([.1, .1, .1, .1, .6])))()
    np.testing.assert_allclose(np.bincount(ch, minlength=5) / N, [.1, .1, .1, .1, .6],
                               atol=0.03)
    nr = opcore.function([], srng.choice(np.arange(10.0), size=(10,), replace=False))()
    assert sorted(nr.tolist()) == list(np.arange(10.0))
    perm = opcore.function([], srng.permutation(7))()
    assert sorted(perm.tolist()) == list(range(7))
    pv2 = opcore.function([], srng.permutation(np.array([3.0, 4.0, 5.0])))()
    assert sorted(pv2.tolist()) == [3.0, 4.0, 5.0]


def test_categorical_batch_parameters():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out = opcore.function([], RandomStream(1).categorical(p))()
    assert out.tolist() == [0, 2]


def test_same_numbers_as_numpy_generator():
    # one draw of RandomStream(seed) uses the first spawned SeedSequence child
    seq = np.random.SeedSequence(5).spawn(1)[0]
    want = np.random.default_rng(seq).normal(1.0, 2.0, size=(3, 4))
    got = opcore.function([], RandomStream(5).normal(1.0, 2.0, size=(3, 4)))()
    np.testing.assert_array_equal(got, want)


def test_broadcasting_and_symbolic_size_and_dtype():
    srng = RandomStream(0)
    loc = T.dvector("loc")
    x = srng.normal(loc, np.array([[1e-9], [1e-9]]))
    assert x.ndim == 2 and x.type.shape[1] is None
    v = opcore.function([loc], x)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(v, [[1, 2, 3], [1, 2, 3]], atol=1e-6)
    m = T.dmatrix("m")
    u = srng.uniform(0.0, 1.0, size=m.shape, dtype="float32")
    assert u.dtype == "float32"
    out = opcore.function([m], u)(np.zeros((4, 5)))
    assert out.shape == (4, 5) and out.dtype == np.float32
    k = T.lscalar("k")
    z = srng.integers(0, 3, size=(k, 2), dtype="int16")
    zz = opcore.function([k], z)(6)
    assert zz.shape == (6, 2) and zz.dtype == np.int16 and zz.min() >= 0 and zz.max() < 3


def test_bad_inputs_raise_clear_errors():
    srng = RandomStream(0)
    with pytest.raises(ValueError, match="negative"):
        srng.normal(0, 1, size=(-1, 2))
    with pytest.raises(ValueError, match="pvals"):
        srng.multinomial(3, 0.5)
    with pytest.raises(TypeError, match="rng must be a generator"):
        R.NormalRV()(T.dscalar(), None, 0.0, 1.0)
    f = opcore.function([], srng.normal(np.zeros(3), np.ones(4)))
    with pytest.raises(ValueError, match="broadcast"):
        f()  # NumPy's error


@pytest.mark.parametrize("name,params,size", [
    ("uniform", (np.zeros((3, 1)), np.ones(4)), None),
    ("normal", (0.0, 1.0), (2, 5)),
    ("integers", (0, 5), (6,)),
    ("binomial", (np.array([3, 4, 5]), 0.5), None),
    ("bernoulli", (0.3,), (2, 3)),
    ("poisson", (np.ones((2, 3)),), None),
    ("gamma", (2.0, 1.0), (4,)),
    ("beta", (2.0, np.ones(5)), None),
    ("exponential", (1.0,), (3, 2)),
    ("choice", (5,), (2, 3)),
    ("permutation", (6,), None),
    ("multinomial", (4, np.ones((2, 3)) / 3), None),
    ("categorical", (np.ones((4, 3)) / 3,), None),
    ("dirichlet", (np.ones(3),), (5,)),
    ("multivariate_normal", (np.zeros(2), np.eye(2)), (3,)),
])
def test_infer_shape(name, params, size, infer_shape):
    srng = RandomStream(0)
    x = getattr(srng, name)(*params, size=size)
    infer_shape([], [x], [])


def test_infer_shape_symbolic_size(infer_shape):
    m = T.dmatrix("m")
    srng = RandomStream(0)
    infer_shape([m], [srng.normal(0, 1, size=m.shape), srng.multinomial(3, [.5, .5],
                                                                        size=(m.shape[0],))],
                [np.zeros((3, 4))])
    v = T.dvector("v")
    infer_shape([v], [srng.normal(v, 1.0), srng.permutation(v)], [np.zeros(5)])


def test_default_updates_and_no_default_updates():
    srng = RandomStream(7)
    x = srng.uniform(size=(5,))
    f = opcore.function([], x)
    a, b = f(), f()
    assert not np.array_equal(a, b)
    g = opcore.function([], x, no_default_updates=True)
    c, d = g(), g()
    np.testing.assert_array_equal(c, d)
    h = opcore.function([], x, no_default_updates=[x.rng])
    np.testing.assert_array_equal(h(), h())
    # an explicit update wins over the default one
    upd = opcore.function([], x, updates=[(x.rng, x.rng)])
    np.testing.assert_array_equal(upd(), upd())


def test_seed_reseeds_every_stream():
    srng = RandomStream(1)
    x, y = srng.normal(size=(3,)), srng.uniform(size=(2,))
    f = opcore.function([], [x, y])
    first = f()
    f()
    srng.seed(1)
    again = f()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    srng.seed(2)
    assert not np.array_equal(f()[0], first[0])


def test_shared_generator_and_randomstate():
    g = opcore.shared(np.random.default_rng(3), name="g")
    assert isinstance(g.type, R.RandomGeneratorType)
    x = R.normal(0, 1, size=(3,), rng=g)
    f = opcore.function([], x, updates=[(g, x.owner.outputs[0])])
    np.testing.assert_array_equal(f(), np.random.default_rng(3).normal(0, 1, size=3))
    rs = opcore.shared(np.random.RandomState(9))
    assert isinstance(rs.type, R.RandomStateType)
    y = R.uniform(size=(4,), rng=rs)
    np.testing.assert_array_equal(opcore.function([], y)(),
                                  np.random.RandomState(9).uniform(size=4))
    with pytest.raises(TypeError):
        g.set_value(np.zeros(3))
    # the value is copied unless borrow=True
    gen = np.random.default_rng(0)
    s = opcore.shared(gen)
    assert s.get_value(borrow=True) is not gen


def test_pickled_function_resumes_the_stream():
    srng = RandomStream(21)
    f = opcore.function([], srng.normal(size=(4,)))
    f()
    blob = pickle.dumps(f)
    want = [f(), f()]
    g = pickle.loads(blob)
    got = [g(), g()]
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)


def test_unused_inplace_generator_not_shared_between_functions():
    srng = RandomStream(4)
    x = srng.uniform(size=(3,))
    f1 = opcore.function([], x)
    f2 = opcore.function([], x)
    a = f1()
    b = f2()  # same shared generator: f2 continues where f1 left it
    assert not np.array_equal(a, b)


def test_reparameterisation_gradients_match_finite_differences():
    srng = RandomStream(8)
    loc, scale = T.dscalar("loc"), T.dscalar("scale")
    x = srng.normal(loc, scale, size=(50,))
    cost = (x ** 2).sum()
    g = opcore.function([loc, scale], T.grad(cost, [loc, scale]), no_default_updates=True)
    c = opcore.function([loc, scale], cost, no_default_updates=True)
    eps = 1e-6
    gl, gs = g(0.5, 2.0)
    np.testing.assert_allclose(gl, (c(0.5 + eps, 2.0) - c(0.5 - eps, 2.0)) / (2 * eps), rtol=1e-5)
    np.testing.assert_allclose(gs, (c(0.5, 2.0 + eps) - c(0.5, 2.0 - eps)) / (2 * eps), rtol=1e-5)
    lo, hi = T.dvector("lo"), T.dscalar("hi")
    u = srng.uniform(lo, hi, size=(20, 3))
    ucost = (u ** 3).sum()
    gu = opcore.function([lo, hi], T.grad(ucost, [lo, hi]), no_default_updates=True)
    cu = opcore.function([lo, hi], ucost, no_default_updates=True)
    lov = np.array([-1.0, 0.0, 0.5])
    glo, ghi = gu(lov, 2.0)
    for i in range(3):
        d = np.zeros(3)
        d[i] = eps
        np.testing.assert_allclose(glo[i], (cu(lov + d, 2.0) - cu(lov - d, 2.0)) / (2 * eps),
                                   rtol=1e-5)
    np.testing.assert_allclose(ghi, (cu(lov, 2.0 + eps) - cu(lov, 2.0 - eps)) / (2 * eps),
                               rtol=1e-5)


def test_non_differentiable_parameter_names_it():
    lam = T.dscalar("lam")
    x = RandomStream(0).poisson(lam, size=(3,))
    with pytest.raises(NullTypeGradError, match="'lam'"):
        T.grad(T.cast(x, "float64").sum() * lam, lam)


def test_grad_through_dropout_mask_is_disconnected_from_the_generator():
    srng = RandomStream(2)
    W = opcore.shared(np.ones((4, 3)), name="W")
    xin = T.dmatrix("x")
    mask = srng.bernoulli(0.5, size=xin.shape)
    h = T.dot(xin * mask, W)
    gW = T.grad(h.sum(), W)
    f = opcore.function([xin], [gW, mask], no_default_updates=True)
    xv = np.arange(8.0).reshape(2, 4)
    gv, mv = f(xv)
    np.testing.assert_allclose(gv, np.repeat((xv * mv).sum(axis=0)[:, None], 3, axis=1))


def test_float32_uniform_and_normal_draw_in_float32():
    seq = np.random.SeedSequence(3).spawn(1)[0]
    want = np.random.default_rng(seq).random((4, 5), dtype=np.float32)
    got = opcore.function([], RandomStream(3).uniform(size=(4, 5), dtype="float32"))()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    want = np.float32(2) + np.float32(3) * np.random.default_rng(seq).standard_normal(
        (6,), dtype=np.float32)
    got = opcore.function([], RandomStream(3).normal(2.0, 3.0, size=(6,), dtype="float32"))()
    np.testing.assert_array_equal(got, want)
    u = opcore.function([], RandomStream(3).uniform(-2.0, np.array([1.0, 5.0]),
                                                     dtype="float32"))()
    assert u.shape == (2,) and u.dtype == np.float32 and (u >= -2).all() and u[0] < 1


def test_default_update_sees_the_givens():
    # the draw's size is the shape of x, which only givens supply
    data = opcore.shared(np.ones((6, 3)))
    i = T.lscalar("i")
    x = T.dmatrix("x")
    srng = RandomStream(0)
    out = x * srng.uniform(size=x.shape)
    f = opcore.function([i], out, givens={x: data[i * 2:(i + 1) * 2]})
    a, b = f(0), f(1)
    assert a.shape == b.shape == (2, 3) and not np.array_equal(a, b)


def test_debugmode_gives_the_same_stream():
    from opcore.compile.debugmode import DebugMode
    from opcore.sandbox.rng_mrg import MRG_RandomStreams

    x = T.dmatrix("x")
    runs = []
    for mode in (DebugMode(), None):
        s, r = RandomStream(0), MRG_RandomStreams(1)
        f = opcore.function([x], [x * s.normal(size=x.shape), x * r.uniform(size=x.shape)],
                            mode=mode)
        runs.append([f(np.ones((2, 3))) for _ in range(2)])
    for a, b in zip(*runs):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_import_opcore_does_not_import_numpy_random():
    import subprocess
    import sys

    code = "import sys, opcore; print('numpy.random' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_distribution_function_without_rng_owns_an_advancing_generator():
    x = R.normal(0.0, 1.0, size=(4,))
    assert isinstance(x.rng.type, R.RandomGeneratorType)
    assert x.rng.default_update is x.owner.outputs[0]
    f = opcore.function([], x)
    assert not np.array_equal(f(), f())
