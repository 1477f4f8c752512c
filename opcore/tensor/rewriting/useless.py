"""Removing ops that do nothing: identity dimshuffles, same-dtype casts, redundant reshapes,
specify-shapes and allocs, and allocs feeding an elementwise op that broadcasts anyway."""

from __future__ import annotations

from typing import cast

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor.basic import Alloc, Cast, Shape, Shape_i, SpecifyShape, Unbroadcast, alloc
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from opcore.tensor.gradient_ops import GradientViewOp
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import const_value, fit
from opcore.tensor.shape import Reshape
from opcore.tensor.subtensor import Subtensor
from opcore.tensor.hints import RewriteResult


@register_rewrite("useless_dimshuffle", "fast_run", "fast_compile", phase="all",
                  tracks=(DimShuffle,))
def useless_dimshuffle(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Identity dimshuffles vanish; a dimshuffle of a dimshuffle becomes one."""
    op = cast(DimShuffle, node.op)
    x = node.inputs[0]
    if op.new_order == tuple(range(x.ndim)):
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, DimShuffle):
        src = inner.inputs[0]
        order = [("x" if isinstance(d, str) else inner.op.new_order[d]) for d in op.new_order]
        if order == list(range(src.ndim)):
            new = src
        else:
            new = DimShuffle(src.broadcastable, order)(src)
        return [fit(new, node.outputs[0], fgraph)]
    return None


@register_rewrite("useless_cast", "fast_run", "fast_compile", tracks=(Cast,))
def useless_cast(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``cast(x, x.dtype)`` -> ``x``; ``cast(cast(x, wider), dt)`` -> ``cast(x, dt)``."""
    x = node.inputs[0]
    dtype = cast(Cast, node.op).dtype
    if x.dtype == dtype:
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, Cast):
        src = inner.inputs[0]
        # only when the intermediate dtype holds every value of the source exactly
        if np.can_cast(src.dtype, inner.op.dtype, "safe"):
            return [src if src.dtype == dtype else Cast(dtype)(src)]
    return None


