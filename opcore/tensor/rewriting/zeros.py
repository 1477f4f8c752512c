"""Dead arithmetic: products, quotients, dot products and sums of zeros become zeros.

Zero gradients (``grad`` of ``x // y``, of a ``zero_grad``, of an integer cast) arrive as
``alloc(0, *shape)`` and are multiplied, divided and summed on their way back through the graph.
These rules replace each such result by zeros of the result's shape (taken from the shape
feature, so the other operands need not be computed), and the branch then disappears.  As in
Theano, ``0 * x`` is taken to be 0 even where ``x`` is inf or NaN.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor.basic import Alloc, Cast, SpecifyShape, constant
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from opcore.tensor.math import Dot
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import fit, is_const, scalar_name
from opcore.tensor.hints import RewriteResult

#: ops whose output holds the same values as their first input, possibly broadcast or cast
_VALUE_PRESERVING = (Alloc, DimShuffle, Cast, SpecifyShape)


def is_zeros(var: Variable) -> bool:
    """True when every element of ``var`` is known to be zero: a zero constant, seen through
    allocs, dimshuffles, casts, specify-shapes and fills (``second``)."""
    while var.owner is not None:
        owner = var.owner
        op = owner.op
        if isinstance(op, _VALUE_PRESERVING):
            var = owner.inputs[0]
        elif type(op) is Elemwise and getattr(op.scalar_op, "name", None) == "second":
            var = owner.inputs[1]
        else:
            break
    return var.owner is None and is_const(var, 0)


def _zeros_like_output(fgraph, node):
    out = node.outputs[0]
    if is_zeros(out):
        return None  # already a zero constant or a fill of one: nothing to gain
    new = fit(constant(np.zeros((), dtype=out.dtype)), out, fgraph)
    return None if new is None else [new]


@register_rewrite("mul_by_zero", "fast_run", tracks=("mul",))
def mul_by_zero(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``x * alloc(0, ...)`` (any operand all zeros) -> zeros of the product's shape."""
    if scalar_name(node) != "mul" or not any(is_zeros(i) for i in node.inputs):
        return None
    return _zeros_like_output(fgraph, node)


@register_rewrite("zero_divided", "fast_run", tracks=("true_div", "int_div"))
def zero_divided(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``alloc(0, ...) / y`` -> zeros of the quotient's shape."""
    if scalar_name(node) not in ("true_div", "int_div") or not is_zeros(node.inputs[0]):
        return None
    return _zeros_like_output(fgraph, node)


@register_rewrite("dot_of_zeros", "fast_run", tracks=(Dot,))
def dot_of_zeros(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``dot(zeros, y)`` or ``dot(x, zeros)`` -> zeros of the product's shape."""
    if not any(is_zeros(i) for i in node.inputs):
        return None
    return _zeros_like_output(fgraph, node)


@register_rewrite("sum_of_zeros", "fast_run", tracks=(CAReduce,))
def sum_of_zeros(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``sum(alloc(0, ...), axis)`` -> zeros of the sum's shape."""
    if cast(CAReduce, node.op).kind != "sum" or not is_zeros(node.inputs[0]):
        return None
    return _zeros_like_output(fgraph, node)
