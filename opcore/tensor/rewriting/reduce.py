"""Reductions of products: a factor constant along the summed axes leaves the sum.

``sum(a * X, axis)`` where ``a`` is broadcastable along every summed axis equals
``a' * sum(X, axis)`` (``a'`` is ``a`` without those axes), and likewise ``sum(X / a, axis)`` is
``sum(X, axis) / a'`` (Theano's ``local_sum_prod_mul_by_scalar``, which PyTensor generalised to
broadcastable factors).  The product is then formed on the reduced array: a contractive
autoencoder's ``sum(J ** 2)`` penalty, ``J = h'[:, None, :] * W[None, :, :]``, has gradients
``sum(h'[:, None, :] ** 2 * W[None], axis=0)`` that become ``W * sum(h' ** 2, axis=0)`` instead of
a (batch, n_in, n_hidden) product summed away.

When no factor is constant along every summed axis, each factor is first summed over the summed
axes along which all the others are constant (``sum_{b,i,j} a[b,0,j] w[0,i,j] =
sum_j (sum_b a[b,0,j]) (sum_i w[0,i,j])``): the penalty ``sum(J ** 2)`` itself becomes two 2-d
sums and an n_hidden product.  A square or integer power of a product counts as the powers of its
factors (``(a*b)**2 == a**2 * b**2``).  These are reassociations of a floating-point sum: the
result agrees with the unrewritten sum to rounding.
"""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import constant
from opcore.tensor.elemwise import CAReduce, DimShuffle
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import (FLOATS, const_value, fit, mul_factors, owner_is,
                                           product)
from opcore.tensor.hints import RewriteResult


def _constant_along(var, axes) -> bool:
    return all(var.type.broadcastable[a] for a in axes)


def _without(var, axes):
    """``var`` with its (broadcastable) ``axes`` dropped."""
    return DimShuffle(var.broadcastable, [d for d in range(var.ndim) if d not in axes])(var)


def _power_of_product(var):
    """``(factors, exponent)`` when ``var`` is ``sqr(m)`` or ``m ** k`` (k a constant integer) of
    a product ``m``, else None."""
    node = owner_is(var, "sqr")
    if node is not None:
        base, k = node.inputs[0], None
    else:
        node = owner_is(var, "pow")
        if node is None:
            return None
        base, k = node.inputs
        kv = const_value(k)
        if kv is None or np.ndim(kv) != 0 or not float(kv).is_integer():
            return None
    if owner_is(base, "mul") is None:
        return None
    return mul_factors(base), k


def _factors(var) -> list:
    """The factors of the product ``var``, a square or integer power of a product counting as
    the powers of its factors (``(a*b)**2 == a**2 * b**2``) and a negation as a factor -1."""
    out: list = []
    stack = mul_factors(var)[::-1]
    while stack:
        f = stack.pop()
        neg = owner_is(f, "neg")
        if neg is not None:
            out.append(constant(np.full((1,) * f.ndim, -1, dtype=f.dtype)))
            stack.extend(mul_factors(neg.inputs[0])[::-1])
            continue
        pp = _power_of_product(f)
        if pp is None:
            out.append(f)
        else:
            out.extend(M.sqr(g) if pp[1] is None else M.pow(g, pp[1]) for g in pp[0])
    return out


def _float_sum(node):
    """``(op, x, axes)`` for a float or complex ``sum`` whose output keeps ``x``'s dtype (integer
    products may wrap around before the sum, so they stay), else None."""
    op = node.op
    if type(op) is not CAReduce or op.kind != "sum":
        return None
    x = node.inputs[0]
    if x.dtype not in FLOATS or node.outputs[0].dtype != x.dtype:
        return None
    return op, x, tuple(range(x.ndim)) if op.axis is None else tuple(op.axis)


