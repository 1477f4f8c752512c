"""The shape feature: shapes computed from ``infer_shape``, never by running the producer.

``shape_feature(fgraph).shape_of(var)`` returns a tuple of int64 scalar variables built from the
``infer_shape`` methods of ``var``'s ancestors (memoised per variable).  The rules here replace
``Shape(x)``, ``Shape_i(x)`` and ``x.shape[k]`` by those expressions, so ``function([x],
f(x).shape)`` no longer computes ``f(x)``.
"""

from __future__ import annotations

import typing

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import Feature, FunctionGraph
from opcore.graph.op import ShapeUnknown
from opcore.tensor.basic import (ARange, MakeVector, Shape, Shape_i, as_tensor_variable, cast,
                                 constant)
from opcore.tensor.elemwise import DimShuffle, Elemwise
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.subtensor import Subtensor
from opcore.tensor.type import TensorType
from opcore.tensor.hints import RewriteResult


def _int64(v) -> Variable:
    v = as_tensor_variable(v) if not isinstance(v, (int, np.integer)) else constant(np.int64(v))
    if v.ndim != 0:
        raise TypeError(f"infer_shape gave a non-scalar dimension {v} ({v.type})")
    return cast(v, "int64") if v.dtype != "int64" else v


class ShapeFeature(Feature):
    """Memoised symbolic shapes of the graph's variables."""

    def __init__(self) -> None:
        self.cache: dict = {}

    def _fallback(self, var) -> tuple:
        return tuple(constant(np.int64(s)) if s is not None else Shape_i(d)(var)
                     for d, s in enumerate(var.type.shape))

    def shape_of(self, var: Variable) -> tuple | None:
        """The shape of ``var`` as int64 scalars, or None when ``var`` is not a tensor."""
        if not isinstance(var.type, TensorType):
            return None
        if var in self.cache:
            return self.cache[var]
        # iterative: compute the shapes of ancestors first (deep graphs must not recurse)
        stack = [var]
        while stack:
            v = stack[-1]
            if v in self.cache:
                stack.pop()
                continue
            node = v.owner
            if node is None or isinstance(v, Constant):
                self.cache[v] = (tuple(constant(np.int64(s)) for s in np.shape(v.data))
                                 if isinstance(v, Constant) else self._fallback(v))
                stack.pop()
                continue
            missing = [i for i in node.inputs if isinstance(i.type, TensorType)
                       and i not in self.cache]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            self._infer(node)
            if v not in self.cache:
                self.cache[v] = self._fallback(v)
        return self.cache[var]

    def _infer(self, node) -> None:
        shapes = [self.cache.get(i) if isinstance(i.type, TensorType) else None
                  for i in node.inputs]
        fn = getattr(node.op, "infer_shape", None)
        result = None
        if fn is not None:
            try:
                try:
                    result = fn(node, shapes)
                except TypeError:
                    result = fn(None, node, shapes)  # the PyTensor signature (fgraph first)
            except (NotImplementedError, TypeError, ValueError, AttributeError, IndexError,
                    ShapeUnknown):  # the op cannot tell: fall back to Shape of the value
                result = None
        for k, out in enumerate(node.outputs):
            if not isinstance(out.type, TensorType):
                continue
            dims = None
            if result is not None and k < len(result) and result[k] is not None:
                try:
                    dims = tuple(_int64(d) for d in result[k])
                except (TypeError, ValueError):
                    dims = None
                if dims is not None and len(dims) != out.ndim:
                    raise ValueError(f"{node.op}.infer_shape gave {len(dims)} dimensions for "
                                     f"output {k}, which has {out.ndim}")
            if dims is not None:
                # static lengths known from the type beat symbolic ones
                dims = tuple(constant(np.int64(s)) if s is not None else d
                             for d, s in zip(dims, out.type.shape))
            self.cache[out] = dims if dims is not None else self._fallback(out)


def shape_feature(fgraph: FunctionGraph) -> ShapeFeature:
    feat = getattr(fgraph, "_shape_feature", None)
    if feat is None:
        feat = ShapeFeature()
        setattr(fgraph, "_shape_feature", feat)  # one memo per graph, kept on the graph
    return feat


def _same_dim(d, node_out) -> bool:
    """True when the inferred dimension is the very Shape_i node we would replace."""
    return d is node_out or (d.owner is not None and d.owner.op == node_out.owner.op
                             and d.owner.inputs == node_out.owner.inputs)


