"""Random-number rewrites: drop ``UndefinedGrad`` markers, draw into the generator in place.

A random node whose generator (NumPy ``Generator`` or MRG state matrix) may be destroyed, i.e.
a shared variable the function replaces by its update and nobody else reads, advances that
generator in place instead of copying it first (Theano's ``random_make_inplace``).
"""

from __future__ import annotations

from typing import cast

from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph
from opcore.tensor.random.mrg import mrg_uniform
from opcore.tensor.random.op import RandomVariable, UndefinedGrad
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.inplace import destroy_handler
from opcore.tensor.hints import RewriteResult


@register_rewrite("remove_undefined_grad", "fast_run", "fast_compile", tracks=(UndefinedGrad,))
def remove_undefined_grad(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``UndefinedGrad(x)`` -> ``x`` (it only matters to ``grad``, which has run by now)."""
    return [node.inputs[0]]


@register_rewrite("random_make_inplace", "fast_run", "inplace", phase="inplace",
                  tracks=(RandomVariable, mrg_uniform))
def random_make_inplace(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    op = cast("RandomVariable | mrg_uniform", node.op)
    if op.inplace or not destroy_handler(fgraph).can_destroy(fgraph, node, 0):
        return None
    props = op._props_dict()
    props["inplace"] = True
    return type(op)(**props).make_node(*node.inputs).outputs
