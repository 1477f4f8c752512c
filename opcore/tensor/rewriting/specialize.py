"""Specialisation: general ops with constant arguments become cheaper dedicated ones."""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import cast
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import FLOATS, const_value, fit
from opcore.tensor.hints import RewriteResult

#: integer exponents up to this size become products (x**5 -> sqr(sqr(x)) * x)
MAX_POW_AS_MULS = 16


def _pow_as_muls(x, n: int):
    """x**n for n >= 1 by repeated squaring."""
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else M.mul(result, base)
        n >>= 1
        if n:
            base = M.sqr(base)
    return result


@register_rewrite("pow_specialize", "fast_run", phase="specialize", tracks=("pow",))
def pow_specialize(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """x**2 -> sqr, x**0.5 -> sqrt, x**-1 -> inv, x**-0.5 -> inv(sqrt), x**n -> products."""
    x, e = node.inputs
    out = node.outputs[0]
    c = const_value(e)
    if c is None:
        return None
    c = float(np.asarray(c).real) if np.iscomplexobj(c) else float(c)
    if out.dtype not in FLOATS and c < 0:
        return None
    if x.dtype != out.dtype:  # compute in the output's dtype, as pow does
        x = cast(x, out.dtype)
    if c == 1:
        new = x
    elif c == 2:
        new = M.sqr(x)
    elif c == 0.5:
        new = M.sqrt(x)
    elif c == -1:
        new = M.inv(x)
    elif c == -0.5:
        new = M.inv(M.sqrt(x))
    elif c == int(c) and 2 < abs(c) <= MAX_POW_AS_MULS:
        new = _pow_as_muls(x, int(abs(c)))
        if c < 0:
            new = M.inv(new)
    else:
        return None
    fitted = fit(new, out, fgraph)
    return None if fitted is None else [fitted]


@register_rewrite("mul_minus_one", "fast_run", phase="specialize", tracks=("mul",))
def mul_minus_one(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``-1 * x`` (either side) -> ``-x``."""
    a, b = node.inputs
    out = node.outputs[0]
    for c, other in ((a, b), (b, a)):
        v = const_value(c)
        if v is not None and np.all(np.asarray(v) == -1):
            new = fit(M.neg(other), out, fgraph)
            return None if new is None else [new]
    return None


@register_rewrite("mul_self_to_sqr", "fast_run", phase="specialize", tracks=("mul",))
def mul_self_to_sqr(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``x * x`` -> ``sqr(x)`` (Theano's ``local_mul_specialize`` family): one operand read, and
    a gradient's ``x * x`` merges with the cost's ``x ** 2``."""
    a, b = node.inputs
    if a is not b:
        return None
    new = fit(M.sqr(a), node.outputs[0], fgraph)
    return None if new is None else [new]
