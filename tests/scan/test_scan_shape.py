"""The shape of a scan output is known without running the loop when the body's shapes follow
from its inputs' shapes (sequence slices, states, non-sequences), so reading ``out.shape`` next to
``out[-1]`` keeps one loop, not a second one run for its shape."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.scan import Scan
from opcore.tensor.shared_randomstreams import RandomStreams

MODE = Mode(linker="py", optimizer="fast_run")


def _scans(f) -> int:
    return sum(isinstance(n.op, Scan) for n in f.maker.fgraph.toposort())


def _ref_loop(xs, h0, w):
    h, hs, ys = h0, [], []
    for x in xs:
        h = np.tanh(h * w + x)
        hs.append(h)
        ys.append(np.outer(h, x) + w.sum())
    return np.array(hs), np.array(ys)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nit_output_shape_from_state_and_sequence_shapes(dtype):
    xs = T.matrix("xs", dtype=dtype)
    h0 = T.vector("h0", dtype=dtype)
    w = T.vector("w", dtype=dtype)

    def step(x, h, w):
        new = T.tanh(h * w + x)
        return new, T.outer(new, x) + w.sum()

    (hs, ys), _ = opcore.scan(step, sequences=xs, outputs_info=[h0, None], non_sequences=w)
    f_shape = opcore.function([xs, h0, w], [ys.shape, hs.shape], mode=MODE)
    assert _scans(f_shape) == 0  # the shapes alone run no loop
    f = opcore.function([xs, h0, w], [ys[-1], ys.shape, hs[-1]], mode=MODE)
    assert _scans(f) == 1  # one loop, not a second one for ys.shape
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=3).astype(dtype),
            rng.normal(size=3).astype(dtype)]
    ref_h, ref_y = _ref_loop(*vals)
    ys_shape, hs_shape = f_shape(*vals)
    assert tuple(ys_shape) == ref_y.shape and tuple(hs_shape) == ref_h.shape
    last_y, shp, last_h = f(*vals)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(last_y, ref_y[-1], rtol=tol, atol=tol)
    np.testing.assert_allclose(last_h, ref_h[-1], rtol=tol, atol=tol)
    assert tuple(shp) == ref_y.shape


def test_random_sample_sized_like_the_state():
    """A Gibbs chain as the RBM tutorial writes it: samples of size ``p.shape`` from a random
    stream.  The chain's last sample and its shape come from one loop."""
    srng = RandomStreams(7)
    W = opcore.shared(np.random.default_rng(1).normal(size=(4, 6)) * 0.5, name="W")
    v0 = T.dmatrix("v0")

    def gibbs(v):
        h = srng.binomial(size=(T.dot(v, W)).shape, n=1, p=T.nnet.sigmoid(T.dot(v, W)),
                          dtype="float64")
        p = T.nnet.sigmoid(T.dot(h, W.T))
        return p, srng.binomial(size=p.shape, n=1, p=p, dtype="float64")

    (means, samples), upd = opcore.scan(gibbs, outputs_info=[None, v0], n_steps=3)
    shapes_only = opcore.function([v0], [samples.shape, means.shape], mode=MODE,
                                  no_default_updates=True)
    assert _scans(shapes_only) == 0
    assert [tuple(s) for s in shapes_only(np.ones((2, 4)))] == [(3, 2, 4)] * 2
    f = opcore.function([v0], [samples[-1], samples.shape, means.shape], updates=upd, mode=MODE)
    assert _scans(f) == 1
    last, s_shape, m_shape = f(np.ones((2, 4)))
    assert tuple(s_shape) == tuple(m_shape) == (3, 2, 4)
    assert last.shape == (2, 4) and set(np.unique(last)) <= {0.0, 1.0}


def test_value_dependent_nit_shape_still_runs_the_loop():
    """An output whose length depends on values (``arange`` of the state) cannot be shaped
    without running the loop: the shape is then read from the loop's result."""
    n0 = T.lscalar("n0")
    (ns, rs), _ = opcore.scan(lambda n: (n + 1, T.arange(n0 + 2)), outputs_info=[n0, None],
                              n_steps=4)
    f = opcore.function([n0], rs.shape, mode=MODE)
    assert tuple(f(3)) == (4, 5)
    (ns2, rs2), _ = opcore.scan(lambda n: (n + 1, T.arange(n + 2)[:2]), outputs_info=[n0, None],
                                n_steps=4)
    g = opcore.function([n0], [rs2.shape, rs2], mode=MODE)
    shp, val = g(3)
    assert tuple(shp) == (4, 2) and val.tolist() == [[0, 1]] * 4
