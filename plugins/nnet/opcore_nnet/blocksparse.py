"""Block-sparse products (Theano's ``theano.tensor.nnet.blocksparse``): a GEMV that uses only
some blocks of a block matrix, chosen per example, and the outer product that is its gradient.

Shapes (Theano's names): ``W`` (iBlocks, oBlocks, iSize, oSize), ``h`` (batch, iWin, iSize),
``o`` (batch, oWin, oSize), ``inputIdx`` (batch, iWin) and ``outputIdx`` (batch, oWin) integer
block indices.  NumPy gathers the used blocks and contracts them with ``einsum``; the outer
product scatters with ``np.add.at`` (repeated block pairs add up).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

__all__ = ["SparseBlockGemv", "SparseBlockOuter", "sparse_block_gemv", "sparse_block_gemv_inplace",
           "sparse_block_outer", "sparse_block_outer_inplace", "sparse_block_dot"]


def _check(op: Any, pairs: list) -> list:
    out = []
    for name, v, nd, kind in pairs:
        v = as_tensor_variable(v)
        if v.ndim != nd:
            raise TypeError(f"{type(op).__name__}: {name} must be a {nd}-d tensor, got {v.type}")
        if kind == "int" and np.dtype(v.dtype).kind not in "iu":
            raise TypeError(f"{type(op).__name__}: {name} must hold integer block indices, got "
                            f"{v.dtype}")
        out.append(v)
    return out


class SparseBlockGemv(Op):
    """``out[b, j] = o[b, j] + sum_i h[b, i] @ W[inputIdx[b, i], outputIdx[b, j]]``.

    Inputs ``(o, W, h, inputIdx, outputIdx)`` (shapes in the module docstring); output shaped
    like ``o``.  ``inplace`` is accepted for Theano's signature; the result is always a new
    array.
    """

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = bool(inplace)

    def make_node(self, o: Any, W: Any, h: Any, inputIdx: Any, outputIdx: Any) -> Apply:
        o, W, h, i, j = _check(self, [("o", o, 3, "float"), ("W", W, 4, "float"),
                                      ("h", h, 3, "float"), ("inputIdx", inputIdx, 2, "int"),
                                      ("outputIdx", outputIdx, 2, "int")])
        return Apply(self, [o, W, h, i, j], [o.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        o, W, h, iIdx, oIdx = inputs
        b, iwin, isize = h.shape
        if (iIdx.shape != (b, iwin) or oIdx.shape != o.shape[:2] or W.shape[2] != isize
                or W.shape[3] != o.shape[2] or o.shape[0] != b):
            raise ValueError(f"SparseBlockGemv: shapes do not fit: o {o.shape}, W {W.shape}, "
                             f"h {h.shape}, inputIdx {iIdx.shape}, outputIdx {oIdx.shape}")
        blocks = W[iIdx[:, :, None], oIdx[:, None, :]]        # (b, iWin, oWin, iSize, oSize)
        res = o + np.einsum("bis,bijst->bjt", h, blocks)
        out[0][0] = res.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        o, W, h, iIdx, oIdx = inputs
        (g,) = grads
        gW = SparseBlockOuter(self.inplace)(T.zeros_like(W), h, g, iIdx, oIdx)
        gh = SparseBlockGemv(self.inplace)(T.zeros_like(h), W.dimshuffle(1, 0, 3, 2), g, oIdx,
                                           iIdx)
        return [g, gW, gh, disconnected_type(), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [True], [False], [False]]


class SparseBlockOuter(Op):
    """``out = o`` plus, for every example ``b`` and block pair ``(i, j)``,
    ``alpha * outer(x[b, i], y[b, j])`` added to block ``(xIdx[b, i], yIdx[b, j])``.

    Inputs ``(o, x, y, xIdx, yIdx, alpha=1)``: ``o`` (xBlocks, yBlocks, xSize, ySize), ``x``
    (batch, xWin, xSize), ``y`` (batch, yWin, ySize).  (Theano's ``perform`` ignored ``alpha``;
    here it scales the products.)
    """

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = bool(inplace)

    def make_node(self, o: Any, x: Any, y: Any, xIdx: Any, yIdx: Any, alpha: Any = None) -> Apply:
        o, x, y, i, j = _check(self, [("o", o, 4, "float"), ("x", x, 3, "float"),
                                      ("y", y, 3, "float"), ("xIdx", xIdx, 2, "int"),
                                      ("yIdx", yIdx, 2, "int")])
        alpha = T.cast(as_tensor_variable(1.0 if alpha is None else alpha), o.dtype)
        if alpha.ndim != 0:
            raise TypeError(f"SparseBlockOuter: alpha must be a scalar, got {alpha.type}")
        return Apply(self, [o, x, y, i, j, alpha], [o.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        o, x, y, xIdx, yIdx, alpha = inputs
        if (xIdx.shape != x.shape[:2] or yIdx.shape != y.shape[:2] or x.shape[0] != y.shape[0]
                or o.shape[2:] != (x.shape[2], y.shape[2])):
            raise ValueError(f"SparseBlockOuter: shapes do not fit: o {o.shape}, x {x.shape}, "
                             f"y {y.shape}, xIdx {xIdx.shape}, yIdx {yIdx.shape}")
        res = np.array(o, dtype=node.outputs[0].type.dtype)
        prods = alpha * np.einsum("bis,bjt->bijst", x, y)
        np.add.at(res, (xIdx[:, :, None], yIdx[:, None, :]), prods)
        out[0][0] = res

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        o, x, y, xIdx, yIdx, alpha = inputs
        (g,) = grads
        picked = g[xIdx.dimshuffle(0, 1, "x"), yIdx.dimshuffle(0, "x", 1)]  # (b, xW, yW, xS, yS)
        gx = (picked * y.dimshuffle(0, "x", 1, "x", 2)).sum(axis=(2, 4)) * alpha
        gy = (picked * x.dimshuffle(0, 1, "x", 2, "x")).sum(axis=(1, 3)) * alpha
        galpha = (picked * x.dimshuffle(0, 1, "x", 2, "x") * y.dimshuffle(0, "x", 1, "x", 2)).sum()
        return [g, T.cast(gx, x.dtype), T.cast(gy, y.dtype), disconnected_type(),
                disconnected_type(), T.cast(galpha, alpha.dtype)]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [True], [False], [False], [True]]


sparse_block_gemv = SparseBlockGemv(False)
sparse_block_gemv_inplace = SparseBlockGemv(True)
sparse_block_outer = SparseBlockOuter(False)
sparse_block_outer_inplace = SparseBlockOuter(True)


def sparse_block_dot(W: Any, h: Any, inputIdx: Any, b: Any, outputIdx: Any) -> Any:
    """``b[outputIdx] + `` the block-sparse product of ``h`` with ``W`` (Theano's
    ``sparse_block_dot``); ``h`` (batch, iWin, iSize) or one example (iWin, iSize) with 1-d
    index vectors; ``b`` (oBlocks, oSize) biases."""
    h, inputIdx, outputIdx = (as_tensor_variable(v) for v in (h, inputIdx, outputIdx))
    b = as_tensor_variable(b)
    if inputIdx.ndim != h.ndim - 1 or outputIdx.ndim != inputIdx.ndim:
        raise TypeError(f"sparse_block_dot: inputIdx ({inputIdx.type}) must have one dimension "
                        f"less than h ({h.type}) and as many as outputIdx ({outputIdx.type})")
    if h.ndim == 2:
        h = h.dimshuffle("x", 0, 1)
        inputIdx = inputIdx.dimshuffle("x", 0)
        outputIdx = outputIdx.dimshuffle("x", 0)
    return sparse_block_gemv(b[outputIdx], W, h, inputIdx, outputIdx)
