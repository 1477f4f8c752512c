"""``DimShuffle(elemwise(a, b))`` -> ``elemwise(DimShuffle(a), DimShuffle(b))`` (Theano's
``local_dimshuffle_lift``) for dimshuffles that only add or drop broadcastable axes: values of
the unrewritten graph, transposes and shared results left alone, one-element chains fused."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.elemwise import DimShuffle, Elemwise

NOFUSE = Mode(linker="py").excluding("fusion")
NONE = Mode(linker="py", optimizer=None)


def _check(inputs, outputs, values, mode=NOFUSE):
    f = opcore.function(inputs, outputs, mode=mode)
    g = opcore.function(inputs, outputs, mode=NONE)
    got, want = f(*values), g(*values)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6)
    return f


def _dimshuffle_inputs(f) -> list:
    return [n.inputs[0] for n in f.maker.fgraph.apply_nodes if isinstance(n.op, DimShuffle)]


@pytest.mark.parametrize("dtype", ["int8", "int64", "float32", "float64"])
def test_broadcast_axis_added_after_elemwise_moves_to_the_inputs(dtype):
    v = T.vector("v", dtype=dtype)
    w = T.vector("w", dtype=dtype)
    M = T.matrix("M", dtype="float64")
    out = (T.exp(v) + w).dimshuffle("x", 0) * M
    vals = [np.array([0, 1, 2], dtype=dtype), np.array([3, -1, 1], dtype=dtype),
            np.arange(6.0).reshape(2, 3)]
    f = _check([v, w, M], [out], vals)
    assert {str(x) for x in _dimshuffle_inputs(f)} <= {"v", "w"}


def test_transpose_stays_above_the_elemwise():
    M = T.dmatrix("M")
    f = _check([M], [T.exp(M).T], [np.arange(6.0).reshape(2, 3)])
    (x,) = _dimshuffle_inputs(f)
    assert x.owner is not None and isinstance(x.owner.op, Elemwise)


def test_shared_result_is_not_recomputed():
    v = T.dvector("v")
    y = T.exp(v)
    f = _check([v], [y, y.dimshuffle("x", 0)], [np.array([0.5, 1.5])])
    assert sum(isinstance(n.op, Elemwise) for n in f.maker.fgraph.apply_nodes) == 1


def test_one_element_result_read_twice_is_lifted():
    s = T.dscalar("s")
    y = T.exp(s)
    M = T.dmatrix("M")
    f = _check([s, M], [y.dimshuffle("x", "x") * M, y + 1], [np.float64(0.3), np.ones((2, 2))])
    assert [str(x) for x in _dimshuffle_inputs(f)] == ["s"]


def test_mean_gradient_scale_is_fused_into_its_consumer():
    """The gradient of ``mean(tanh(x @ W))``: the ``1 / n`` scale is computed inside the fused
    node that reads it (fewer nodes than without the rule), values as the unrewritten graph."""
    x = T.fmatrix("x")
    W = T.fmatrix("W")
    g = opcore.grad(T.mean(T.tanh(T.dot(x, W))), W)
    full = Mode(linker="py", optimizer="fast_run")
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")]
    f = _check([x, W], [g], vals, mode=full)
    h = opcore.function([x, W], g, mode=full.excluding("dimshuffle_lift"))
    assert len(f.maker.fgraph.apply_nodes) < len(h.maker.fgraph.apply_nodes)
