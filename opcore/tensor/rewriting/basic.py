"""Merge (hash-consing of identical nodes and equal constants) and constant folding."""

from __future__ import annotations

from typing import cast

import numpy as np

from opcore.graph.basic import Apply, Constant
from opcore.graph.fg import Feature, FunctionGraph
from opcore.graph.params import perform_params
from opcore.graph.rewriting.engine import TYPE_ADAPTERS
from opcore.tensor.basic import Alloc
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import adapt_type
from opcore.tensor.type import TensorType
from opcore.tensor.hints import RewriteResult

TYPE_ADAPTERS.append(adapt_type)

#: constant folding leaves results bigger than this (in elements) as computations
MAX_FOLD_SIZE = 1 << 16


class MergeTable(Feature):
    """Hash-consing tables for one graph: (op, inputs) -> node and constant signature -> constant.

    Keys can go stale when a node's inputs change; lookups re-check, so no invalidation is needed.
    """

    def __init__(self) -> None:
        self.nodes: dict = {}
        self.constants: dict = {}


def merge_table(fgraph: FunctionGraph) -> MergeTable:
    table = getattr(fgraph, "_merge_table", None)
    if table is None:
        table = MergeTable()
        setattr(fgraph, "_merge_table", table)  # one table per graph, kept on the graph
    return table


def _const_key(c: Constant):
    try:
        key = c.signature()
        hash(key)
        return key
    except TypeError:
        return None


@register_rewrite("merge", "fast_run", "fast_compile", "merge", phase="all")
def merge(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Identical nodes (same op, same inputs) and equal constants become one."""
    table = merge_table(fgraph)
    for inp in node.inputs:
        if isinstance(inp, Constant):
            key = _const_key(inp)
            if key is None:
                continue
            canon = table.constants.get(key)
            if canon is None or canon not in fgraph.variables:
                table.constants[key] = inp
            elif canon is not inp and canon.type == inp.type:
                return {inp: canon}
    try:
        key = (node.op, tuple(node.inputs))
        other = table.nodes.get(key)
    except TypeError:  # an op that cannot be hashed is never merged
        return None
    if (other is None or other is node or other not in fgraph.apply_nodes
            or other.op != node.op or len(other.inputs) != len(node.inputs)
            or any(a is not b for a, b in zip(other.inputs, node.inputs))):
        table.nodes[key] = node
        return None
    if getattr(node.op, "destroy_map", None):
        return None
    return dict(zip(node.outputs, other.outputs))


def _foldable(node) -> bool:
    op = node.op
    if getattr(op, "destroy_map", None) or getattr(op, "_no_constant_folding", False):
        return False
    if getattr(op, "lazy", False):
        return False
    if not all(isinstance(i, Constant) for i in node.inputs):
        return False
    if isinstance(op, Alloc):
        try:
            size = int(np.prod([int(np.asarray(s.data)) for s in node.inputs[1:]]))
        except (TypeError, ValueError):
            return False
        return size <= MAX_FOLD_SIZE
    return True


@register_rewrite("constant_folding", "fast_run", "fast_compile", "constant_folding",
                  phase="canonicalize")
def constant_folding(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """A node whose inputs are all constants is computed now (unless its result is huge)."""
    if not node.inputs or not _foldable(node):
        return None
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, [_const_input(cast(Constant, i)) for i in node.inputs], storage,
                    *perform_params(node.op, node))
    out = []
    for cell, var in zip(storage, node.outputs):
        if isinstance(var.type, TensorType):
            c = _tensor_constant(cell[0], var, node)
        else:
            # any other type (sparse, ...) folds through its own filter and constant class
            c = _other_constant(cell[0], var, node)
        if c is None:
            return None
        out.append(c)
    return out


def _const_input(c: Constant):
    if isinstance(c.type, TensorType) and not isinstance(c.data, np.ndarray):
        return np.asarray(c.data)
    return c.data


def _tensor_constant(val, var, node):
    val = np.asarray(val)
    if val.size > MAX_FOLD_SIZE:
        return None
    if val.dtype != var.type.numpy_dtype:
        val = val.astype(var.type.numpy_dtype)
    if any(i is not None and i.data is val for i in node.inputs):
        val = val.copy()
    c = TensorType(var.dtype, shape=val.shape).make_constant(val)
    if not (var.type == c.type or var.type.is_super(c.type)):
        return None
    return c


def _other_constant(val, var, node):
    make = getattr(var.type, "make_constant", None)
    if make is None or val is None:
        return None
    if any(i is not None and i.data is val for i in node.inputs):
        return None  # a view of an input: keep the computation rather than alias constants
    try:
        return make(var.type.filter(val))
    except (TypeError, ValueError, NotImplementedError):
        return None
