"""Generator states as uint32 vectors, and NumPy streams carried through scan."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor.random import RandomStream
from opcore.tensor.random.state import decode, encode
from opcore.tensor.shared_randomstreams import RandomStreams


@pytest.mark.parametrize("make", [lambda: np.random.default_rng(7),
                                  lambda: np.random.RandomState(7)])
def test_encode_decode_continues_the_stream(make):
    g = make()
    g.normal(size=3)  # RandomState caches one gaussian: the encoding must carry it
    g.random(1) if isinstance(g, np.random.Generator) else g.random_sample(1)
    h = decode(encode(g))
    assert type(h) is type(g)
    np.testing.assert_array_equal(h.normal(size=5), g.normal(size=5))
    np.testing.assert_array_equal(h.integers(0, 10, 4) if hasattr(h, "integers")
                                  else h.randint(0, 10, 4),
                                  g.integers(0, 10, 4) if hasattr(g, "integers")
                                  else g.randint(0, 10, 4))


def test_other_bit_generators_are_refused():
    with pytest.raises(NotImplementedError, match="MT19937"):
        encode(np.random.Generator(np.random.MT19937(1)))
    with pytest.raises(ValueError):
        decode(np.zeros(3, dtype="uint32"))


def test_generator_stream_inside_scan_advances_per_step():
    srng = RandomStream(3)
    x = T.dmatrix("x")
    out, upd = opcore.scan(lambda xt: xt + srng.normal(size=(2,)), sequences=[x])
    f = opcore.function([x], out, updates=upd)
    first, second = f(np.zeros((3, 2))), f(np.zeros((3, 2)))
    ref = np.random.default_rng(np.random.SeedSequence(3).spawn(1)[0]).normal(size=(6, 2))
    np.testing.assert_array_equal(first, ref[:3])
    np.testing.assert_array_equal(second, ref[3:])


def test_theano_randomstreams_inside_scan_and_pickling():
    srng = RandomStreams(11)
    x = T.dmatrix("x")
    out, upd = opcore.scan(lambda xt: xt + srng.normal((2,)) + srng.uniform((2,)),
                           sequences=[x])
    f = opcore.function([x], out, updates=upd)
    s1, s2 = [int(v) for v in np.random.RandomState(11).randint(2 ** 30, size=2)]
    n, u = np.random.RandomState(s1), np.random.RandomState(s2)
    want = np.array([n.normal(0, 1, (2,)) + u.uniform(0, 1, (2,)) for _ in range(4)])
    np.testing.assert_allclose(f(np.zeros((4, 2))), want, rtol=1e-12)
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(f(np.zeros((2, 2))), g(np.zeros((2, 2))))


def test_gradient_through_scan_with_generator_noise():
    srng = RandomStream(1)
    x, w = T.dmatrix("x"), T.dscalar("w")
    out, _ = opcore.scan(lambda xt: (xt * w + srng.normal(size=(2,))) ** 2, sequences=[x])
    cost = out.sum()
    f = opcore.function([x, w], [cost, T.grad(cost, w)], no_default_updates=True)
    X = np.arange(6.0).reshape(3, 2)
    _, g = f(X, 0.5)
    eps = 1e-6
    np.testing.assert_allclose(g, (f(X, 0.5 + eps)[0] - f(X, 0.5 - eps)[0]) / (2 * eps),
                               rtol=1e-6)
