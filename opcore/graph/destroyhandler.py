"""The destroy handler: bookkeeping and checks for ops that overwrite their inputs.

An op with ``destroy_map = {output: [input]}`` writes its result into that input's buffer.  That is
safe only when nobody else can still read the buffer: not a constant, not a graph input the user
can see (``fgraph.protected_inputs``), not a graph output, and not a variable (or a view of it,
following ``view_map``) that another node reads.  The handler answers those questions for the
in-place rewrite, adds ordering constraints (a destroyer runs after every other reader of the
destroyed buffer) and re-checks the whole graph in :meth:`validate`.
"""

from __future__ import annotations

from typing import Any, Iterator

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import Feature, FunctionGraph, InconsistencyError


def view_root(var: Variable) -> Variable:
    """The variable whose buffer ``var`` shares, following view_map and destroy_map."""
    while var.owner is not None:
        node = var.owner
        idx = node.outputs.index(var)
        src = None
        for m in (getattr(node.op, "view_map", None) or {},
                  getattr(node.op, "destroy_map", None) or {}):
            if idx in m and m[idx]:
                src = node.inputs[m[idx][0]]
                break
        if src is None:
            return var
        var = src
    return var


def _views_of(fgraph: FunctionGraph, root: Variable) -> list[Variable]:
    """``root`` and every variable in the graph aliasing it (views and destroyed outputs)."""
    out = [root]
    stack = [root]
    while stack:
        v = stack.pop()
        for node, i in fgraph.clients.get(v, ()):
            if node == "output":
                continue
            for m in (getattr(node.op, "view_map", None) or {},
                      getattr(node.op, "destroy_map", None) or {}):
                for o, ins in m.items():
                    if i in ins and node.outputs[o] not in out:
                        out.append(node.outputs[o])
                        stack.append(node.outputs[o])
    return out


class DestroyHandler(Feature):
    """Checks in-place safety for a FunctionGraph; see the module docstring."""

    def on_attach(self, fgraph: FunctionGraph) -> None:
        if getattr(fgraph, "destroy_handler", None) not in (None, self):
            raise InconsistencyError("a FunctionGraph can have only one DestroyHandler")
        fgraph.destroy_handler = self

    def on_detach(self, fgraph: FunctionGraph) -> None:
        fgraph.destroy_handler = None

    def protected(self, fgraph: FunctionGraph) -> set[Variable]:
        return set(getattr(fgraph, "protected_inputs", ()) or ())

    def can_destroy(self, fgraph: FunctionGraph, node: Apply, i: int,
                    readers_first: bool = False) -> bool:
        """True when ``node`` may overwrite its input ``i`` in place.

        By default the buffer may have no other reader at all.  With ``readers_first`` it may
        also be read by nodes that can run before ``node``: nodes that do not depend on it, even
        through the ordering constraints already in place; :meth:`orderings` then schedules
        them first, as Theano's destroy handler does.  A reader after ``node``, a graph output,
        another node overwriting the buffer, or ``node`` reading it through a second input
        still forbid it."""
        var = node.inputs[i]
        root = view_root(var)
        if isinstance(root, Constant) or root in self.protected(fgraph):
            return False
        if root.owner is None and root not in fgraph.inputs:
            return False  # an orphan (shared storage not passed as an input)
        aliases = _views_of(fgraph, root)
        if readers_first:
            return _readers_can_go_first(fgraph, node, i, aliases)
        if _reaches_output(fgraph, aliases):
            return False
        readers = sum(len(fgraph.clients.get(v, ())) for v in aliases)
        # the only readers of the buffer are the chain of views leading to ``node`` (one each)
        # and ``node`` itself, once: then nothing can read it after it is overwritten
        chain = 0
        v = var
        while v is not root:
            chain += 1
            assert v.owner is not None  # v is a view of root: computed by a node
            v = v.owner.inputs[_view_input(v)]
        return readers == chain + 1 and sum(1 for x in node.inputs if x is var) == 1

    def orderings(self, fgraph: FunctionGraph) -> dict[Apply, set[Apply]]:
        """{destroyer: readers of the destroyed buffer that must run first}."""
        out: dict[Apply, set[Apply]] = {}
        for node, root in _destroyed_roots(fgraph):
            before = set()
            for v in _views_of(fgraph, root):
                for c, k in fgraph.clients.get(v, ()):
                    if c == "output" or c is node or _is_view_of(c, k):
                        continue  # making a view reads nothing
                    before.add(c)
            before.discard(node)
            # nodes downstream of this destroyer cannot be required before it
            before = {b for b in before if not _depends_on(b, node)}
            if before:
                out.setdefault(node, set()).update(before)
        return out

    def validate(self, fgraph: FunctionGraph) -> None:
        prot = self.protected(fgraph)
        for node, root in _destroyed_roots(fgraph):
            if isinstance(root, Constant):
                raise InconsistencyError(f"{node.op} would overwrite the constant {root}")
            if root in prot:
                raise InconsistencyError(f"{node.op} would overwrite the protected input {root}")