@register_rewrite("sum_of_broadcast_factor", "fast_run", phase="specialize", tracks=(CAReduce,))
def sum_of_broadcast_factor(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``sum(a * X, axis)`` -> ``a' * sum(X, axis)`` and ``sum(X / a, axis)`` ->
    ``sum(X, axis) / a'`` for factors ``a`` broadcastable along every summed axis (float and
    complex sums; integer products may wrap around, so they stay)."""
    found = _float_sum(node)
    if found is None:
        return None
    op, x, axes = found
    if not axes:
        return None
    num, den = x, None
    div = owner_is(x, "true_div")
    if div is not None and _constant_along(div.inputs[1], axes):
        num, den = div.inputs
    factors = _factors(num)
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


@register_rewrite("sum_of_separable_product", "fast_run", phase="specialize", tracks=(CAReduce,),
                  after=("sum_of_broadcast_factor",))
def sum_of_separable_product(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``sum(f * g * ..., axes)`` -> ``sum(f~ * g~ * ..., axes)`` where ``f~`` is ``f`` summed
    (keeping the axes, broadcastable) along the summed axes on which every other factor is
    constant: each factor (the product of the factors broadcast alike) is summed over its own
    axes first.  A contractive autoencoder's
    ``sum((h[:, None, :] * W[None]) ** 2)`` becomes ``sum(sum(h**2, 0) * sum(W**2, 0))`` over
    n_hidden entries instead of a (batch, n_in, n_hidden) array."""
    found = _float_sum(node)
    if found is None:
        return None
    op, x, axes = found
    found = _factors(x)
    if any(f.ndim != x.ndim or f.dtype != x.dtype for f in found):
        return None
    groups: dict = {}  # factors of one broadcast pattern along the summed axes multiply first
    for f in found:
        groups.setdefault(tuple(f.type.broadcastable[a] for a in axes), []).append(f)
    if len(groups) < 2:
        return None
    factors = [product(g, x) for g in groups.values()]
    owned = []
    for k, f in enumerate(factors):
        others = factors[:k] + factors[k + 1:]
        owned.append(tuple(a for a in axes if not f.type.broadcastable[a]
                           and all(g.type.broadcastable[a] for g in others)))
    if not any(owned):
        return None
    new_factors = []
    for f, own in zip(factors, owned):
        if own:
            f = M.sum(f, axis=own, dtype=op.dtype, keepdims=True, acc_dtype=op.acc_dtype)
        new_factors.append(f)
    new = fit(op(product(new_factors, x)), node.outputs[0], fgraph)
    return None if new is None else [new]


def reduce_of_reduce(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``sum(sum(x, axis=1))`` -> ``sum(x)``: a reduction of a reduction of the same kind (sum,
    prod, max, min, all, any), dtype and accumulator, read only there, is one reduction over
    both sets of axes (Theano's ``local_sum_sum``, PyTensor's ``local_reduce_chain``): one pass
    over the input, no intermediate array."""
    op = node.op
    x = node.inputs[0]
    inner = x.owner
    if (type(op) is not CAReduce or inner is None or type(inner.op) is not CAReduce
            or inner.op.kind != op.kind or inner.op.dtype != op.dtype
            or inner.op.acc_dtype != op.acc_dtype or len(fgraph.clients.get(x, ())) != 1):
        return None
    src = inner.inputs[0]
    inner_axes = tuple(range(src.ndim)) if inner.op.axis is None else inner.op.axis
    kept = [d for d in range(src.ndim) if d not in inner_axes]
    outer_axes = tuple(range(x.ndim)) if op.axis is None else op.axis
    axes = sorted(set(inner_axes) | {kept[a] for a in outer_axes})
    new = CAReduce(op.kind, axis=axes, dtype=op.dtype, acc_dtype=op.acc_dtype)(src)
    new = fit(new, node.outputs[0], fgraph)
    return None if new is None else [new]


register_rewrite("reduce_of_reduce", "fast_run", tracks=(CAReduce,))(reduce_of_reduce)
# again after the specialize phase's factored sums (a sum of a negated sum becomes one)
register_rewrite("reduce_of_reduce_specialized", "fast_run", "reduce_of_reduce",
                 phase="specialize", tracks=(CAReduce,))(reduce_of_reduce)
