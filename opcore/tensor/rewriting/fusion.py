"""Elementwise fusion: chains of elementwise ops become one ``Elemwise(Composite(...))`` node.

The phase walks the graph from the outputs; at each elementwise node (the root) it grows a group:

* upward, every elementwise producer whose result is used only inside the group (computed once,
  internally);
* upward, a producer whose result is also used outside the group or is a graph output, and
  downward, an elementwise consumer of a group result: these results become extra outputs of a
  multi-output Composite, so ``y = exp(x); [y, y * 2]`` or ``[x ** 10, x ** 3]`` run as one loop.
  Extra outputs must have the root's broadcast pattern (one loop shape for all outputs), and the
  group must not close a cycle through a non-fused node; otherwise the rewrite tries the
  producers alone (their shared results as extra outputs: a residual layer's ``tanh`` and
  ``tanh + 0.5 * h`` in a deep gradient) joined, one candidate at a time, by the consumers that
  close no cycle, then the producers alone, then the single-output group.

The Composite keeps the scalar ops and their dtypes step by step, which is what the C and GPU
backends turn into a single loop (``Composite.c_exprs``); both generate one store per output.
"""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply, Constant
from opcore.graph.fg import FunctionGraph
from opcore.scalar.basic import Composite
from opcore.tensor.elemwise import Elemwise
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.hints import RewriteResult

#: the most inputs plus outputs a fused node may have (backends pass one pointer per operand;
#: NumPy 2 iterates at most 64 operands at once, NPY_MAXARGS)
MAX_FUSED_INPUTS = 64
#: the cycle check walks at most this many ancestor nodes before refusing a multi-output group
CYCLE_WALK_LIMIT = 500


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


def _internal(fgraph, var, group) -> bool:
    cl = fgraph.clients.get(var, ())
    return bool(cl) and all(c != "output" and c in group for c, _ in cl)


def _grow_single(fgraph, node) -> dict:
    """The group of producers used only inside it (no extra outputs)."""
    out = node.outputs[0]
    group = {node: None}  # insertion-ordered: the generated code is deterministic
    frontier = [node]
    ext_count = len(node.inputs)
    while frontier:
        n = frontier.pop()
        for inp in n.inputs:
            p = inp.owner
            if p is None or p in group or not _fusable(p):
                continue
            if not _internal(fgraph, inp, group) or inp.ndim != out.ndim:
                continue
            if ext_count - 1 + len(p.inputs) + 1 > MAX_FUSED_INPUTS:  # + the output
                continue
            group[p] = None
            frontier.append(p)
            ext_count += len(p.inputs) - 1
    return group


def _grow_multi(fgraph, node, consumers: bool = True) -> tuple:
    """The group including producers (and, with ``consumers``, consumers) whose results become
    extra outputs, and whether a consumer was taken in."""
    out = node.outputs[0]
    bc = out.type.broadcastable
    group = {node: None}  # insertion-ordered: the generated code is deterministic
    frontier = [node]
    down = False
    while frontier and len(group) < 4 * MAX_FUSED_INPUTS:
        n = frontier.pop()
        for inp in n.inputs:
            p = inp.owner
            if p is None or p in group or not _fusable(p) or inp.ndim != out.ndim:
                continue
            if not _internal(fgraph, inp, group) and inp.type.broadcastable != bc:
                continue
            group[p] = None
            frontier.append(p)
        for c, _ in (fgraph.clients.get(n.outputs[0], ()) if consumers else ()):
            if c == "output" or c in group or not _fusable(c):
                continue
            if c.outputs[0].type.broadcastable != bc:
                continue
            group[c] = None
            frontier.append(c)
            down = True
    return group, down


def _exported(fgraph, group, root) -> list:
    """The group's results needed outside it, the root's first."""
    outs = [root.outputs[0]]
    for n in group:
        v = n.outputs[0]
        if n is not root and not _internal(fgraph, v, group):
            outs.append(v)
    return outs


def _has_cycle(group, ext_inputs) -> bool:
    """Whether an external input depends on a group node (fusing would close a cycle); also
    True when the walk is too long to decide cheaply."""
    seen = set()
    stack = [v.owner for v in ext_inputs if v.owner is not None and v.owner not in group]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if len(seen) > CYCLE_WALK_LIMIT:
            return True
        for v in n.inputs:
            p = v.owner
            if p is None:
                continue
            if p in group:
                return True
            if p not in seen:
                stack.append(p)
    return False


