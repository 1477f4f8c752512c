"""Small helpers shared by the rule families: matching elementwise ops, constants, type fitting."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import (
    NotScalarConstantError,
    SpecifyShape,
    alloc,
    as_tensor_variable,
    cast,
    constant,
    get_scalar_constant_value,
)
from opcore.tensor.elemwise import DimShuffle, Elemwise
from opcore.tensor.type import TensorType
from opcore.graph.traversal import ancestors


FLOATS = ("float16", "float32", "float64", "complex64", "complex128")


def scalar_name(node: Apply | None) -> str | None:
    """The scalar op's name when ``node`` is a plain (not in-place) Elemwise, else None."""
    if node is None:
        return None
    op = node.op
    if type(op) is not Elemwise or op.inplace_pattern:
        return None
    return getattr(op.scalar_op, "name", None)


def owner_is(var: Variable, name: str) -> Apply | None:
    """``var.owner`` when it is a plain Elemwise of scalar op ``name``, else None."""
    node = var.owner
    return node if scalar_name(node) == name else None


def const_value(var: Variable, dims_ok: bool = True) -> Any:
    """The scalar value of a constant (seen through dimshuffles/casts), else None."""
    if not dims_ok and var.ndim:
        return None
    try:
        v = get_scalar_constant_value(var)
    except (NotScalarConstantError, ValueError, TypeError, IndexError):
        return None
    if isinstance(v, np.ndarray) and v.size != 1:
        return None
    return v


def is_const(var: Variable, value: complex) -> bool:
    v = const_value(var)
    if v is None:
        return False
    try:
        return bool(np.all(np.asarray(v) == value))
    except (TypeError, ValueError):
        return False


def single_client(fgraph: FunctionGraph, var: Variable) -> bool:
    """True when ``var`` feeds exactly one node and is not a graph output."""
    cl = fgraph.clients.get(var, ())
    return len(cl) == 1 and cl[0][0] != "output"


def fit(new: Variable, old: Variable, fgraph: FunctionGraph = None) -> Variable | None:
    """``new`` adjusted (cast, padded with broadcast dims, broadcast to ``old``'s shape) so it can
    replace ``old``; None when that is not possible without computing ``old`` itself."""
    new = as_tensor_variable(new)
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    if new.ndim > old.ndim:
        return None
    if new.ndim < old.ndim:
        new = DimShuffle(new.broadcastable, ["x"] * (old.ndim - new.ndim) + list(range(new.ndim)))(
            new)
    if old.type == new.type:
        return new
    # new of length 1 where old may be longer: the value must be broadcast to old's shape
    # (is_super alone would accept it, but the values would differ)
    need_alloc = any(ns == 1 and os != 1 for ns, os in zip(new.type.shape, old.type.shape))
    if not need_alloc and old.type.is_super(new.type):
        return new
    if need_alloc:
        if fgraph is None:
            return None
        from opcore.tensor.rewriting.shape import shape_feature

        dims = shape_feature(fgraph).shape_of(old)
        if dims is None or _mentions(dims, old):
            return None
        new = alloc(new, *dims)
    if old.type == new.type or old.type.is_super(new.type):
        return new
    adapted = adapt_type(old, new)
    return adapted


def _mentions(dims, var) -> bool:

    return var in set(ancestors(list(dims)))


def adapt_type(old: Variable, new: Variable) -> Variable | None:
    """Wrap ``new`` in a SpecifyShape giving it ``old``'s static shape when they are compatible."""
    ot, nt = old.type, new.type
    if not (isinstance(ot, TensorType) and isinstance(nt, TensorType)):
        return None
    if ot.dtype != nt.dtype or ot.ndim != nt.ndim:
        return None
    if any(o is not None and n is not None and o != n for o, n in zip(ot.shape, nt.shape)):
        return None
    out = SpecifyShape(ot.shape)(new)
    return out if (ot == out.type or ot.is_super(out.type)) else None


def is_constant(var: Variable) -> bool:
    return isinstance(var, Constant)


def mul_factors(var: Variable) -> list[Variable]:
    """The factors of a tree of binary ``mul`` nodes rooted at ``var`` (``[var]`` when it is not
    a product)."""
    out, stack = [], [var]
    while stack:
        v = stack.pop()
        node = owner_is(v, "mul")
        if node is None:
            out.append(v)
        else:
            stack.extend(reversed(node.inputs))
    return out


def product(factors: Sequence[Variable], like: Variable) -> Variable:
    """``mul`` of ``factors`` (1 of ``like``'s dtype when there is none)."""
    if not factors:
        return constant(np.asarray(1, dtype=like.dtype))
    out = factors[0]
    for f in factors[1:]:
        out = M.mul(out, f)
    return out