@register_rewrite("shape_i_infer", "fast_run", "shape", tracks=(Shape_i,))
def shape_i_infer(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``Shape_i{k}(x)`` -> the k-th dimension inferred from x's producer."""
    x = node.inputs[0]
    i = typing.cast(Shape_i, node.op).i
    if x.owner is None and x.type.shape[i] is None:
        return None
    # x is a tensor (Shape_i's input), so its shape is known
    dims = typing.cast("tuple[Variable, ...]", shape_feature(fgraph).shape_of(x))
    d = dims[i]
    if _same_dim(d, node.outputs[0]):
        return None
    return [d]


@register_rewrite("shape_infer", "fast_run", "shape", tracks=(Shape,))
def shape_infer(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``Shape(x)`` -> ``MakeVector`` of the inferred dimensions (constant when all known)."""
    x = node.inputs[0]
    # x is a tensor (Shape's input), so its shape is known
    dims = typing.cast("tuple[Variable, ...]", shape_feature(fgraph).shape_of(x))
    if all(isinstance(d, Constant) for d in dims):
        return [constant(np.asarray([int(d.data) for d in dims], dtype="int64"))]
    if x.ndim == 0:
        return None
    return [MakeVector("int64")(*dims)]


@register_rewrite("subtensor_of_makevector", "fast_run", "shape", phase="all",
                  tracks=(Subtensor,))
def subtensor_of_makevector(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``MakeVector(a, b, c)[1]`` -> ``b`` (what ``x.shape[1]`` becomes)."""
    if typing.cast(Subtensor, node.op).idx_spec != (("int",),) or len(node.inputs) != 2:
        return None
    vec, idx = node.inputs
    if vec.owner is None or not isinstance(vec.owner.op, MakeVector):
        return None
    if not isinstance(idx, Constant):
        return None
    k = int(np.asarray(idx.data))
    parts = vec.owner.inputs
    if not -len(parts) <= k < len(parts):
        return None
    part = parts[k]
    out = node.outputs[0]
    if part.dtype != out.dtype:
        part = cast(part, out.dtype)
    return [part]


@register_rewrite("shape_i_of_elemwise", "fast_run", "shape", phase="all", tracks=(Shape_i,))
def shape_i_of_elemwise(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``Shape_i{k}(elemwise(a, b))`` -> ``Shape_i{k}(a)`` (the first input not broadcastable
    along k; 1 when all are), ``Shape_i{k}(DimShuffle(x))`` -> ``Shape_i{j}(x)`` and
    ``Shape_i{0}(x[arange(y.shape[0]), y])`` -> ``y.shape[0]`` (vector indices of one length by
    construction): the length is read from the inputs, so a result needed only for its shape is
    not computed.  Runs in every phase: the shape feature's memo serves the canonicalize phase,
    while rules of later phases replace the variables it had measured (an MLP's mean of the
    cross-entropy kept a negation of the whole loss vector alive for its length; a hand-written
    softmax's indexed probabilities were computed for the length of the fused cross-entropy)."""
    x = node.inputs[0]
    k = typing.cast(Shape_i, node.op).i
    p = x.owner
    if x.type.shape[k] is not None:
        new: Variable = constant(np.int64(x.type.shape[k]))
    elif p is not None and isinstance(p.op, Elemwise):
        src = [v for v in p.inputs if not v.type.broadcastable[k]]
        if not src:
            return None
        new = Shape_i(k)(src[0])
    elif p is not None and isinstance(p.op, DimShuffle):
        j = p.op.new_order[k]
        if isinstance(j, str):
            return None
        new = Shape_i(j)(p.inputs[0])
    elif p is not None and isinstance(p.op, Subtensor) and k == 0:
        found = _indexed_length(p)
        if found is None:
            return None
        new = found
    else:
        return None
    return [new] if new.type == node.outputs[0].type else None


def _length(index: Variable) -> Variable:
    """The length of a vector index: ``n`` for ``arange(0, n, 1)``, else ``Shape_i{0}``."""
    node = index.owner
    if node is not None and isinstance(node.op, ARange):
        start, stop, step = node.inputs
        if (isinstance(start, Constant) and np.asarray(start.data) == 0
                and isinstance(step, Constant) and np.asarray(step.data) == 1
                and stop.dtype == "int64" and stop.ndim == 0):
            return stop
    return Shape_i(0)(index)


def _same(a: Variable, b: Variable) -> bool:
    if a is b:
        return True
    if isinstance(a, Constant) and isinstance(b, Constant):
        return bool(np.asarray(a.data) == np.asarray(b.data))
    return (a.owner is not None and b.owner is not None and a.owner.op == b.owner.op
            and isinstance(a.owner.op, Shape_i) and a.owner.inputs == b.owner.inputs)


def _indexed_length(node: Apply) -> Variable | None:
    """The length of ``x[i0, i1, ...]`` (vector integer indices only) when every index has
    the same length by construction (``x[arange(y.shape[0]), y]``), else None."""
    spec = typing.cast(Subtensor, node.op).idx_spec
    idx = node.inputs[1:]
    if (not spec or any(e != ("adv", 1) for e in spec) or len(idx) != len(spec)
            or any(i.ndim != 1 or i.dtype not in ("int8", "int16", "int32", "int64",
                                                  "uint8", "uint16", "uint32", "uint64")
                   for i in idx)):
        return None
    lengths = [_length(i) for i in idx]
    if not all(_same(lengths[0], n) for n in lengths[1:]):
        return None
    return lengths[0]
