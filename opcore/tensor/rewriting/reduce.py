"""Reductions of products: a factor constant along the summed axes leaves the sum.

``sum(a * X, axis)`` where ``a`` is broadcastable along every summed axis equals
``a' * sum(X, axis)`` (``a'`` is ``a`` without those axes), and likewise ``sum(X / a, axis)`` is
``sum(X, axis) / a'`` (Theano's ``local_sum_prod_mul_by_scalar``, which PyTensor generalised to
broadcastable factors).  The product is then formed on the reduced array: a contractive
autoencoder's ``sum(J ** 2)`` penalty, ``J = h'[:, None, :] * W[None, :, :]``, has gradients
``sum(h'[:, None, :] ** 2 * W[None], axis=0)`` that become ``W * sum(h' ** 2, axis=0)`` instead of
a (batch, n_in, n_hidden) product summed away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import constant
from opcore.tensor.elemwise import CAReduce, DimShuffle
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import FLOATS, const_value, fit, mul_factors, owner_is, product

if TYPE_CHECKING:
    from opcore.tensor.hints import RewriteResult


def _constant_along(var, axes) -> bool:
    return all(var.type.broadcastable[a] for a in axes)


def _without(var, axes):
    """``var`` with its (broadcastable) ``axes`` dropped."""
    return DimShuffle(var.broadcastable, [d for d in range(var.ndim) if d not in axes])(var)


@register_rewrite("sum_of_broadcast_factor", "fast_run", phase="specialize", tracks=(CAReduce,))
def sum_of_broadcast_factor(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``sum(a * X, axis)`` -> ``a' * sum(X, axis)`` and ``sum(X / a, axis)`` ->
    ``sum(X, axis) / a'`` for factors ``a`` broadcastable along every summed axis (float and
    complex sums; integer products may wrap around, so they stay)."""
    op = node.op
    if type(op) is not CAReduce or op.kind != "sum":
        return None
    x = node.inputs[0]
    if x.dtype not in FLOATS or node.outputs[0].dtype != x.dtype:
        return None
    axes = tuple(range(x.ndim)) if op.axis is None else tuple(op.axis)
    if not axes:
        return None
    num, den = x, None
    div = owner_is(x, "true_div")
    if div is not None and _constant_along(div.inputs[1], axes):
        num, den = div.inputs
    factors = mul_factors(num)
    if any(f.ndim != x.ndim or f.dtype != x.dtype for f in factors):
        return None
    outside: list[Variable] = []
    inside: list[Variable] = []
    for f in factors:
        c = const_value(f) if isinstance(f, Constant) else None
        if c is not None:  # a folded fill of one value: that value, broadcast
            outside.append(constant(np.asarray(c, dtype=f.dtype)))
        else:
            (outside if _constant_along(f, axes) else inside).append(f)
    if not inside or (not outside and den is None):
        return None
    new = op(product(inside, x))
    for f in outside:
        new = M.mul(new, _without(f, axes) if f.ndim else f)
    if den is not None:
        new = M.true_div(new, _without(den, axes))
    new = fit(new, node.outputs[0], fgraph)
    return None if new is None else [new]
