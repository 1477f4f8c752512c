"""Vectorised ``binomial(1, p)`` draws are NumPy's, element for element, and leave the generator
in NumPy's state (opcore/tensor/random/binomial_draws.py)."""

import copy

import numpy as np
import pytest

import opcore
import opcore.tensor as T
import opcore.tensor.random.binomial_draws as bd
from opcore.tensor.random.binomial_draws import bernoulli_draws
from opcore.tensor.shared_randomstreams import RandomStreams


def _gens(seed):
    return [np.random.RandomState(seed), np.random.default_rng(seed)]


def _uniform(rng, k):
    return rng.random_sample(k) if isinstance(rng, np.random.RandomState) else rng.random(k)


def _probs(kind, shape, r):
    p = r.random(shape)
    if kind == "float32":
        return p.astype(np.float32)
    if kind == "edges":  # exact 0, 1, 0.5 and tiny values, where both branches meet
        p[r.random(shape) < 0.3] = 0.0
        p[r.random(shape) < 0.2] = 1.0
        p[r.random(shape) < 0.1] = 0.5
        p[r.random(shape) < 0.1] = 1e-300
        return p
    if kind == "half":  # the neighbours of 0.5
        return np.nextafter(0.5, r.choice([0.0, 1.0], shape))
    return p


@pytest.mark.parametrize("gen", [0, 1], ids=["RandomState", "Generator"])
@pytest.mark.parametrize("kind", ["float64", "float32", "edges", "half"])
@pytest.mark.parametrize("with_size", [False, True])
def test_draws_and_state_equal_numpys(gen, kind, with_size):
    rng = _gens(7)[gen]
    r = np.random.default_rng(1)
    for trial in range(6):
        shape = (int(r.integers(4, 30)), int(r.integers(16, 60)))
        p = _probs(kind, shape, r)
        ref = copy.deepcopy(rng)
        got = bernoulli_draws(rng, p, shape if with_size else None)
        want = ref.binomial(1, p, size=shape if with_size else None)
        assert got is not None
        assert got.dtype == np.int64 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(_uniform(rng, 4), _uniform(ref, 4))


@pytest.mark.parametrize("gen", [0, 1], ids=["RandomState", "Generator"])
def test_broadcast_row_against_size(gen):
    rng = _gens(3)[gen]
    p = np.random.default_rng(2).random(40).astype(np.float32)
    ref = copy.deepcopy(rng)
    np.testing.assert_array_equal(bernoulli_draws(rng, p, (5, 40)), ref.binomial(1, p, (5, 40)))


@pytest.mark.parametrize("gen", [0, 1], ids=["RandomState", "Generator"])
def test_element_by_element_path_is_numpys(gen, monkeypatch):
    """With the guard bands widened, most elements go through the exact scalar inversion
    (the path a restart takes); the draws and the final state are still NumPy's."""
    monkeypatch.setattr(bd, "_GUARD", 0.2)
    monkeypatch.setattr(bd, "_RESTART_BAND", 1.0)
    rng = _gens(11)[gen]
    for trial in range(10):
        p = np.random.default_rng(trial).random((9, 13))
        p[p < 0.1] = 0.0
        ref = copy.deepcopy(rng)
        np.testing.assert_array_equal(bernoulli_draws(rng, p, None), ref.binomial(1, p))
        np.testing.assert_array_equal(_uniform(rng, 3), _uniform(ref, 3))


@pytest.mark.parametrize("p, size", [
    (np.array([0.5, np.nan] * 40), None),  # NumPy raises on NaN
    (np.array([0.5, 1.5] * 40), None),  # and on p > 1
    (np.full(80, 0.5), (3, 7)),  # and on a size the parameter does not broadcast to
    (np.full(80, 0.5, dtype=np.complex128), None),
    (np.full(8, 0.5), None),  # too few draws to gain anything
])
def test_left_to_numpy_without_drawing(p, size):
    rng = np.random.RandomState(0)
    ref = copy.deepcopy(rng)
    assert bernoulli_draws(rng, p, size) is None
    np.testing.assert_array_equal(rng.random_sample(3), ref.random_sample(3))


def test_random_streams_binomial_and_errors():
    """Through the graph: Theano's RandomStreams.binomial(n=1) gives RandomState's draws; n != 1
    and bad p still go to NumPy (same draws, same errors)."""
    srng = RandomStreams(1234)
    pv = T.fmatrix("p")
    nv = T.iscalar("n")
    f = opcore.function([pv, nv], srng.binomial(size=pv.shape, n=nv, p=pv, dtype="float32"))
    ref = copy.deepcopy(srng.state_updates[0][0].get_value(borrow=True))
    p = np.random.default_rng(0).random((20, 50)).astype(np.float32)
    for n in (1, 1, 3, 1):
        want = ref.binomial(n, p, size=p.shape).astype(np.float32)
        np.testing.assert_array_equal(f(p, n), want)
    bad = p.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="p < 0, p > 1"):
        f(bad, 1)
