"""A graph as text in Theano's ``as_string`` form: ``add(z, mul(x, true_div(z, x)))``.

A node used more than once is written ``*n -> op(...)`` the first time and ``*n`` afterwards;
an output of a multi-output node carries ``::i``.

>>> import opcore.tensor as T
>>> x, y = T.dscalars('x', 'y')
>>> s = x + y
>>> as_string([x, y], [s * s], node_formatter=lambda node, args: f"{node.op.scalar_op}({', '.join(args)})")
['mul(*1 -> add(x, y), *1)']
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from opcore.graph.basic import Apply, Variable, op_str
from opcore.graph.traversal import graph_inputs, io_toposort

__all__ = ["as_string", "default_leaf_formatter", "default_node_formatter"]


def default_leaf_formatter(v: Variable) -> str:
    return str(v)


def default_node_formatter(node: Apply, argstrings: Sequence[str]) -> str:
    return f"{op_str(node)}({', '.join(argstrings)})"


def as_string(inputs: Sequence[Variable], outputs: Sequence[Variable],
              leaf_formatter: Callable[[Variable], str] = default_leaf_formatter,
              node_formatter: Callable[[Apply, Sequence[str]], str] = default_node_formatter
              ) -> list[str]:
    """One string per output describing the graph from ``inputs`` to ``outputs``."""
    ins = set(inputs)
    roots = set(graph_inputs(outputs))
    leaves = ins | roots
    order = io_toposort(list(ins) + [r for r in roots if r not in ins], list(outputs))
    uses: dict[Apply, int] = {}
    for out in outputs:
        if out.owner is not None and out not in leaves:
            uses[out.owner] = uses.get(out.owner, 0) + 1
    for node in order:
        for v in node.inputs:
            if v.owner is not None and v not in leaves:
                uses[v.owner] = uses.get(v.owner, 0) + 1
    multi = [n for n in order if uses.get(n, 0) > 1]
    index = {n: k + 1 for k, n in enumerate(multi)}
    done: set[Apply] = set()

    def start(v: Variable, frames: list) -> str | None:
        """The text of ``v`` when known at once, else None after pushing a frame for its node."""
        node = v.owner
        if node is None or v in leaves:
            return leaf_formatter(v)
        if node in done:
            idx = "" if len(node.outputs) == 1 else f"::{node.outputs.index(v)}"
            return f"*{index[node]}{idx}"
        done.add(node)
        frames.append((node, []))
        return None

    def describe(root: Variable) -> str:
        # iterative (deep graphs must not hit the recursion limit)
        frames: list[tuple[Apply, list[str]]] = []
        text = start(root, frames)
        while text is None:
            node, args = frames[-1]
            if len(args) < len(node.inputs):
                child = start(node.inputs[len(args)], frames)
                if child is not None:
                    args.append(child)
                continue
            frames.pop()
            body = node_formatter(node, args)
            body = f"*{index[node]} -> {body}" if node in index else body
            if frames:
                frames[-1][1].append(body)
            else:
                text = body
        return text

    return [describe(o) for o in outputs]
