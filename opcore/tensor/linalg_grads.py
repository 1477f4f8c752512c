"""Gradient ops of decompositions whose gradient formula branches on the matrix shape at run
time: ``SVDGrad`` and ``QRGrad`` (used by :mod:`opcore.tensor.nlinalg`).

Computed with NumPy in ``perform`` (as Theano's ``EighGrad``), so they have no gradient
themselves.  Formulas: J. Townsend, "Differentiating the Singular Value Decomposition" (2016),
for the SVD; H.-J. Liao et al., "Differentiable programming tensor networks" (2019) and
Walter & Lehmann (2018) for the QR, both as PyTensor implements them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.type import TensorType
from opcore.tensor.hints import InputShapes, OutputShapes, TensorLike


def _safe_gap(t: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """``t`` kept away from 0 (same sign) so equal singular values do not divide by zero."""
    return np.maximum(np.abs(t), eps) * np.where(t == 0, 1.0, np.sign(t))


class SVDGrad(Op):
    """``Ā`` from ``A, U, s, Vt`` (reduced SVD) and the output gradients ``Ū, s̄, V̄t``."""

    __props__ = ()

    def make_node(self, a: TensorLike, u: TensorLike, s: TensorLike, vt: TensorLike, gu: TensorLike,
                  gs: TensorLike, gvt: TensorLike) -> Apply:
        ins = [as_tensor_variable(v) for v in (a, u, s, vt, gu, gs, gvt)]
        return Apply(self, ins, [TensorType(ins[0].dtype, shape=ins[0].type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, u, s, vt, gu, gs, gvt = (np.asarray(v, dtype="float64") for v in inputs)
        m, n = a.shape
        k = min(m, n)
        v, gv = vt.T, gvt.T
        E = (1.0 - np.eye(k)) / (_safe_gap(s[None] - s[:, None]) * _safe_gap(s[None] + s[:, None]))
        utgu = u.T @ gu
        vtgv = vt @ gv
        inner = (E * (utgu - utgu.T)) * s[None, :] + np.diag(gs) + s[:, None] * (E * (vtgv - vtgv.T))
        res = u @ inner @ vt
        if m < n:
            res = res + (u / s[None, :]) @ gv.T @ (np.eye(n) - v @ v.T)
        elif m > n:
            res = res + (np.eye(m) - u @ u.T) @ (gu / s[None, :]) @ vt
        out[0][0] = res.astype(node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]


def _copyltu(x: np.ndarray) -> np.ndarray:
    return np.tril(x) + np.tril(x, -1).T


def _qr_grad_square(q, r, gq, gr):
    m_ = r @ gr.T - gq.T @ q
    b = gq + q @ _copyltu(m_)
    return np.linalg.solve(r, b.T).T  # b R^{-T}, R upper triangular and square


class QRGrad(Op):
    """``Ā`` from ``A, Q, R`` (reduced QR) and the output gradients ``Q̄, R̄``."""

    __props__ = ()

    def make_node(self, a: TensorLike, q: TensorLike, r: TensorLike, gq: TensorLike, gr: TensorLike
                 ) -> Apply:
        ins = [as_tensor_variable(v) for v in (a, q, r, gq, gr)]
        return Apply(self, ins, [TensorType(ins[0].dtype, shape=ins[0].type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, q, r, gq, gr = (np.asarray(v, dtype="float64") for v in inputs)
        m, n = a.shape
        if m >= n:
            res = _qr_grad_square(q, r, gq, gr)
        else:
            y = a[:, m:]
            u, vv = r[:, :m], r[:, m:]
            gu, gv = gr[:, :m], gr[:, m:]
            gx = _qr_grad_square(q, u, gq + y @ gv.T, gu)
            res = np.hstack([gx, q @ gv])
        out[0][0] = res.astype(node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]


__all__: list[Any] = ["QRGrad", "SVDGrad"]
