"""Numerical stabilisation: forms that overflow or lose precision become their stable twins."""

from __future__ import annotations

import typing

from opcore.graph.basic import Apply, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import cast, constant
from opcore.tensor.elemwise import CAReduce, Elemwise
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import fit, is_const, mul_factors, owner_is, product

import numpy as np
from opcore.tensor.hints import RewriteResult


def _one_plus(var):
    """``y`` when ``var`` is ``1 + y`` or ``y + 1``, else None."""
    node = owner_is(var, "add")
    if node is None:
        return None
    a, b = node.inputs
    if is_const(a, 1):
        return b
    if is_const(b, 1):
        return a
    return None


def _one_minus(var):
    """``y`` when ``var`` is ``1 - y``, else None."""
    node = owner_is(var, "sub")
    if node is not None and is_const(node.inputs[0], 1):
        return node.inputs[1]
    return None


def _done(new, node, fgraph):
    new = fit(new, node.outputs[0], fgraph)
    return None if new is None else [new]


def _scalar_name(node: Apply) -> str:
    """The scalar op's name of an elementwise node (what these rewrites track by name)."""
    return typing.cast(Elemwise, node.op).scalar_op.name


@register_rewrite("log1p_exp_to_softplus", "fast_run", phase="stabilize", tracks=("log", "log1p"))
def log1p_exp_to_softplus(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``log(1 + exp(x))`` and ``log1p(exp(x))`` -> ``softplus(x)``."""
    arg = node.inputs[0]
    y = arg if _scalar_name(node) == "log1p" else _one_plus(arg)
    if y is None:
        return None
    e = owner_is(y, "exp")
    if e is None:
        return None
    return _done(M.softplus(e.inputs[0]), node, fgraph)


def _exp_arg(var):
    node = owner_is(var, "exp")
    return None if node is None else node.inputs[0]


@register_rewrite("sigmoid_from_exp", "fast_run", phase="stabilize", tracks=("true_div", "inv"))
def sigmoid_from_exp(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``c / (1 + exp(a))`` -> ``c * sigmoid(-a)``; an ``exp(a)`` factor of the numerator cancels:
    ``c * exp(a) / (1 + exp(a))`` -> ``c * sigmoid(a)``, for each ``1 + exp(a)`` factor of the
    denominator (Theano's ``local_exp_over_1_plus_exp``): the hand-written logistic function's
    gradient ``g * exp(-z) / (1 + exp(-z)) ** 2`` becomes ``g * sigmoid(-z) * sigmoid(z)``.

    The logistic function written by hand (as in Theano's logistic-regression tutorial) rounds
    to exactly 0 or 1 for large inputs, and the gradient of ``log(1 + exp(a))`` (an RBM's free
    energy) is ``inf / inf`` once ``exp(a)`` overflows; as ``sigmoid`` both stay finite and
    the stable rules below apply.
    """
    if _scalar_name(node) == "inv":
        num, den = None, node.inputs[0]
    else:
        num, den = node.inputs
    num_f = [] if num is None or is_const(num, 1) else mul_factors(num)
    den_rest, sigmoids = [], []
    for d in mul_factors(den):
        y = _one_plus(d)
        a = _exp_arg(y) if y is not None else None
        if a is None:
            den_rest.append(d)
            continue
        # an exp(a) of the numerator pairs with its 1 + exp(a): sigmoid(a); else sigmoid(-a)
        k = next((k for k, f in enumerate(num_f) if _exp_arg(f) is a), None)
        if k is None:
            sigmoids.append(M.sigmoid(M.neg(a)))
        else:
            del num_f[k]
            sigmoids.append(M.sigmoid(a))
    if not sigmoids:
        return None
    new = product(num_f + sigmoids, node.outputs[0])
    if den_rest:
        new = M.true_div(new, product(den_rest, node.outputs[0]))
    return _done(new, node, fgraph)


def _neg_arg(var):
    node = owner_is(var, "neg")
    return None if node is None else node.inputs[0]


@register_rewrite("sigmoid_times_exp", "fast_run", phase="stabilize", tracks=("mul",),
                  after=("sigmoid_from_exp",))
def sigmoid_times_exp(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``exp(a) * sigmoid(-a)`` -> ``sigmoid(a)`` and ``exp(-a) * sigmoid(a)`` ->
    ``sigmoid(-a)`` among the factors of a product (Theano's ``local_sigm_times_exp``): what
    ``sigmoid_from_exp`` leaves of the gradient of ``log(1 + exp(a))``, which overflows to
    ``inf * 0`` for large ``a``."""
    factors = mul_factors(node.outputs[0])
    if len(factors) < 2:
        return None
    for i, e in enumerate(factors):
        x = _exp_arg(e)
        if x is None:
            continue
        nx = _neg_arg(x)
        for j, s in enumerate(factors):
            sn = owner_is(s, "sigmoid")
            if sn is None or j == i:
                continue
            z = sn.inputs[0]
            if _neg_arg(z) is x:  # exp(x) * sigmoid(-x)
                new = M.sigmoid(x)
            elif nx is not None and z is nx:  # exp(-z) * sigmoid(z)
                new = M.sigmoid(M.neg(z))
            else:
                continue
            rest = [f for k, f in enumerate(factors) if k not in (i, j)]
            return _done(product(rest + [new], node.outputs[0]), node, fgraph)
    return None


@register_rewrite("one_minus_sigmoid", "fast_run", phase="stabilize", tracks=("sub",),
                  after=("sigmoid_from_exp",))
def one_minus_sigmoid(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``1 - sigmoid(x)`` -> ``sigmoid(-x)``: no cancellation, so ``1 / (1 - p)`` stays finite."""
    y = _one_minus(node.outputs[0])
    s = owner_is(y, "sigmoid") if y is not None else None
    if s is None:
        return None
    return _done(M.sigmoid(M.neg(s.inputs[0])), node, fgraph)


@register_rewrite("log_sigmoid", "fast_run", phase="stabilize", tracks=("log", "log1p"),
                  after=("log1p_exp_to_softplus",))
def log_sigmoid(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``log(sigmoid(x))`` -> ``-softplus(-x)``; ``log(1 - sigmoid(x))`` -> ``-softplus(x)``."""
    arg = node.inputs[0]
    if _scalar_name(node) == "log1p":
        n = owner_is(arg, "neg")
        s = owner_is(n.inputs[0], "sigmoid") if n is not None else None
        if s is None:
            return None
        return _done(M.neg(M.softplus(s.inputs[0])), node, fgraph)
    s = owner_is(arg, "sigmoid")
    if s is not None:
        return _done(M.neg(M.softplus(M.neg(s.inputs[0]))), node, fgraph)
    y = _one_minus(arg)
    s = owner_is(y, "sigmoid") if y is not None else None
    if s is not None:
        return _done(M.neg(M.softplus(s.inputs[0])), node, fgraph)
    return None


@register_rewrite("log1p_form", "fast_run", phase="stabilize", tracks=("log",),
                  after=("log1p_exp_to_softplus", "log_sigmoid"))
def log1p_form(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``log(1 + x)`` -> ``log1p(x)`` (accurate for small x)."""
    y = _one_plus(node.inputs[0])
    if y is None:
        return None
    return _done(M.log1p(y), node, fgraph)


@register_rewrite("expm1_form", "fast_run", phase="stabilize", tracks=("sub", "add"))
def expm1_form(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``exp(x) - 1`` (also ``exp(x) + -1``) -> ``expm1(x)``."""
    a, b = node.inputs
    name = _scalar_name(node)
    e = None
    if name == "sub" and is_const(b, 1):
        e = owner_is(a, "exp")
    elif name == "add":
        if is_const(b, -1):
            e = owner_is(a, "exp")
        elif is_const(a, -1):
            e = owner_is(b, "exp")
    if e is None:
        return None
    return _done(M.expm1(e.inputs[0]), node, fgraph)


@register_rewrite("logsumexp", "fast_run", phase="stabilize", tracks=("log",))
def logsumexp(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``log(sum(exp(x), axis))`` -> ``m + log(sum(exp(x - m), axis))`` with ``m = max(x)``."""
    s = node.inputs[0].owner
    if s is None or not isinstance(s.op, CAReduce) or s.op.kind != "sum":
        return None
    e = owner_is(s.inputs[0], "exp")
    if e is None or getattr(s.outputs[0].tag, "stable_logsumexp", False):
        return None
    x = e.inputs[0]
    axis = s.op.axis
    m = M.max(x, axis=axis, keepdims=True)
    # an all -inf slice would give (-inf) - (-inf) = nan; shift by 0 there instead
    m = M.switch(M.isinf(m), constant(np.zeros((), dtype=m.dtype)), m)
    summed: Variable = M.sum(M.exp(x - m), axis=axis)
    summed.tag.stable_logsumexp = True  # already shifted: do not rewrite it again
    if summed.dtype != s.outputs[0].dtype:
        summed = cast(summed, s.outputs[0].dtype)
    m_dropped = M.max(x, axis=axis) if x.ndim else m
    m_dropped = M.switch(M.isinf(m_dropped), constant(np.zeros((), dtype=m.dtype)), m_dropped)
    return _done(m_dropped + M.log(summed), node, fgraph)
