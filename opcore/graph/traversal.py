"""Graph walks, all iterative: a 100,000-node chain never touches the recursion limit."""

from __future__ import annotations

import gc
from typing import Any, Iterable, Sequence, overload

from opcore.graph.basic import Apply, Constant, Variable


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] | None = (),
              last_first: bool = False) -> list[Variable]:
    """Every variable the outputs depend on (including them), stopping at ``blockers``.

    Depth-first, each node's inputs left to right, from the first output (``last_first=True``:
    from the last, Theano's ``gof.graph`` order).
    """
    block = set(blockers or ())
    seen: set[int] = set()
    out: list[Variable] = []
    stack = list(outputs) if last_first else list(outputs)[::-1]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        out.append(v)
        if v.owner is not None and v not in block:
            stack.extend(reversed(v.owner.inputs))
    return out


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The root variables (no owner, or blocked) the outputs depend on, in discovery order."""
    block = set(blockers)
    return [v for v in ancestors(outputs, block) if v.owner is None or v in block]


def io_toposort(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list[Apply]:
    """Apply nodes between ``inputs`` and ``outputs`` in an order where producers come first."""
    stop = set(inputs)
    order: list[Apply] = []
    done: set[Apply] = set()
    visiting: set[Apply] = set()
    for out in outputs:
        if out in stop or out.owner is None or out.owner in done:
            continue
        stack = [(out.owner, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                visiting.discard(node)
                if node not in done:
                    done.add(node)
                    order.append(node)
                continue
            if node in done:
                continue
            if node in visiting:
                raise ValueError(f"the graph has a cycle through {node}")
            visiting.add(node)
            stack.append((node, True))
            for inp in reversed(node.inputs):
                o = inp.owner
                if o is not None and inp not in stop and o not in done:
                    stack.append((o, False))
    return order


def applys_between(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list[Apply]:
    return io_toposort(inputs, outputs)


def clone_get_equiv(inputs: Sequence[Variable], outputs: Sequence[Variable],
                    copy_inputs: bool = True, copy_orphans: bool = True,
                    memo: dict[Any, Any] | None = None) -> dict[Any, Any]:
    """Clone the graph between inputs and outputs; return the old -> new map (vars and nodes)."""
    memo = {} if memo is None else memo
    order = io_toposort(inputs, outputs)
    if len(order) < 5000:
        return _clone_nodes(order, inputs, outputs, copy_inputs, copy_orphans, memo)
    # cloning allocates many long-lived objects at once: the cyclic GC would rescan the growing
    # heap again and again (3x slower on a 100,000-node chain) although no cycle is garbage yet
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _clone_nodes(order, inputs, outputs, copy_inputs, copy_orphans, memo)
    finally:
        if enabled:
            gc.enable()


def _clone_nodes(order: list[Apply], inputs: Sequence[Variable], outputs: Sequence[Variable],
                 copy_inputs: bool, copy_orphans: bool, memo: dict[Any, Any]) -> dict[Any, Any]:
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp
    for node in order:
        new_inputs = []
        for v in node.inputs:
            if v not in memo:
                if isinstance(v, Constant) or v.owner is None:
                    memo[v] = v.clone() if copy_orphans else v
            new_inputs.append(memo[v])
        new_node = node.clone_with_new_inputs(new_inputs, strict=False)
        memo[node] = new_node
        for old, new in zip(node.outputs, new_node.outputs):
            memo.setdefault(old, new)
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if copy_orphans else out
    return memo


def clone(inputs: Sequence[Variable], outputs: Sequence[Variable], copy_inputs: bool = True,
          copy_orphans: bool = True) -> tuple[list[Variable], list[Variable]]:
    equiv = clone_get_equiv(inputs, outputs, copy_inputs, copy_orphans)
    return [equiv[i] for i in inputs], [equiv[o] for o in outputs]


@overload
def clone_replace(outputs: Variable,
                  replace: dict[Variable, Variable] | Iterable[tuple[Variable, Variable]] | None = None,
                  strict: bool = True) -> Variable: ...
@overload
def clone_replace(outputs: Sequence[Variable],
                  replace: dict[Variable, Variable] | Iterable[tuple[Variable, Variable]] | None = None,
                  strict: bool = True) -> list[Variable]: ...
def clone_replace(outputs: Variable | Sequence[Variable],
                  replace: dict[Variable, Variable] | Iterable[tuple[Variable, Variable]] | None = None,
                  strict: bool = True) -> Variable | list[Variable]:
    """Copy ``outputs`` with the variables in ``replace`` (dict or pairs) substituted."""
    single = isinstance(outputs, Variable)
    outs: list[Variable] = [outputs] if isinstance(outputs, Variable) else list(outputs)
    items = list(replace.items()) if isinstance(replace, dict) else list(replace or [])
    memo: dict[Any, Any] = {}
    for old, new in items:
        if strict and hasattr(new, "type") and old.type != new.type:
            new = old.type.filter_variable(new)
        memo[old] = new
    roots = graph_inputs(outs, [o for o, _ in items])
    for r in roots:
        memo.setdefault(r, r)
    equiv = clone_get_equiv(roots, outs, copy_inputs=False, copy_orphans=False, memo=memo)
    res = [equiv[o] for o in outs]
    return res[0] if single else res
