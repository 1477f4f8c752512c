"""``alloc(dimshuffle(alloc(s, ...)), ...)`` fills one array (the gradient of a ``mean`` as an
elementwise op's input): same values as the unrewritten graph, every dtype; errors kept."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.basic import Alloc

ON = Mode(linker="py").excluding("fusion")
OFF = Mode(linker="py").excluding("fusion", "alloc_of_alloc")


def _allocs(f) -> int:
    return sum(isinstance(n.op, Alloc) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64", "float32", "float64"])
def test_alloc_of_dimshuffled_alloc_is_one_alloc(dtype):
    x = T.matrix("x", dtype="float64")
    s = T.scalar("s", dtype=dtype)
    n, m = x.shape[0], x.shape[1]
    inner = T.alloc(s, n)
    out = T.alloc(inner.dimshuffle(0, "x"), n, m)
    f = opcore.function([x, s], [out, inner], mode=ON)
    g = opcore.function([x, s], [out, inner], mode=OFF)
    def big_alloc_value(fn):
        (node,) = [n for n in fn.maker.fgraph.apply_nodes
                   if isinstance(n.op, Alloc) and n.outputs[0].ndim == 2]
        return node.inputs[0]

    assert big_alloc_value(f).ndim == 0  # fills from s itself
    assert big_alloc_value(g).ndim == 2  # fills from the (n, 1) view of the first alloc
    xv, sv = np.zeros((3, 4)), np.asarray(1 if dtype == "bool" else 7, dtype=dtype)
    for a, b in zip(f(xv, sv), g(xv, sv)):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    assert f(xv, sv)[0].shape == (3, 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_gradient_reaches_the_elementwise_op_as_a_scalar(dtype):
    """The gradient of ``mean(sum(f(x), axis=1))``: its fill no longer allocates (n, m)."""
    x = T.matrix("x", dtype=dtype)
    cost = T.mean(T.sum(T.log(1 + T.exp(x)), axis=1))
    gx = opcore.grad(cost, x)
    f = opcore.function([x], gx, mode=ON)
    g = opcore.function([x], gx, mode=OFF)
    assert _allocs(f) < _allocs(g)
    xv = np.linspace(-3, 3, 12).reshape(3, 4).astype(dtype)
    np.testing.assert_allclose(f(xv), g(xv), rtol=1e-6)
    np.testing.assert_allclose(f(xv), 1 / (1 + np.exp(-xv.astype("float64"))) / 3, rtol=1e-5)


def test_lengths_not_known_equal_are_left_to_the_outer_alloc():
    s = T.dscalar("s")
    a, n, m = T.lscalar("a"), T.lscalar("n"), T.lscalar("m")
    out = T.alloc(T.alloc(s, a).dimshuffle(0, "x"), n, m)
    f = opcore.function([s, a, n, m], out, mode=ON)
    assert _allocs(f) == 2
    np.testing.assert_array_equal(f(2.0, 3, 3, 2), np.full((3, 2), 2.0))
    with pytest.raises(ValueError):
        f(2.0, 2, 3, 2)  # the inner length 2 does not broadcast to 3: NumPy's error kept


def test_value_with_a_real_axis_is_left_alone():
    v = T.dvector("v")
    x = T.dmatrix("x")
    out = T.alloc(T.alloc(v, x.shape[0], v.shape[0]), 2, x.shape[0], v.shape[0])
    f = opcore.function([v, x], out, mode=ON)
    g = opcore.function([v, x], out, mode=OFF)
    assert _allocs(f) == _allocs(g)
    np.testing.assert_array_equal(f(np.arange(3.0), np.zeros((2, 5))),
                                  g(np.arange(3.0), np.zeros((2, 5))))
