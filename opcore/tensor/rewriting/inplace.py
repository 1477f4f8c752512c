"""In-place elementwise: an Elemwise writes its result into an input nobody else needs.

The graph gets a :class:`~opcore.graph.destroyhandler.DestroyHandler`, which decides whether an
input may be overwritten (never a constant, a protected input the caller can see, a graph output,
or a buffer another node still reads, following view_map aliasing).
"""

from __future__ import annotations

from typing import cast

from opcore.graph.basic import Apply
from opcore.graph.destroyhandler import DestroyHandler
from opcore.graph.fg import FunctionGraph
from opcore.tensor.elemwise import Elemwise
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.hints import RewriteResult


def destroy_handler(fgraph: FunctionGraph) -> DestroyHandler:
    dh = getattr(fgraph, "destroy_handler", None)
    if dh is None:
        dh = DestroyHandler()
        fgraph.attach_feature(dh)
    return dh


@register_rewrite("elemwise_inplace", "fast_run", "inplace", phase="inplace", tracks=(Elemwise,))
def elemwise_inplace(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``Elemwise(op)`` -> ``Elemwise(op, inplace_pattern={0: i})`` when input i may be destroyed."""
    op = cast(Elemwise, node.op)
    if op.inplace_pattern or len(node.outputs) != 1:
        return None
    out = node.outputs[0]
    dh = destroy_handler(fgraph)
    for i, inp in enumerate(node.inputs):
        if inp.type != out.type:
            continue
        if not dh.can_destroy(fgraph, node, i):
            continue
        # a user-chosen name is kept; Theano's ",no_inplace}" name would now be wrong
        name = None if (op.name or "").endswith(",no_inplace}") else op.name
        new_op = Elemwise(op.scalar_op, {0: i}, name=name)
        try:
            return [new_op(*node.inputs)]
        except TypeError:  # e.g. the input's static shape is less precise than the output's
            continue
    return None