@register_rewrite("useless_specify_shape", "fast_run", tracks=(SpecifyShape, Unbroadcast))
def useless_specify_shape(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """A specify-shape that adds nothing the input's type does not already say."""
    x = node.inputs[0]
    out = node.outputs[0]
    if x.type == out.type or out.type.is_super(x.type):
        return [x]
    return None


@register_rewrite("useless_reshape", "fast_run", tracks=(Reshape,))
def useless_reshape(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``reshape(x, x.shape)`` (or to its known static shape) -> ``x``."""
    x, shp = node.inputs
    out = node.outputs[0]
    if x.ndim != out.ndim:
        return None
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        return [fit(x, out, fgraph)]
    if isinstance(shp, Constant) and None not in x.type.shape:
        if tuple(int(s) for s in shp.data) == x.type.shape:
            return [fit(x, out, fgraph)]
    if shp.owner is not None and type(shp.owner.op).__name__ == "MakeVector":
        parts = shp.owner.inputs
        ok = True
        for d, p in enumerate(parts):
            if (p.owner is not None and isinstance(p.owner.op, Shape_i) and p.owner.op.i == d
                    and p.owner.inputs[0] is x):
                continue
            c = const_value(p)
            if c is not None and x.type.shape[d] is not None and int(c) == x.type.shape[d]:
                continue
            ok = False
            break
        if ok:
            return [fit(x, out, fgraph)]
    return None


@register_rewrite("useless_alloc", "fast_run", tracks=(Alloc,))
def useless_alloc(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``alloc(x, *x.shape)`` -> ``x``."""
    v, *shape = node.inputs
    out = node.outputs[0]
    if v.ndim != out.ndim:
        return None
    for d, s in enumerate(shape):
        if s.owner is not None and isinstance(s.owner.op, Shape_i) and s.owner.op.i == d and (
                s.owner.inputs[0] is v):
            continue
        c = const_value(s)
        if c is not None and v.type.shape[d] is not None and int(c) == v.type.shape[d]:
            continue
        return None
    return [fit(v, out, fgraph)]


def _same_dim(a, b) -> bool:
    if a is b:
        return True
    ca, cb = const_value(a), const_value(b)
    return ca is not None and cb is not None and int(ca) == int(cb)


@register_rewrite("alloc_of_alloc", "fast_run", tracks=(Alloc,), before=("alloc_into_elemwise",))
def alloc_of_alloc(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``alloc(dimshuffle(alloc(s, *inner)), *shape)`` -> ``alloc(s, *shape)`` for a value ``s``
    broadcastable everywhere, when each inner length is 1 or the very same length as the outer
    one (so the outer alloc could not have failed): a gradient's ``mean`` fills one array, not
    two, and ``alloc_into_elemwise`` can then pass ``s`` itself to the elementwise op."""
    x, *shape = node.inputs
    orders = []
    while x.owner is not None and isinstance(x.owner.op, DimShuffle):
        orders.append(x.owner.op.new_order)
        x = x.owner.inputs[0]
    if x.owner is None or not isinstance(x.owner.op, Alloc):
        return None
    val, *inner = x.owner.inputs
    if not all(val.type.broadcastable) or val.dtype != node.outputs[0].dtype:
        return None
    dims: list[Variable | None] = list(inner)  # None: a broadcast axis of length 1
    for order in reversed(orders):
        dims = [None if isinstance(d, str) else dims[d] for d in order]
    if len(dims) > len(shape):
        return None
    for d, s in zip(dims, shape[len(shape) - len(dims):]):
        if d is not None and const_value(d) != 1 and not _same_dim(d, s):
            return None
    return [fit(alloc(val, *shape), node.outputs[0], fgraph)]


@register_rewrite("alloc_into_elemwise", "fast_run", tracks=(Elemwise,))
def alloc_into_elemwise(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``alloc(v, shape) + y`` -> ``v + y`` when ``y`` alone already has the output's shape.

    The alloc's value broadcasts the same way; the shapes then come from ``y``.  (Like Theano,
    a run-time mismatch between the alloc's shape and y's is no longer detected.)
    """
    if cast(Elemwise, node.op).inplace_pattern or len(node.outputs) != 1:
        return None
    out = node.outputs[0]
    idx = [i for i, v in enumerate(node.inputs)
           if v.owner is not None and isinstance(v.owner.op, Alloc)
           and len(fgraph.clients.get(v, ())) >= 1]
    if not idx:
        return None
    full = [v for v in node.inputs if v.type.broadcastable == out.type.broadcastable
            and not (v.owner is not None and isinstance(v.owner.op, Alloc))]
    if not full:
        return None
    new_inputs = list(node.inputs)
    changed = False
    for i in idx:
        a = node.inputs[i]
        val = cast("Apply", a.owner).inputs[0]  # an Alloc's output (see idx)
        if val.ndim < out.ndim:
            val = DimShuffle(val.broadcastable,
                             ["x"] * (out.ndim - val.ndim) + list(range(val.ndim)))(val)
        # Alloc broadcasts a length-1 value even when its type does not say so; only a value
        # broadcastable everywhere is guaranteed to broadcast the same way inside Elemwise
        if val.dtype != a.dtype or not all(val.type.broadcastable):
            continue
        new_inputs[i] = val
        changed = True
    if not changed:
        return None
    new = node.op(*new_inputs)
    return [fit(new, out, fgraph)]


@register_rewrite("elemwise_of_allocs", "fast_run", tracks=(Elemwise,),
                  before=("alloc_into_elemwise",))
def elemwise_of_allocs(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``f(alloc(a, shape), c)`` with only allocs and broadcast scalars -> ``alloc(f(a, c), shape)``.

    The elementwise op then runs on the small values; one alloc gives the shape.
    """
    if cast(Elemwise, node.op).inplace_pattern or len(node.outputs) != 1:
        return None
    out = node.outputs[0]
    full = None
    values = []
    for v in node.inputs:
        if v.owner is not None and isinstance(v.owner.op, Alloc):
            if full is None and v.type.broadcastable == out.type.broadcastable:
                full = v
            val = v.owner.inputs[0]
            if val.ndim < out.ndim:
                val = DimShuffle(val.broadcastable,
                                 ["x"] * (out.ndim - val.ndim) + list(range(val.ndim)))(val)
            if not all(val.type.broadcastable):
                return None  # see alloc_into_elemwise
            values.append(val)
        elif all(v.type.broadcastable):
            values.append(v)
        else:
            return None
    if full is None:
        return None
    small = node.op(*values)

    shape = cast("Apply", full.owner).inputs[1:]  # full is an Alloc's output
    new = alloc(small, *shape) if small.type != out.type else small
    return [fit(new, out, fgraph)]


@register_rewrite("index_of_length_one_axis", "fast_run", tracks=(Subtensor,))
def index_of_length_one_axis(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``x[0]`` or ``x[-1]`` of an ``x`` whose first axis has length 1 by type (a
    ``shape_padleft``, the one-step ``scan`` output) -> ``x`` without that axis, a view; any
    other index is left to raise ``IndexError`` at run time."""
    if getattr(node.op, "idx_spec", None) != (("int",),) or len(node.inputs) != 2:
        return None
    x, idx = node.inputs
    if x.type.shape[:1] != (1,) or const_value(idx, dims_ok=False) not in (0, -1):
        return None
    new = DimShuffle(x.broadcastable, list(range(1, x.ndim)))(x)
    new = fit(new, node.outputs[0], fgraph)
    return None if new is None else [new]


@register_rewrite("remove_gradient_ops", "fast_run", "fast_compile", tracks=(GradientViewOp,))
def remove_gradient_ops(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``zero_grad``, ``disconnected_grad``, ``grad_clip``, ``grad_scale``: identities once the
    gradient is built."""
    return [node.inputs[0]]


@register_rewrite("reduce_length_one_axes", "fast_run", tracks=(CAReduce,))
def reduce_length_one_axes(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Reducing over an axis of length 1 changes no value: ``Sum{axis=0}(DimShuffle{x,0}(v))``
    -> ``v``; the other reduced axes stay reduced (the result is cast to the reduction's dtype)."""
    x = node.inputs[0]
    op = node.op
    if type(op) is not CAReduce:
        return None  # a subclass may mean more than its kind: it is not rebuilt as a CAReduce
    axes = tuple(range(x.ndim)) if op.axis is None else op.axis
    ones = [a for a in axes if x.type.shape[a] == 1]
    if not ones:
        return None
    keep = [d for d in range(x.ndim) if d not in ones]
    new = DimShuffle(x.broadcastable, keep)(x)
    rest = [keep.index(a) for a in axes if a not in ones]
    if rest:
        new = CAReduce(op.kind, axis=rest, dtype=op.dtype, acc_dtype=op.acc_dtype)(new)
    new = fit(new, node.outputs[0], fgraph)
    return None if new is None else [new]


@register_rewrite("newaxis_subtensor_to_dimshuffle", "fast_run", tracks=(Subtensor,))
def newaxis_subtensor_to_dimshuffle(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``x[None, :]``, ``x[:, None]``... (only ``newaxis`` and full slices) -> the DimShuffle
    that adds those axes (Theano builds these as DimShuffles), so the dimshuffle rules (merging,
    dropping the axis again in a factored sum) see them."""
    spec = getattr(node.op, "idx_spec", None)
    if (not spec or len(node.inputs) != 1
            or any(e != ("none",) and e != ("slice", False, False, False) for e in spec)):
        return None
    x = node.inputs[0]
    order: list = []
    d = 0
    for e in spec:
        if e == ("none",):
            order.append("x")
        else:
            order.append(d)
            d += 1
    order.extend(range(d, x.ndim))
    if d > x.ndim:
        return None
    new = fit(DimShuffle(x.broadcastable, order)(x), node.outputs[0], fgraph)
    return None if new is None else [new]


def dimshuffle_lift(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``DimShuffle(elemwise(a, b))`` -> ``elemwise(DimShuffle(a), DimShuffle(b))`` when the
    dimshuffle only adds or drops broadcastable axes (no transpose) and is the elementwise
    result's only reader or that result has one element (Theano's ``local_dimshuffle_lift``): the dimshuffles meet and merge
    at the inputs and the elementwise chain they split fuses (a mean's gradient scale
    ``-1 / n`` reaches its consumer as one broadcast scalar, not a chain of 1-element nodes)."""
    op = cast(DimShuffle, node.op)
    x = node.inputs[0]
    inner = x.owner
    if (inner is None or type(inner.op) is not Elemwise or inner.op.inplace_pattern
            or len(inner.outputs) != 1):
        return None
    # another reader keeps the elementwise node: only a one-element result is worth recomputing
    if len(fgraph.clients.get(x, ())) != 1 and any(d != 1 for d in x.type.shape):
        return None
    kept = [d for d in op.new_order if not isinstance(d, str)]
    if kept != sorted(kept):
        return None
    new_inputs = [DimShuffle(v.broadcastable, op.new_order)(v) for v in inner.inputs]
    new = fit(inner.op(*new_inputs), node.outputs[0], fgraph)
    return None if new is None else [new]


register_rewrite("dimshuffle_lift", "fast_run", tracks=(DimShuffle,))(dimshuffle_lift)
register_rewrite("dimshuffle_lift_specialized", "fast_run", "dimshuffle_lift",
                 phase="specialize", tracks=(DimShuffle,))(dimshuffle_lift)
