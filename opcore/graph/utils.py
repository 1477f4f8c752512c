"""Graph queries with Theano's names and orders: ``ancestors``, ``inputs``, ``variables``,
``equal_computations``, ``is_same_graph`` and ``clone_replace(..., share_inputs=)``.

``ancestors`` and ``inputs`` walk depth-first from the *last* of the given variables, each
node's inputs left to right, as Theano's ``gof.graph`` does (``opcore.graph.traversal`` keeps
the core's own order, first variable first, which compiled functions rely on).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from opcore.graph.basic import Constant, Variable
from opcore.graph.traversal import ancestors as _core_ancestors
from opcore.graph.traversal import clone_get_equiv, graph_inputs, io_toposort


def ancestors(variable_list: Iterable[Variable],
              blockers: Iterable[Variable] | None = None) -> list[Variable]:
    """Every variable ``variable_list`` depends on (inclusive), in Theano's depth-first order;
    the walk does not go above ``blockers``."""
    return _core_ancestors(variable_list, blockers, last_first=True)


def inputs(variable_list: Iterable[Variable],
           blockers: Iterable[Variable] | None = None) -> list[Variable]:
    """The owner-less variables (graph inputs, constants, shared variables) that
    ``variable_list`` depends on, in Theano's order."""
    return [v for v in ancestors(variable_list, blockers) if v.owner is None]


def variables(i: Sequence[Variable], o: Sequence[Variable]) -> list[Variable]:
    """Every variable between inputs ``i`` and outputs ``o`` (both included)."""
    seen: dict[int, Variable] = {id(v): v for v in i}
    for node in io_toposort(i, o):
        for v in list(node.inputs) + list(node.outputs):
            seen.setdefault(id(v), v)
    for v in o:
        seen.setdefault(id(v), v)
    return list(seen.values())


def _same_constant(a: Constant, b: Constant) -> bool:
    if a.type != b.type:
        return False
    da, db = np.asarray(a.data), np.asarray(b.data)
    return da.shape == db.shape and da.dtype == db.dtype and bool(
        np.all((da == db) | (np.isnan(da) & np.isnan(db)) if da.dtype.kind in "fc" else da == db))


def equal_computations(xs: Sequence[Variable], ys: Sequence[Variable],
                       in_xs: Sequence[Variable] | None = None,
                       in_ys: Sequence[Variable] | None = None) -> bool:
    """True when each ``xs[k]`` computes the same thing as ``ys[k]``: same ops applied in the
    same structure to corresponding inputs.  ``in_xs[j]`` and ``in_ys[j]`` are taken to be
    equal; other owner-less variables must be the same object, or constants of equal value.
    """
    if len(xs) != len(ys):
        raise ValueError("equal_computations: xs and ys must have the same length")
    in_xs, in_ys = list(in_xs or []), list(in_ys or [])
    if len(in_xs) != len(in_ys):
        raise ValueError("equal_computations: in_xs and in_ys must have the same length")
    pairs: dict[int, Variable] = {id(a): b for a, b in zip(in_xs, in_ys)}
    paired_ys = {id(b) for b in in_ys}
    stack = list(zip(xs, ys))
    while stack:
        x, y = stack.pop()
        if id(x) in pairs:
            if pairs[id(x)] is not y:
                return False
            continue
        if x is y and id(y) not in paired_ys:
            continue
        if x.type != y.type:
            return False
        if x.owner is None or y.owner is None:
            if x.owner is not None or y.owner is not None:
                return False
            if isinstance(x, Constant) and isinstance(y, Constant) and _same_constant(x, y):
                pairs[id(x)] = y
                continue
            return False
        if x.index != y.index or x.owner.op != y.owner.op:
            return False
        if len(x.owner.inputs) != len(y.owner.inputs):
            return False
        pairs[id(x)] = y
        # the sibling outputs of the two nodes correspond as well
        for ox, oy in zip(x.owner.outputs, y.owner.outputs):
            pairs.setdefault(id(ox), oy)
        stack.extend(zip(x.owner.inputs, y.owner.inputs))
    return True


def clone_replace(output: Any, replace: Any = None, strict: bool = True,
                  share_inputs: bool = True) -> Any:
    """Copy ``output`` (a variable or a list) with the variables of ``replace`` (a dict or
    pairs) substituted.  ``share_inputs=False`` also copies the graph's inputs (shared
    variables and constants stay shared), as Theano's ``clone``.
    """
    single = isinstance(output, Variable)
    outs = [output] if single else list(output)
    items = list(replace.items()) if isinstance(replace, dict) else list(replace or [])
    memo: dict = {}
    for old, new in items:
        if strict and hasattr(new, "type") and old.type != new.type:
            new = old.type.filter_variable(new)
        memo[old] = new
    for r in graph_inputs(outs, [o for o, _ in items]):
        if r in memo:
            continue
        keep = share_inputs or isinstance(r, Constant) or hasattr(r, "get_value")
        memo[r] = r if keep else r.clone()
    roots = list(memo)
    equiv = clone_get_equiv(roots, outs, copy_inputs=False, copy_orphans=False, memo=memo)
    res = [equiv[o] for o in outs]
    return res[0] if single else res


def is_same_graph(var1: Variable, var2: Variable, givens: Any = None,
                  debug: bool = False) -> bool:
    """True when ``var1`` and ``var2`` compute the same thing (``equal_computations``) after the
    substitutions ``givens`` (a dict or pairs) are applied to both.

    >>> import opcore.tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> is_same_graph(x + 1, x + 1), is_same_graph(x + 1, y + 1), is_same_graph(x + 1, y + 1, {x: y})
    (True, False, True)
    """
    givens = dict(givens or {})
    if givens:
        var1 = clone_replace(var1, givens, strict=False)
        var2 = clone_replace(var2, givens, strict=False)
    return equal_computations([var1], [var2])


__all__ = ["ancestors", "clone_replace", "equal_computations", "inputs", "is_same_graph",
           "variables"]