def _destroyed_roots(fgraph: FunctionGraph) -> Iterator[tuple[Apply, Variable]]:
    """(node, root) for every input a node overwrites (its ``destroy_map``), ``root`` being
    the variable that owns the overwritten buffer (through any chain of views)."""
    for node in fgraph.apply_nodes:
        for ins in (getattr(node.op, "destroy_map", None) or {}).values():
            for i in ins:
                yield node, view_root(node.inputs[i])


def _reaches_output(fgraph: FunctionGraph, aliases: list[Variable]) -> bool:
    """Whether one of ``aliases`` (a buffer's variables) is a graph output, i.e. the caller
    can read the buffer after the function ran."""
    outputs = set(fgraph.outputs)
    return any(v in outputs or any(c == "output" for c, _ in fgraph.clients.get(v, ()))
               for v in aliases)


def _readers_can_go_first(fgraph: FunctionGraph, node: Apply, i: int,
                          aliases: list[Variable]) -> bool:
    """Whether every reader of ``aliases`` (the buffer's variables) other than ``node``'s input
    ``i`` can run before ``node``: none is reachable from ``node`` through data dependencies
    or the ordering constraints already in place (so the new constraints close no cycle); no
    other node overwrites the buffer except on the chain of views and in-place results leading
    to that input; and no alias is a graph output."""
    alias_set = set(aliases)
    if any(v in alias_set for k, v in enumerate(node.inputs) if k != i):
        return False
    chain: set[Apply] = set()
    v = node.inputs[i]
    while v.owner is not None and v in alias_set and v is not aliases[0]:
        chain.add(v.owner)
        v = v.owner.inputs[_view_input(v)]
    if _reaches_output(fgraph, aliases):
        return False
    readers: set[Apply] = set()
    for v in aliases:
        for c, k in fgraph.clients.get(v, ()):
            if c is node:
                continue
            if any(k in ins for ins in (getattr(c.op, "destroy_map", None) or {}).values()):
                if c not in chain:
                    return False  # another node overwrites the buffer
                continue
            if not _is_view_of(c, k):  # making a view reads nothing
                readers.add(c)
    if not readers or _all_ancestors(node, readers):
        return True  # they all run before ``node`` anyway: no new constraint
    return not (readers & _reachable(fgraph, node))


def _reachable(fgraph: FunctionGraph, node: Apply) -> set[Apply]:
    """The nodes that must run after ``node``: its clients, theirs, and (over-approximating
    :meth:`DestroyHandler.orderings`, found as the walk goes) every other node that overwrites
    a buffer one of them reads."""
    seen: set[Apply] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        nxt = [c for o in n.outputs for c, _ in fgraph.clients.get(o, ()) if c != "output"]
        if n is not node:
            for v in n.inputs:
                for a in _views_of(fgraph, view_root(v)):
                    for c, k in fgraph.clients.get(a, ()):
                        if c != "output" and c is not n and any(
                                k in ins for ins in (getattr(c.op, "destroy_map", None)
                                                     or {}).values()):
                            nxt.append(c)
        for c in nxt:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def _all_ancestors(node: Apply, targets: set[Apply]) -> bool:
    """Whether ``node`` depends on every node of ``targets`` (a walk up its inputs that stops
    once all are found)."""
    left = set(targets)
    seen: set[Apply] = set()
    stack = [i.owner for i in node.inputs if i.owner is not None]
    while stack and left:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        left.discard(n)
        stack.extend(i.owner for i in n.inputs if i.owner is not None)
    return not left


def _is_view_of(node: Apply, i: int) -> bool:
    for m in (getattr(node.op, "view_map", None) or {},
              getattr(node.op, "destroy_map", None) or {}):
        if any(i in ins for ins in m.values()):
            return True
    return False


def _view_input(v: Variable) -> int:
    node = v.owner
    if node is None:
        raise ValueError(f"{v} is not a view")
    idx = node.outputs.index(v)
    for m in (getattr(node.op, "view_map", None) or {},
              getattr(node.op, "destroy_map", None) or {}):
        if idx in m and m[idx]:
            return m[idx][0]
    raise ValueError(f"{v} is not a view")


def _depends_on(node: Apply, target: Apply) -> bool:
    """True when ``node`` is downstream of ``target`` (bounded walk up ``node``'s inputs)."""
    stack = [node]
    seen = set()
    while stack:
        n = stack.pop()
        if n is target:
            return True
        if n in seen:
            continue
        seen.add(n)
        stack.extend(i.owner for i in n.inputs if i.owner is not None)
    return False
