"""The structural cleanups (a dimshuffle of a dimshuffle, ``MakeVector(...)[k]``) also apply to
what later phases build: the specialize phase's factored sums and BLAS calls leave neither; and
``x[None, :]``-style indexing is the DimShuffle those rules read."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.basic import MakeVector, Shape_i
from opcore.tensor.elemwise import DimShuffle, Elemwise
from opcore.tensor.subtensor import Subtensor

ON = Mode(linker="py").excluding("fusion")
NONE = Mode(linker="py", optimizer=None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_factored_sum_leaves_no_dimshuffle_of_a_dimshuffle(dtype):
    """``sum(v[None, :] * X, axis=0)`` -> ``sum(X, axis=0) * v``: the factor's axis dropped by
    the specialize phase is the one the graph added (no DimShuffle left at all)."""
    v = T.vector("v", dtype=dtype)
    X = T.matrix("X", dtype=dtype)
    out = T.sum(v[None, :] * X, axis=0)
    f = opcore.function([v, X], out, mode=ON)
    assert not [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, DimShuffle)]
    rng = np.random.default_rng(0)
    vv, Xv = rng.normal(size=3).astype(dtype), rng.normal(size=(4, 3)).astype(dtype)
    g = opcore.function([v, X], out, mode=NONE)
    np.testing.assert_allclose(f(vv, Xv), g(vv, Xv), rtol=1e-6)


def test_gemv_length_from_a_shape_vector_is_the_shape_itself():
    """The gradient of ``sum(dot(V, b))`` w.r.t. ``b`` is a Gemv whose output length the
    specialize phase reads from ``V.T``'s shape: no ``MakeVector(...)[k]`` is left."""
    V = T.dmatrix("V")
    b = T.dvector("b")
    cost = T.sum(T.dot(V, b) ** 2)
    g = opcore.grad(cost, b)
    f = opcore.function([V, b], [cost, g], mode=Mode(linker="py"))
    for n in f.maker.fgraph.apply_nodes:
        if isinstance(n.op, Subtensor):
            owner = n.inputs[0].owner
            assert owner is None or not isinstance(owner.op, MakeVector), n
    rng = np.random.default_rng(1)
    Vv, bv = rng.normal(size=(5, 3)), rng.normal(size=3)
    want = opcore.function([V, b], [cost, g], mode=NONE)(Vv, bv)
    for got, w in zip(f(Vv, bv), want):
        np.testing.assert_allclose(got, w, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int8", "float32", "complex128"])
@pytest.mark.parametrize("index", ["[None]", "[None, :]", "[:, None]", "[:, None, :, None]",
                                   "[None, :, None]"])
def test_newaxis_indexing_is_a_dimshuffle(dtype, index):
    X = T.matrix("X", dtype=dtype)
    out = eval("X" + index)
    f = opcore.function([X], out, mode=ON)
    nodes = f.maker.fgraph.apply_nodes
    assert len(nodes) == 1 and isinstance(next(iter(nodes)).op, DimShuffle)
    Xv = (np.arange(6).reshape(2, 3) - 2).astype(dtype)
    got = f(Xv)
    want = eval("Xv" + index)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_newaxis_with_a_real_slice_stays_a_subtensor():
    X = T.dmatrix("X")
    f = opcore.function([X], X[1:, None], mode=ON)
    assert any(isinstance(n.op, Subtensor) for n in f.maker.fgraph.apply_nodes)
    Xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(Xv), Xv[1:, None])


def _read_only_for_shape(f) -> list:
    fg = f.maker.fgraph
    return [n for n in fg.apply_nodes if isinstance(n.op, (Elemwise, DimShuffle))
            and all(c != "output" and isinstance(c.op, Shape_i)
                    for c, _ in fg.clients.get(n.outputs[0], ()))]


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_elementwise_result_read_only_for_its_length_is_not_computed(dtype):
    """``Shape_i`` of an elementwise result or of a dimshuffle reads its inputs' lengths (even
    with the shape feature's rule excluded, as in the phases after canonicalize)."""
    x = T.matrix("x", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    n = T.lscalar("n")
    e = T.exp(x) + v
    outs = [Shape_i(0)(e) + n, Shape_i(1)(e) * n, Shape_i(0)(T.neg(x).T) + n,
            Shape_i(0)(v * 2) + n]
    mode = Mode(linker="py").excluding("shape_i_infer")
    f = opcore.function([x, v, n], outs, mode=mode)
    assert not _read_only_for_shape(f)
    xv, vv = np.ones((2, 3), dtype=dtype), np.arange(3, dtype=dtype)
    g = opcore.function([x, v, n], outs, mode=NONE)
    for got, want in zip(f(xv, vv, 5), g(xv, vv, 5)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
def test_length_of_rows_indexed_by_arange_and_labels_is_the_labels_length(idx_dtype):
    """``Shape_i{0}(M[arange(y.shape[0]), y])`` is ``y.shape[0]`` (no indexing done); indices
    whose lengths are not equal by construction keep the indexing (NumPy broadcasts them)."""
    M = T.dmatrix("M")
    y = T.vector("y", dtype=idx_dtype)
    a = T.lvector("a")
    mode = Mode(linker="py").excluding("shape_i_infer")
    outs = [Shape_i(0)(M[T.arange(y.shape[0]), y]), Shape_i(0)(M[a, y])]
    f = opcore.function([M, y, a], outs, mode=mode)
    readers = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Subtensor)]
    assert len(readers) == 1  # only M[a, y] is indexed
    Mv = np.arange(12.0).reshape(3, 4)
    yv = np.array([1, 3, 0], dtype=idx_dtype)
    g = opcore.function([M, y, a], outs, mode=NONE)
    for av in (np.array([0, 2, 1]), np.array([2])):
        for got, want in zip(f(Mv, yv, av), g(Mv, yv, av)):
            np.testing.assert_array_equal(got, want)
