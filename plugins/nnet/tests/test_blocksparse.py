"""Block-sparse GEMV / outer product against Theano's documented loops, with gradients."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract


def _data(rng):
    batch, iblocks, oblocks, iwin, owin, isize, osize = 2, 4, 5, 2, 3, 3, 2
    W = rng.standard_normal((iblocks, oblocks, isize, osize))
    h = rng.standard_normal((batch, iwin, isize))
    o = rng.standard_normal((batch, owin, osize))
    iidx = np.array([[0, 3], [1, 1]])           # a repeated block in example 1
    oidx = np.array([[4, 0, 2], [1, 2, 3]])
    return o, W, h, iidx, oidx


def test_sparse_block_gemv_values_contract_and_grads(rng):
    from opcore.tensor.nnet.blocksparse import SparseBlockGemv, sparse_block_gemv

    o, W, h, iidx, oidx = _data(rng)
    ref = o.copy()
    for b in range(o.shape[0]):
        for j in range(o.shape[1]):
            for i in range(h.shape[1]):
                ref[b, j] += h[b, i] @ W[iidx[b, i], oidx[b, j]]
    syms = [T.dtensor3("o"), T.dtensor4("W"), T.dtensor3("h"), T.lmatrix("i"), T.lmatrix("j")]
    got = opcore.function(syms, sparse_block_gemv(*syms))(o, W, h, iidx, oidx)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    check_op_contract(SparseBlockGemv(), [o, W, h, iidx, oidx], syms, check_grad=False)
    verify_grad(lambda a, w, x: sparse_block_gemv(a, w, x, iidx, oidx), [o, W, h],
                rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="integer"):
        sparse_block_gemv(syms[0], syms[1], syms[2], T.dmatrix("f"), syms[4])


def test_sparse_block_outer_values_and_grads(rng):
    from opcore.tensor.nnet.blocksparse import sparse_block_outer

    _, W, h, iidx, _ = _data(rng)
    y = rng.standard_normal((2, 3, 2))
    yidx = np.array([[4, 0, 4], [1, 2, 3]])
    ref = W.copy()
    for b in range(2):
        for i in range(2):
            for j in range(3):
                ref[iidx[b, i], yidx[b, j]] += 0.5 * np.outer(h[b, i], y[b, j])
    syms = [T.dtensor4("o"), T.dtensor3("x"), T.dtensor3("y"), T.lmatrix("i"), T.lmatrix("j")]
    got = opcore.function(syms, sparse_block_outer(*syms, 0.5))(W, h, y, iidx, yidx)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    verify_grad(lambda a, x, z: sparse_block_outer(a, x, z, iidx, yidx, 0.5), [W, h, y],
                rng=np.random.RandomState(0))


def test_sparse_block_dot_and_module(rng):
    from opcore.tensor.nnet import blocksparse

    o, W, h, iidx, oidx = _data(rng)
    bias = rng.standard_normal((W.shape[1], W.shape[3]))
    w, x, bb = T.dtensor4("W"), T.dtensor3("h"), T.dmatrix("b")
    i, j = T.lmatrix("i"), T.lmatrix("j")
    got = opcore.function([w, x, i, bb, j], blocksparse.sparse_block_dot(w, x, i, bb, j))(
        W, h, iidx, bias, oidx)
    ov = T.dtensor3("o")
    ref = opcore.function([ov, w, x, i, j], blocksparse.sparse_block_gemv(ov, w, x, i, j))
    np.testing.assert_allclose(got, ref(bias[oidx], W, h, iidx, oidx), atol=1e-12)
    # one example: h (iWin, iSize) with index vectors gives (1, oWin, oSize)
    h1, i1, j1 = T.dmatrix("h1"), T.lvector("i1"), T.lvector("j1")
    one = opcore.function([w, h1, i1, bb, j1], blocksparse.sparse_block_dot(w, h1, i1, bb, j1))(
        W, h[0], iidx[0], bias, oidx[0])
    np.testing.assert_allclose(one, got[:1], atol=1e-12)
