"""Theano's RandomStreams: same seeding and RandomState calls as Theano, so the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
from opcore.tensor.shared_randomstreams import RandomStreams


def _theano_seeds(seed, n):
    gen = np.random.RandomState(seed)
    return [int(gen.randint(2 ** 30)) for _ in range(n)]


def test_tutorial_numbers():
    # Theano's "Using Random Numbers" tutorial prints these for RandomStreams(seed=234)
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = opcore.function([], rv_u)
    np.testing.assert_allclose(f(), [[0.12672381, 0.97091597], [0.13989098, 0.88754825]],
                               rtol=1e-6)


def test_each_draw_is_the_randomstate_call_theano_makes():
    s1, s2, s3, s4, s5 = _theano_seeds(99, 5)
    srng = RandomStreams(99)
    u = srng.uniform((3, 2), low=-1.0, high=2.0, dtype="float64")
    n = srng.normal((4,), avg=1.0, std=3.0, dtype="float64")
    b = srng.binomial((5,), n=7, p=0.25)
    ri = srng.random_integers((6,), low=-2, high=2)
    m = srng.multinomial((2,), n=5, pvals=[0.2, 0.8])
    f = opcore.function([], [u, n, b, ri, m])
    got = f()
    np.testing.assert_array_equal(got[0], np.random.RandomState(s1).uniform(-1.0, 2.0, (3, 2)))
    np.testing.assert_array_equal(got[1], np.random.RandomState(s2).normal(1.0, 3.0, (4,)))
    np.testing.assert_array_equal(got[2], np.random.RandomState(s3).binomial(7, 0.25, (5,)))
    ri_want = np.random.RandomState(s4).randint(-2, 3, (6,))
    np.testing.assert_array_equal(got[3], ri_want)
    assert got[3].min() >= -2 and got[3].max() <= 2
    rs = np.random.RandomState(s5)
    np.testing.assert_array_equal(got[4], [rs.multinomial(5, [0.2, 0.8]) for _ in range(2)])


def test_updates_seed_and_no_default_updates():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = opcore.function([], rv_u)
    g = opcore.function([], rv_n, no_default_updates=True)
    assert not np.array_equal(f(), f())
    np.testing.assert_array_equal(g(), g())
    nearly_zeros = opcore.function([], rv_u + rv_u - 2 * rv_u)
    np.testing.assert_allclose(nearly_zeros(), 0.0, atol=1e-6)
    assert len(srng.updates()) == 2 and srng.updates()[0][0] is rv_u.rng
    srng.seed(902340)
    a = f()
    s = _theano_seeds(902340, 1)[0]
    np.testing.assert_allclose(a, np.random.RandomState(s).uniform(0, 1, (2, 2)), rtol=1e-6)
    # the tutorial's way of reseeding one stream
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_allclose(f(), np.random.RandomState(89234).uniform(0, 1, (2, 2)),
                               rtol=1e-6)
    assert isinstance(srng[rv_u.rng], np.random.RandomState)


def test_choice_permutation_poisson():
    srng = RandomStreams(3)
    c = opcore.function([], srng.choice(size=(10,), a=10, replace=False))()
    assert sorted(c.tolist()) == list(range(10))
    p = opcore.function([], srng.permutation(size=(3,), n=5))()
    assert p.shape == (3, 5) and all(sorted(r) == list(range(5)) for r in p.tolist())
    lam = opcore.function([], srng.poisson(size=(2000,), lam=3.0))()
    assert abs(lam.mean() - 3.0) < 0.2
    with pytest.raises(ValueError):
        srng.uniform((2, 2), ndim=3)


def test_tutorial_copying_random_state_between_graphs():
    # Theano's tutorial prints [0.72803009] [0.55056769], then [0.59044123] twice
    class Graph:
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1, g2 = Graph(seed=123), Graph(seed=987)
    f1, f2 = opcore.function([], g1.y), opcore.function([], g2.y)
    np.testing.assert_allclose([f1()[0], f2()[0]], [0.72803009, 0.55056769], rtol=1e-7)
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())
    np.testing.assert_allclose([f1()[0], f2()[0]], [0.59044123, 0.59044123], rtol=1e-7)


def test_tutorial_restoring_a_state():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = opcore.function([], rv_u)
    nearly_zeros = opcore.function([], rv_u + rv_u - 2 * rv_u)
    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()  # advances rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()
    v3 = f()
    assert not np.allclose(v1, v2)
    np.testing.assert_array_equal(v1, v3)


def test_symbolic_size_vector_with_ndim():
    import opcore.tensor as T

    s = T.lvector("s")
    u = RandomStreams(1).uniform(size=s, ndim=2)
    assert u.ndim == 2
    f = opcore.function([s], u)
    assert f([2, 3]).shape == (2, 3)
    with pytest.raises(ValueError):
        f([2, 3, 4])
