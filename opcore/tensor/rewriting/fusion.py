"""Elementwise fusion: chains of elementwise ops become one ``Elemwise(Composite(...))`` node.

The phase walks the graph from the outputs; at each elementwise node it absorbs, upward, every
elementwise producer whose result is used only inside the group, so each group is built once.
The Composite keeps the scalar ops and their dtypes step by step, which is what the C and GPU
backends turn into a single loop (``Composite.c_exprs``).
"""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Constant
from opcore.scalar.basic import Composite
from opcore.tensor.elemwise import Elemwise
from opcore.tensor.rewriting import register_rewrite

#: the most inputs a fused node may have (backends pass one pointer per input)
MAX_FUSED_INPUTS = 32


def _fusable(node) -> bool:
    op = node.op
    if type(op) is not Elemwise or op.inplace_pattern or len(node.outputs) != 1:
        return False
    so = op.scalar_op
    if isinstance(so, Composite):
        return len(so.outputs) == 1
    return getattr(so, "numpy", None) is not None


def _scalar_const(var):
    """A scalar (one element) constant's value and dtype, for embedding in the Composite."""
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size != 1:
        return None
    return (data.reshape(()).item(), data.dtype.name)


@register_rewrite("elemwise_fusion", "fast_run", "fusion", phase="fusion", tracks=(Elemwise,))
def elemwise_fusion(fgraph, node):
    """Fuse ``node`` with the elementwise producers used only by it into one Composite node."""
    if not _fusable(node):
        return None
    out = node.outputs[0]
    group = {node}
    frontier = [node]
    ext_count = len(node.inputs)
    while frontier:
        n = frontier.pop()
        for inp in n.inputs:
            p = inp.owner
            if p is None or p in group or not _fusable(p):
                continue
            cl = fgraph.clients.get(inp, ())
            if not cl or any(c == "output" or c not in group for c, _ in cl):
                continue
            if inp.ndim != out.ndim:
                continue
            if ext_count - 1 + len(p.inputs) > MAX_FUSED_INPUTS:
                continue
            group.add(p)
            frontier.append(p)
            ext_count += len(p.inputs) - 1
    if len(group) < 2:
        return None
    # order the group's nodes (inputs first) with a DFS from the root
    order = []
    seen = set()
    stack = [(node, False)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
            continue
        if n in seen:
            continue
        seen.add(n)
        stack.append((n, True))
        for inp in n.inputs:
            if inp.owner in group and inp.owner not in seen:
                stack.append((inp.owner, False))
    inputs: list = []
    in_index: dict = {}
    steps: list = []
    value_of: dict = {}  # group variable -> ("s", k)

    def arg(var):
        if var in value_of:
            return value_of[var]
        sc = _scalar_const(var)
        if sc is not None:
            return ("c", sc[0], sc[1])
        if var not in in_index:
            in_index[var] = len(inputs)
            inputs.append(var)
        return ("i", in_index[var])

    for n in order:
        so = n.op.scalar_op
        args = [arg(v) for v in n.inputs]
        if isinstance(so, Composite):
            base = len(steps)
            for sop, sargs, sdt in so.steps:
                mapped = []
                for a in sargs:
                    if a[0] == "i":
                        mapped.append(args[a[1]])
                    elif a[0] == "s":
                        mapped.append(("s", base + a[1]))
                    else:
                        mapped.append(a)
                steps.append((sop, tuple(mapped), sdt))
            value_of[n.outputs[0]] = ("s", base + so.outputs[0])
        else:
            steps.append((so, tuple(args), n.outputs[0].dtype))
            value_of[n.outputs[0]] = ("s", len(steps) - 1)
    if not inputs:
        return None  # all-constant: constant folding's job
    comp = Composite(len(inputs), [v.dtype for v in inputs], steps, [value_of[out][1]])
    new = Elemwise(comp)(*inputs)
    if new.type != out.type and not out.type.is_super(new.type):
        return None
    return [new]
