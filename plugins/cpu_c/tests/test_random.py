"""The C MRG31k3p kernel returns the NumPy reference's bits (``opcore.tensor.random.mrg31k3p``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.sandbox.rng_mrg import MRG_RandomStreams
from opcore.tensor.random import mrg31k3p
from opcore.tensor.random.mrg import mrg_uniform

C = Mode(backend="c")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nstreams,size", [(1, (7,)), (7, (7, 5)), (13, (10, 20)),
                                           (600, (3, 17)), (60 * 256, (600, 784))])
def test_c_mrg_equals_reference_bit_for_bit(dtype, nstreams, size):
    r = MRG_RandomStreams(seed=[11, 22, 33, 44, 55, 66])
    u = r.uniform(size=size, nstreams=nstreams, dtype=dtype)
    rstate = r.state_updates[-1][0]
    state0 = rstate.get_value()
    f = opcore.function([], u, mode=C)
    assert any(isinstance(n.op, mrg_uniform) for n in f.maker.fgraph.toposort())
    state = state0
    for _ in range(3):  # several calls: the state carried between them must match too
        state, want = mrg31k3p.uniform_draws(state, int(np.prod(size)), dtype)
        got = f()
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"),
                                      want.reshape(size).view(f"u{got.itemsize}"))
        np.testing.assert_array_equal(rstate.get_value(), state)


def test_c_mrg_java_reference_and_inplace_and_errors():
    java = np.loadtxt(Path(__file__).parents[3] / "tests" / "sandbox" / "data"
                      / "samples_MRG31k3p_12_7_5.txt")
    rng = MRG_RandomStreams(seed=12345)
    samples = []
    for _ in range(12):
        f = opcore.function([], rng.uniform(size=(7,), nstreams=7, dtype="float64"), mode=C)
        samples.append(np.array([f() for _ in range(5)]).T.flatten())
    np.testing.assert_array_equal(np.array(samples).flatten(), java)
    ops = [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, mrg_uniform)]
    assert ops and ops[0].inplace
    # a non-inplace node (the state is not updated) leaves the shared state alone
    r = MRG_RandomStreams(3)
    u = r.uniform(size=(4,), dtype="float64")
    g = opcore.function([], u, mode=C, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    bad = opcore.shared(np.ones((3, 5), dtype="int32"))
    _, v = mrg_uniform.new(bad, None, "float32", (4,))
    h = opcore.function([], v, mode=C)
    with pytest.raises(ValueError, match="rstate"):
        h()


def test_c_mrg_symbolic_size_and_dropout_graph():
    r = MRG_RandomStreams(7)
    x = T.fmatrix("x")
    mask = r.binomial(size=x.shape, p=0.8, dtype="float32")
    f = opcore.function([x], x * mask, mode=C)
    state = r.state_updates[-1][0].get_value()
    xv = np.ones((600, 784), dtype="float32")
    _, u = mrg31k3p.uniform_draws(state, 600 * 784, opcore.config.floatX)
    np.testing.assert_array_equal(f(xv), (u.reshape(600, 784) < 0.8).astype("float32"))
