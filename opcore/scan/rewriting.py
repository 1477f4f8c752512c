"""Control-flow rewrites: ifelse simplification, merging and lifting; scan's "keep the last step".

Registered through the plugin host by the builtin plugin (:func:`register_control_flow`); every
rule is a plain ``fn(fgraph, node)`` and can be applied directly to a FunctionGraph in tests.
Loop-invariant code motion for scan is done when the node is built (see
:func:`opcore.scan.builder.hoist_invariants`), so it also applies to the backward scans that
``grad`` builds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Constant
from opcore.graph.traversal import ancestors
from opcore.ifelse import IfElse
from opcore.scan.op import Scan
from opcore.tensor.elemwise import Elemwise
from opcore.tensor.subtensor import Subtensor
from opcore.graph.destroyhandler import view_root


def _branches(node: Apply):
    n = node.op.n_outs
    return node.inputs[0], node.inputs[1:1 + n], node.inputs[1 + n:]


def _const_value(v):
    if isinstance(v, Constant):
        return v.data
    return None


# -- ifelse ---------------------------------------------------------------------------------------
def ifelse_constant_condition(fgraph, node):
    """``ifelse(True, a, b) -> a`` (and ``False -> b``)."""
    if not isinstance(node.op, IfElse):
        return None
    c = _const_value(node.inputs[0])
    if c is None:
        return None
    _, thens, elses = _branches(node)
    return list(thens if bool(np.asarray(c)) else elses)


def ifelse_same_branches(fgraph, node):
    """``ifelse(c, a, a) -> a``."""
    if not isinstance(node.op, IfElse):
        return None
    _, thens, elses = _branches(node)
    if all(t is e for t, e in zip(thens, elses)):
        return list(thens)
    return None


def ifelse_nested_same_condition(fgraph, node):
    """``ifelse(c, ifelse(c, a, b), d) -> ifelse(c, a, d)`` (and the same in the else branch)."""
    if not isinstance(node.op, IfElse):
        return None
    cond, thens, elses = _branches(node)
    changed = False
    new_t, new_e = list(thens), list(elses)
    for lst, take_then in ((new_t, True), (new_e, False)):
        for i, v in enumerate(lst):
            o = v.owner
            if o is not None and isinstance(o.op, IfElse) and o.inputs[0] is cond:
                _, it, ie = _branches(o)
                lst[i] = (it if take_then else ie)[o.outputs.index(v)]
                changed = True
    if not changed:
        return None
    return IfElse(node.op.n_outs, node.op.as_view, node.op.name).make_node(
        cond, *new_t, *new_e).outputs


def ifelse_merge_same_condition(fgraph, node):
    """Two independent ifelse nodes on the same condition become one node."""
    if not isinstance(node.op, IfElse):
        return None
    cond = node.inputs[0]
    for client, i in fgraph.clients.get(cond, ()):
        if client == "output" or client is node or i != 0 or not isinstance(client.op, IfElse):
            continue
        if client.op.as_view != node.op.as_view:
            continue
        # independent: neither uses the other's outputs
        if set(node.outputs) & set(ancestors(client.inputs)):
            continue
        if set(client.outputs) & set(ancestors(node.inputs)):
            continue
        _, t1, e1 = _branches(node)
        _, t2, e2 = _branches(client)
        n1 = node.op.n_outs
        merged = IfElse(n1 + client.op.n_outs, node.op.as_view).make_node(
            cond, *t1, *t2, *e1, *e2).outputs
        repl = dict(zip(node.outputs, merged[:n1]))
        repl.update(zip(client.outputs, merged[n1:]))
        return repl
    return None


def ifelse_lift_elemwise(fgraph, node):
    """``f(ifelse(c, a, b), const) -> ifelse(c, f(a, const), f(b, const))`` for an elementwise
    ``f`` whose only varying input is the ifelse's output and which is its only client, so ``f``
    runs only on the taken branch."""
    if not isinstance(node.op, Elemwise) or len(node.outputs) != 1:
        return None
    pos = [i for i, v in enumerate(node.inputs) if not isinstance(v, Constant)]
    if len(pos) != 1:
        return None
    v = node.inputs[pos[0]]
    src = v.owner
    if src is None or not isinstance(src.op, IfElse):
        return None
    if len(fgraph.clients.get(v, ())) != 1:
        return None
    cond, thens, elses = _branches(src)
    k = src.outputs.index(v)

    def apply(x):
        ins = list(node.inputs)
        ins[pos[0]] = x
        return node.op.make_node(*ins).outputs[0]

    ft, fe = apply(thens[k]), apply(elses[k])
    if ft.type != fe.type:
        return None
    thens, elses = list(thens), list(elses)
    thens[k], elses[k] = ft, fe
    new = IfElse(src.op.n_outs, src.op.as_view, src.op.name).make_node(cond, *thens, *elses).outputs
    repl = {o: n for j, (o, n) in enumerate(zip(src.outputs, new)) if j != k}
    repl[node.outputs[0]] = new[k]
    return repl


def ifelse_view(fgraph, node):
    """Let an ifelse return its taken branch's buffer instead of a copy (Theano's in-place
    ifelse), when every branch value is a fresh, non-aliased result read by the ifelse alone: then
    nothing else can observe the aliasing, whichever branch is taken."""

    if not isinstance(node.op, IfElse) or node.op.as_view:
        return None
    outs = set(fgraph.outputs)
    for v in node.inputs[1:]:
        if v.owner is None or v in outs or view_root(v) is not v:
            return None
        if len(fgraph.clients.get(v, ())) != 1 or getattr(v.type, "ndim", 0) == 0:
            return None
        if v.owner.op.destroy_map:
            return None
    return IfElse(node.op.n_outs, True, node.op.name).make_node(*node.inputs).outputs


# -- scan -----------------------------------------------------------------------------------------
def _is_last_step_read(client) -> bool:
    if client == "output" or not isinstance(client.op, Subtensor):
        return False
    if client.op.idx_spec[:1] != (("int",),):
        return False
    idx = _const_value(client.inputs[1])
    return idx is not None and int(np.asarray(idx)) == -1


def scan_save_last_only(fgraph, node):
    """Keep one step of a scan output (instead of every step) when the graph only reads ``[-1]``.

    The result never changes: after zero steps the kept output is empty, so ``xs[-1]`` still
    raises ``IndexError`` as it does on the full history.
    """
    if not isinstance(node.op, Scan):
        return None
    info = node.op.info
    save = list(info.save_last)
    empty = list(info.empty_if_no_steps)
    changed = False
    for k, out in enumerate(node.outputs):
        if save[k]:
            continue
        clients = fgraph.clients.get(out, ())
        if clients and all(_is_last_step_read(c) for c, _ in clients):
            save[k] = empty[k] = True
            changed = True
    if not changed:
        return None
    new = Scan(node.op.inner_inputs, node.op.inner_outputs,
               info.replace(save_last=tuple(save), empty_if_no_steps=tuple(empty)))
    return new.make_node(*node.inputs).outputs


#: (name, fn, tags, phase, tracked op classes)
IFELSE_REWRITES = [
    ("ifelse_constant_condition", ifelse_constant_condition,
     ("fast_run", "fast_compile", "ifelse")),
    ("ifelse_same_branches", ifelse_same_branches, ("fast_run", "ifelse")),
    ("ifelse_nested_same_condition", ifelse_nested_same_condition, ("fast_run", "ifelse")),
    ("ifelse_merge_same_condition", ifelse_merge_same_condition, ("fast_run", "ifelse")),
]
SCAN_REWRITES = [
    ("scan_save_last_only", scan_save_last_only, ("fast_run", "scan")),
]


def register_control_flow(rewrites: Any) -> None:
    """Register the control-flow rewrites with the host's rewrite registry."""
    for name, fn, tags in IFELSE_REWRITES:
        fn.tracks = (IfElse,)
        rewrites.register(name, fn, *tags, phase="canonicalize")
    ifelse_lift_elemwise.tracks = (Elemwise,)
    rewrites.register("ifelse_lift_elemwise", ifelse_lift_elemwise, "fast_run", "ifelse",
                      phase="canonicalize")
    ifelse_view.tracks = (IfElse,)
    rewrites.register("ifelse_view", ifelse_view, "fast_run", "ifelse", "inplace",
                      phase="inplace")
    for name, fn, tags in SCAN_REWRITES:
        fn.tracks = (Scan,)
        rewrites.register(name, fn, *tags, phase="specialize")