class _AncestorWatch:
    """The ancestors of a growing group's external inputs (walked through non-group nodes), kept
    across candidate additions so each candidate walks only its own new inputs' ancestors."""

    def __init__(self, group) -> None:
        self.group = group
        self.seen: set = set()

    def _reaches(self, roots, members) -> bool:
        """Whether walking up from ``roots`` meets a node of ``members`` (or the walk runs past
        the limit); the nodes walked are remembered only when it does not."""
        added: list = []
        stack = [r for r in roots if r not in self.seen]
        while stack:
            n = stack.pop()
            if n in self.seen:
                continue
            if n in members:
                break
            self.seen.add(n)
            added.append(n)
            if len(self.seen) > CYCLE_WALK_LIMIT:
                break
            stack.extend(v.owner for v in n.inputs
                         if v.owner is not None and v.owner not in self.seen)
        else:
            return False
        self.seen.difference_update(added)
        return True

    def start(self, ext_inputs) -> bool:
        """Record the current group's external inputs; False when the group already closes a
        cycle."""
        return not self._reaches([v.owner for v in ext_inputs
                                  if v.owner is not None and v.owner not in self.group],
                                 self.group)

    def admits(self, nodes) -> bool:
        """Whether ``nodes`` (a candidate consumer and the producers only it reads) can join the
        group without an external input depending on the group: no candidate is an ancestor of
        the current external inputs, and the candidate's own external inputs do not descend from
        the group or the candidate."""
        if any(n in self.seen for n in nodes):
            return False
        members = set(self.group) | set(nodes)
        roots = [v.owner for n in nodes for v in n.inputs
                 if v.owner is not None and v.owner not in members]
        return not self._reaches(roots, members)


def _with_consumers(fgraph, group, root) -> dict | None:
    """The producers-only ``group`` extended, one candidate at a time, by elementwise consumers
    of its results (each with the producers only it reads) that close no cycle and keep the
    operand count within bounds; None when the producers-only group itself closes a cycle."""
    bc = root.outputs[0].type.broadcastable
    ext = {v for n in group for v in n.inputs if v.owner not in group and _scalar_const(v) is None}
    watch = _AncestorWatch(group)
    if not watch.start(ext):
        return None
    grown = False
    frontier = list(group)
    while frontier and len(group) < 4 * MAX_FUSED_INPUTS:
        n = frontier.pop()
        for c, _ in fgraph.clients.get(n.outputs[0], ()):
            if (c == "output" or c in group or not _fusable(c)
                    or c.outputs[0].type.broadcastable != bc):
                continue
            cand = {c: None}
            for inp in c.inputs:  # the consumer's other producers that only it reads
                p = inp.owner
                if (p is not None and p not in group and _fusable(p) and inp.ndim == c.outputs[0].ndim
                        and _internal(fgraph, inp, cand)):
                    cand[p] = None
            trial = {**group, **cand}
            trial_ext = {v for m in trial for v in m.inputs
                         if v.owner not in trial and _scalar_const(v) is None}
            if len(trial_ext) + len(_exported(fgraph, trial, root)) > MAX_FUSED_INPUTS:
                continue
            if not watch.admits(list(cand)):
                continue
            group.update(cand)
            frontier.extend(cand)
            grown = True
    return group if grown else None


def _order(group) -> list:
    """The group's nodes, producers first (DFS over in-group edges)."""
    order = []
    seen = set()
    for start in group:
        stack = [(start, False)]
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
    return order


def _build(group, outs):
    """``(inputs, Composite)`` computing ``outs`` from the group's external inputs."""
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

    for n in _order(group):
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
        return inputs, None
    return inputs, Composite(len(inputs), [v.dtype for v in inputs], steps,
                             [value_of[v][1] for v in outs])


def _replacements(group, outs):
    inputs, comp = _build(group, outs)
    if comp is None:
        return None  # all-constant: constant folding's job
    new = Elemwise(comp)(*inputs)
    new = new if isinstance(new, (list, tuple)) else [new]
    for old, nv in zip(outs, new):
        if nv.type != old.type and not old.type.is_super(nv.type):
            return None
    return dict(zip(outs, new))


@register_rewrite("elemwise_fusion", "fast_run", "fusion", phase="fusion", tracks=(Elemwise,))
def elemwise_fusion(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Fuse ``node`` with its elementwise producers (and, as extra outputs, results needed
    elsewhere and sibling consumers) into one Composite node."""
    if not _fusable(node):
        return None
    # the widest group first; when it would close a cycle (a deep model's forward and backward
    # loops meet through a Dot), the producers alone, their shared results as extra outputs
    for consumers in (True, False):
        group, down = _grow_multi(fgraph, node, consumers)
        if len(group) < 2:
            continue
        outs = _exported(fgraph, group, node)
        ext = {v for n in group for v in n.inputs
               if v.owner not in group and _scalar_const(v) is None}
        if (len(ext) + len(outs) <= MAX_FUSED_INPUTS and len(ext) > 0
                and ((len(outs) == 1 and not down) or not _has_cycle(group, ext))):
            rep = _replacements(group, outs)
            if rep is not None:
                return rep
        if not down:
            break  # no consumer was taken in: the producers-only group is the same
        # the producers alone, then the consumers that close no cycle, one at a time
        grown = _with_consumers(fgraph, _grow_multi(fgraph, node, False)[0], node)
        if grown is not None:
            rep = _replacements(grown, _exported(fgraph, grown, node))
            if rep is not None:
                return rep
    group = _grow_single(fgraph, node)
    if len(group) < 2:
        return None
    return _replacements(group, [node.outputs[0]])
