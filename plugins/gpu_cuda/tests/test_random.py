"""The MRG31k3p kernel (PoCL in CI) returns the NumPy reference's bits, state included."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.sandbox.rng_mrg import MRG_RandomStreams
from opcore.tensor.random import mrg31k3p

from opcore_gpu_cuda.ops import GpuOp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nstreams,size", [(1, (5,)), (7, (7, 5)), (13, (10, 20)),
                                           (60 * 256, (600, 784))])
def test_gpu_mrg_equals_reference_bit_for_bit(gpu_flags, dtype, nstreams, size):
    r = MRG_RandomStreams(seed=[11, 22, 33, 44, 55, 66])
    u = r.uniform(size=size, nstreams=nstreams, dtype=dtype)
    rstate = r.state_updates[-1][0]
    state = rstate.get_value()
    f = opcore.function([], u)
    assert any(isinstance(n.op, GpuOp) and "mrg_uniform" in str(n.op)
               for n in f.maker.fgraph.toposort())
    for _ in range(2):
        state, want = mrg31k3p.uniform_draws(state, int(np.prod(size)), dtype)
        got = np.asarray(f())
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"),
                                      want.reshape(size).view(f"u{got.itemsize}"))
        np.testing.assert_array_equal(np.asarray(rstate.get_value()), state)


def test_gpu_dropout_mask_and_symbolic_size(gpu_flags):
    r = MRG_RandomStreams(9)
    x = T.fmatrix("x")
    mask = r.binomial(size=x.shape, p=0.5, dtype="float32")
    f = opcore.function([x], x * mask)
    state = np.asarray(r.state_updates[-1][0].get_value())
    _, u = mrg31k3p.uniform_draws(state, 12 * 7, opcore.config.floatX)
    got = np.asarray(f(np.full((12, 7), 2.0, dtype="float32")))
    np.testing.assert_array_equal(got, 2.0 * (u.reshape(12, 7) < 0.5))
