"""``scan(fn, sequences, outputs_info, non_sequences, n_steps, ...)``: build a Scan node.

The builder calls ``fn`` once on symbolic placeholders (one per sequence tap, one per recurrent
output tap, then the non-sequences themselves, as Theano does), reads back outputs, shared-variable
updates and an optional :class:`until` condition, and turns the result into a Scan node:

* sequence taps become shifted slices of the sequence, so the op only ever sees tap 0;
* a recurrent output with taps ``[-1]`` gets a leading time axis on its initial value;
* shared variables updated by ``fn`` become recurrent states whose last value is the update;
* every part of the body that does not depend on a placeholder is *hoisted* out of the loop and
  becomes a non-sequence (the loop-invariant code motion rewrite, done once at build time).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from opcore.compile.sharedvalue import SharedVariable
from opcore.config import config
from opcore import tensor as T
from opcore.graph.basic import Constant, Variable
from opcore.graph.testvalue import TestValueError, compute_test_values, get_test_value
from opcore.graph.traversal import clone_replace, graph_inputs, io_toposort
from opcore.scan.op import Scan, ScanInfo
from opcore.scan.utils import until
from opcore.tensor.basic import NotScalarConstantError, get_scalar_constant_value, unbroadcast
from opcore.tensor.random.state import array_to_random, random_to_array
from opcore.tensor.random.type import RandomType
from opcore.tensor.shape import shape_padleft


class ScanError(TypeError):
    """``fn`` returned something scan cannot use, or the arguments do not fit together."""


def _wrap(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _default_updates(outs, upds, cond) -> list:
    """``(shared, default_update)`` for the shared variables the step reads that have a
    ``default_update`` and no update from fn (e.g. MRG random states)."""
    updated = {id(sv) for sv, _ in upds}
    roots = list(outs) + [e for _, e in upds] + ([cond] if cond is not None else [])
    extra = []
    for v in graph_inputs(roots):
        du = getattr(v, "default_update", None) if isinstance(v, SharedVariable) else None
        if du is None or id(v) in updated:
            continue
        if not hasattr(v.type, "ndim") and not isinstance(v.type, RandomType):
            raise ScanError(f"scan: the step reads {v} ({v.type}), whose default update cannot "
                            "be carried across steps (only tensors and random generators can)")
        updated.add(id(v))
        extra.append((v, du))
    return extra


def _tensor(x, what: str):
    if isinstance(x, Variable):
        return x
    try:
        return T.as_tensor_variable(x)
    except (TypeError, ValueError) as exc:
        raise ScanError(f"scan: {what} is {type(x).__name__} ({x!r}), not a tensor: "
                        f"{exc}") from None


def _slice_type(var, generic: bool = False):
    b = var.broadcastable[1:]
    return T.TensorType(var.dtype, broadcastable=(False,) * len(b) if generic else b)


def _state_type(init, generic: bool):
    b = init.broadcastable
    return T.TensorType(init.dtype, broadcastable=(False,) * len(b) if generic else b)


def _is_updates(x) -> bool:
    if isinstance(x, dict):
        return True
    return (isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable)
        for p in x))


def _is_output(v) -> bool:
    """A variable, or a number/array that becomes a constant output (as in Theano)."""
    return isinstance(v, (Variable, int, float, np.number, np.ndarray)) and not isinstance(v, bool)


def _is_outputs(x) -> bool:
    if _is_output(x):
        return True
    return isinstance(x, (list, tuple)) and all(_is_output(v) for v in x)


def _parse_return(r) -> tuple[list, list, Any]:
    """(outputs, update pairs, until condition or None) from what ``fn`` returned."""
    if isinstance(r, until):
        return [], [], r.condition
    if _is_outputs(r):
        return ([r] if _is_output(r) else list(r)), [], None
    if _is_updates(r):
        return [], list(r.items() if isinstance(r, dict) else r), None
    if isinstance(r, (list, tuple)) and 2 <= len(r) <= 3:
        outs, upds, cond = [], [], None
        for part in r:
            if isinstance(part, until):
                cond = part.condition
            elif _is_updates(part):
                upds = list(part.items() if isinstance(part, dict) else part)
            elif _is_outputs(part):
                outs = [part] if _is_output(part) else list(part)
            else:
                raise ScanError(_bad_return(r))
        return outs, upds, cond
    raise ScanError(_bad_return(r))


def _bad_return(r) -> str:
    return (f"scan: fn returned {type(r).__name__} ({r!r:.200}); it must return a variable, a list "
            "of variables, an updates dict, until(cond), or a tuple (outputs, updates) / "
            "(outputs, until(cond)) / (outputs, updates, until(cond))")


def scan(fn: Callable, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient: int = -1, go_backwards: bool = False, mode=None, name=None,
         profile=False, allow_gc=None, strict: bool = False, return_list: bool = False):
    """Loop ``fn`` over ``sequences``, feeding back ``outputs_info``; return ``(outputs, updates)``.

    ``fn`` receives, in order: one slice per sequence tap, one value per recurrent-output tap, then
    the ``non_sequences``.  Sequences may be ``dict(input=x, taps=[-1, 0, 2])``; recurrent outputs
    ``dict(initial=x0, taps=[-2, -1])``; ``None`` in ``outputs_info`` marks an output that is not
    fed back.  ``fn`` may also return shared-variable updates and ``until(condition)``.

    >>> import numpy as np, opcore, opcore.tensor as T
    >>> x = T.dvector('x')
    >>> s, _ = opcore.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0))
    >>> opcore.function([x], s)(np.array([1.0, 2.0, 3.0])).tolist()
    [1.0, 3.0, 6.0]
    """
    seqs_in = _wrap(sequences)
    outs_info_given = outputs_info is not None
    outs_info = _wrap(outputs_info)
    non_seqs = [v if isinstance(v, Variable) else _tensor(v, f"non_sequences[{i}]")
                for i, v in enumerate(_wrap(non_sequences))]
    if not isinstance(truncate_gradient, int) or truncate_gradient == 0 or truncate_gradient < -1:
        raise ValueError(f"scan: truncate_gradient must be -1 (no truncation) or a positive "
                         f"number of steps, got {truncate_gradient!r}")

    # -- sequences: one outer slice and one placeholder per tap ------------------------------------
    outer_seqs, seq_ph, seq_names, seq_args = [], [], [], []
    for i, s in enumerate(seqs_in):
        if isinstance(s, dict):
            if "input" not in s:
                raise ScanError(f"scan: sequences[{i}] is a dict without 'input'")
            var = _tensor(s["input"], f"sequences[{i}]")
            taps = s.get("taps", [0])
            taps = [0] if taps is None else list(taps)
        else:
            var, taps = _tensor(s, f"sequences[{i}]"), [0]
        if not taps or not all(isinstance(t, int) for t in taps):
            raise ScanError(f"scan: sequences[{i}] taps must be a non-empty list of ints, "
                            f"got {taps}")
        if var.ndim == 0:
            raise ScanError(f"scan: sequences[{i}] ({var}) is a scalar; a sequence needs an axis "
                            "to iterate over")
        nm = var.name or f"sequences[{i}]"
        # the span counts tap 0 whether or not it is used (Theano's rule): step t reads
        # var[t - lo + tap], for t while every tap and tap 0 stay inside the sequence
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        span = hi - lo
        for tap in taps:
            start = tap - lo
            sl = var if span == 0 else var[start:var.shape[0] - span + start]
            outer_seqs.append(sl)
            ph = _slice_type(var)(f"{nm}[t{tap:+d}]" if tap else f"{nm}[t]")
            _seed_test_value(ph, sl, lambda tv: tv[0])
            seq_ph.append(ph)
            seq_args.append(ph)
            seq_names.append(nm if len(taps) == 1 else f"{nm} (tap {tap})")

    # -- recurrent outputs -------------------------------------------------------------------------
    states = []  # dicts: init, taps (user order), outer buffer, placeholders by tap, index
    kinds = []  # per entry of outputs_info: ("state", k) or ("nit", None)
    for i, o in enumerate(outs_info):
        if isinstance(o, dict):
            init = o.get("initial")
            taps = o.get("taps", [-1])
            if init is None:
                if taps not in (None, [], [-1]) and "taps" in o:
                    raise ScanError(f"scan: outputs_info[{i}] has taps {taps} but no "
                                    "'initial' value")
                kinds.append(("nit", None))
                continue
        elif o is None:
            kinds.append(("nit", None))
            continue
        else:
            init, taps = o, [-1]
        init = _tensor(init, f"outputs_info[{i}]")
        taps = list(taps)
        if not taps or not all(isinstance(t, int) for t in taps):
            raise ScanError(f"scan: outputs_info[{i}] taps must be a non-empty list of ints")
        if any(t >= 0 for t in taps):
            raise ScanError(f"scan: taps out of range: outputs_info[{i}] has taps {taps}; a "
                            "recurrent output can only read past steps (negative taps)")
        sit = taps == [-1]
        if not sit:
            if init.ndim == 0:
                raise ScanError(f"scan: outputs_info[{i}] has taps {taps}, so its 'initial' value "
                                f"needs a leading axis holding {-min(taps)} past values")
            static0 = init.type.shape[0]
            if static0 is not None and static0 < -min(taps):
                raise ScanError(f"scan: taps out of range: outputs_info[{i}] uses tap {min(taps)} "
                                f"but its initial value has only {static0} entries")
        kinds.append(("state", len(states)))
        states.append(dict(init=init, taps=taps, sit=sit, index=i,
                           name=init.name or f"outputs_info[{i}]"))

    if _is_one_step(n_steps):
        return _single_step(fn, seq_args, outer_seqs, states, kinds, non_seqs, outs_info_given,
                            return_list, name)
    generic: set = set()
    for _attempt in range(2):
        for st in states:
            init = st["init"]
            g = st["index"] in generic
            ptype = _state_type(init, g) if st["sit"] else _slice_type(init, g)
            st["ptype"] = ptype
            st["ph"] = {t: ptype(f"{st['name']}[t{t:+d}]") for t in st["taps"]}
            for t, ph in st["ph"].items():
                _seed_test_value(ph, init, (lambda tv: tv) if st["sit"] else
                                 (lambda tv, t=t: tv[t]))
        args = list(seq_args)
        for kind, k in kinds:
            if kind == "state":
                args.extend(states[k]["ph"][t] for t in states[k]["taps"])
        args.extend(non_seqs)
        outs, upds, cond = _call_fn(fn, args, kinds, outs_info_given)
        if not outs_info_given:
            kinds = [("nit", None)] * len(outs)
        retry = False
        for (kind, k), out in zip(kinds, outs):
            if kind != "state":
                continue
            st = states[k]
            pt = st["ptype"]
            if out.dtype != pt.dtype:
                raise ScanError(
                    f"scan: the recurrent output {st['index']} of fn has dtype {out.dtype} but its "
                    f"initial value ({st['name']}) has dtype {pt.dtype}: the type changes across "
                    f"steps. Use T.cast(..., '{pt.dtype}') on fn's output, or give outputs_info "
                    f"of dtype {out.dtype}")
            if out.ndim != pt.ndim:
                raise ScanError(
                    f"scan: the recurrent output {st['index']} of fn has {out.ndim} dimension(s) "
                    f"but its initial value ({st['name']}) has {pt.ndim} per step ({pt})")
            if not pt.is_super(out.type):
                if st["index"] in generic:
                    raise ScanError(f"scan: recurrent output {st['index']} ({out.type}) does not "
                                    f"fit its state type {pt}")
                generic.add(st["index"])
                retry = True
        if not retry:
            break
    for (kind, k), j in zip(kinds, range(len(outs))):
        if kind == "state":
            outs[j] = states[k]["ptype"].filter_variable(outs[j])

    # -- shared variables with a default_update (random streams) used by the step are updated
    #    every step, as in Theano: their updates join fn's --------------------------------------
    upds = list(upds) + _default_updates(outs, upds, cond)
    # -- shared-variable updates become recurrent states keeping only their last value -------------
    shared_states = []
    # a NumPy generator (random stream) travels through the loop as its state's uint32 encoding:
    # decoded where the step reads it, encoded after its draws (opcore.tensor.random.state)
    rng_states = {}
    for sv, expr in upds:
        if not isinstance(sv, SharedVariable):
            raise ScanError(f"scan: fn returned an update for {sv}, which is not a shared variable")
        if isinstance(sv.type, RandomType):
            if getattr(expr, "type", None) != sv.type:
                raise ScanError(f"scan: the update of generator {sv} must be a generator of the "
                                f"same type, got {expr}")
            ph = T.TensorType("uint32", shape=(None,))(f"{sv.name or 'rng'}[t-1]")
            rng_states[sv] = array_to_random(ph, sv.type)
            shared_states.append((sv, random_to_array(expr), ph))
            continue
        expr = _tensor(expr, f"the update of {sv}")
        if expr.type != sv.type:
            if getattr(expr, "dtype", None) != getattr(sv.type, "dtype", None):
                raise ScanError(f"scan: the update of shared variable {sv.name or sv} has dtype "
                                f"{expr.dtype} but the variable has {sv.type.dtype}; use T.cast")
            expr = sv.type.filter_variable(expr)
        shared_states.append((sv, expr, sv.type(f"{sv.name or 'shared'}[t-1]")))
        _seed_test_value(shared_states[-1][2], sv, lambda tv: tv)

    # -- assemble the body -------------------------------------------------------------------------
    user_states = [(st, outs[j]) for j, (kind, k) in enumerate(kinds) if kind == "state"
                   for st in [states[k]]]
    nit_outs = [outs[j] for j, (kind, _) in enumerate(kinds) if kind == "nit"]
    state_ph, state_taps, outer_inits = [], [], []
    for st, _ in user_states:
        taps = sorted(st["taps"])
        state_taps.append(taps)
        state_ph.extend(st["ph"][t] for t in taps)
        outer_inits.append(T.shape_padleft(st["init"]) if st["sit"] else st["init"])
    for sv, _, ph in shared_states:
        state_taps.append([-1])
        state_ph.append(ph)
        outer_inits.append(T.shape_padleft(random_to_array(sv) if sv in rng_states else sv))
    body = [o for _, o in user_states] + [e for _, e, _ in shared_states] + nit_outs
    if cond is not None:
        body.append(cond)
    if shared_states:
        body = clone_replace(body, {sv: rng_states.get(sv, ph) for sv, _, ph in shared_states},
                             strict=False)
    hoisted_outer, hoisted_inner, body = hoist_invariants(seq_ph + state_ph, body)
    if strict:
        # as in Theano: strict concerns shared variables only; one the step function reaches
        # through a non_sequences expression (W.T) counts as passed, and free non-shared
        # variables become implicit non-sequences as without strict
        updated = {sv for sv, _, _ in shared_states}
        for r in graph_inputs(hoisted_outer, blockers=non_seqs):
            if isinstance(r, SharedVariable) and r not in updated and r not in non_seqs:
                raise ScanError(f"scan(strict=True): fn uses the shared variable {r}, which is "
                                "not among the non_sequences; pass it in non_sequences")

    # -- the number of steps -----------------------------------------------------------------------
    if n_steps is None:
        if not outer_seqs:
            raise ScanError("scan: give sequences or n_steps (the number of steps is unknown)")
        # sequences of different lengths: the loop runs over the shortest (Theano's rule)
        n = outer_seqs[0].shape[0]
        for sq in outer_seqs[1:]:
            n = T.minimum(n, sq.shape[0])
    else:
        n = _tensor(n_steps, "n_steps")
        if n.ndim != 0 or not n.dtype.startswith(("int", "uint")):
            raise ScanError(f"scan: n_steps must be an integer scalar, got {n} ({n.type})")
    if go_backwards:
        # as in Theano: taps keep their forward meaning, the first n_steps entries are visited
        # from the last to the first
        outer_seqs = [(s if len(outer_seqs) == 1 and n_steps is None else s[:n])[::-1]
                      for s in outer_seqs]
    n_user = len(user_states)
    out_names = ([f"recurrent output {st['index']}" for st, _ in user_states]
                 + [f"the update of {sv.name or sv}" for sv, _, _ in shared_states]
                 + [f"output {j}" for j, (kind, _) in enumerate(kinds) if kind == "nit"])
    info = ScanInfo(
        n_seqs=len(outer_seqs), state_taps=state_taps, n_nit=len(nit_outs),
        n_ns=len(hoisted_outer), has_until=cond is not None,
        save_last=[False] * n_user + [True] * len(shared_states) + [False] * len(nit_outs),
        truncate_gradient=truncate_gradient, go_backwards=go_backwards, name=name, mode=mode,
        n_steps_given=n_steps is not None, seq_names=seq_names, out_names=out_names)
    op = Scan(seq_ph + state_ph + hoisted_inner, body, info)
    scan_node = op.make_node(n, *outer_seqs, *outer_inits, *hoisted_outer)
    if config.compute_test_value != "off":
        compute_test_values(op, scan_node)
    results = scan_node.outputs
    # -- results in the order of outputs_info ------------------------------------------------------
    n_states = n_user + len(shared_states)
    user_out, it_state, it_nit = [], iter(results[:n_user]), iter(results[n_states:])
    for kind, _ in kinds:
        user_out.append(next(it_state) if kind == "state" else next(it_nit))
    for v in user_out:
        if name:
            v.name = f"{name}_out"
    updates = OrderedDict((sv, array_to_random(results[n_user + q][-1], sv.type)
                           if sv in rng_states else results[n_user + q][-1])
                          for q, (sv, _, _) in enumerate(shared_states))
    if return_list:
        return user_out, updates
    if len(user_out) == 1:
        return user_out[0], updates
    return (user_out if user_out else None), updates


def _call_fn(fn, args, kinds, outs_info_given) -> tuple[list, list, Any]:
    """Call the step function; its (tensor outputs, update pairs, until condition or None),
    checking the outputs against ``outputs_info``."""
    outs, upds, cond = _parse_return(fn(*args))
    outs = [_tensor(v, f"output {j} of fn") for j, v in enumerate(outs)]
    if outs_info_given and len(outs) != len(kinds):
        raise ScanError(f"scan: fn returned {len(outs)} output(s) but outputs_info has "
                        f"{len(kinds)} entries; give one entry (None for a non-recurrent "
                        "output) per output of fn")
    return outs, upds, cond


def _is_one_step(n_steps) -> bool:
    """Whether ``n_steps`` is the constant 1 (a Python int or a constant scalar)."""
    if n_steps is None or isinstance(n_steps, bool):
        return False
    if isinstance(n_steps, (int, np.integer)):
        return int(n_steps) == 1
    try:
        v = get_scalar_constant_value(_tensor(n_steps, "n_steps"))
    except (NotScalarConstantError, ScanError):
        return False
    return np.asarray(v).dtype.kind in "iu" and int(v) == 1


def _single_step(fn, seq_args, outer_seqs, states, kinds, non_seqs, outs_info_given,
                 return_list, name):
    """``scan`` with ``n_steps`` fixed at 1, as Theano builds it: no Scan node.  ``fn`` is called
    once on the first step's values (sequence slices, the initial states, the non-sequences), each
    output gets a leading axis of length 1 (not broadcastable, as a Scan output's), the updates
    are ``fn``'s own (random streams keep their default updates), and an ``until`` condition has
    nothing to stop."""
    first = {ph: sq[0] for ph, sq in zip(seq_args, outer_seqs)}
    args = [first[ph] for ph in seq_args]
    for kind, k in kinds:
        if kind == "state":
            st = states[k]
            args.extend(st["init"] if st["sit"] else st["init"][t] for t in st["taps"])
    args.extend(non_seqs)
    outs, upds, _cond = _call_fn(fn, args, kinds, outs_info_given)
    user_out = [unbroadcast(shape_padleft(v), 0) for v in outs]
    for v in user_out:
        if name:
            v.name = f"{name}_out"
    updates = OrderedDict(upds)
    if return_list:
        return user_out, updates
    if len(user_out) == 1:
        return user_out[0], updates
    return (user_out if user_out else None), updates


def _seed_test_value(ph, outer, pick) -> None:
    """With ``compute_test_value`` on, give a step-function placeholder the value it takes at the
    first step (taken from ``outer``'s test value), so the body's ops compute theirs."""
    if config.compute_test_value == "off":
        return
    try:
        ph.tag.test_value = pick(get_test_value(outer))
    except (TestValueError, IndexError):
        pass  # no test value outside, or an empty sequence: the body's ops report it


def hoist_invariants(placeholders: list, outputs: list) -> tuple[list, list, list]:
    """Move what does not depend on ``placeholders`` out of a loop body.

    Returns ``(outer, inner, new_outputs)``: ``outer[k]`` is an outer-graph variable the body used,
    replaced in ``new_outputs`` by the fresh inner input ``inner[k]``.
    """
    variant = set(placeholders)
    order = io_toposort(list(placeholders), outputs)
    # nodes reachable from roots other than placeholders are in the order too
    for node in order:
        if any(i in variant for i in node.inputs):
            variant.update(node.outputs)
    outer: list = []
    seen: set = set()

    def take(v):
        if v in variant or isinstance(v, Constant) or v in seen:
            return
        seen.add(v)
        outer.append(v)

    for node in order:
        if node.outputs[0] in variant:
            for i in node.inputs:
                take(i)
    for o in outputs:
        take(o)
    inner = [v.type(v.name) for v in outer]
    if not outer:
        return outer, inner, list(outputs)
    new_outputs = clone_replace(outputs, dict(zip(outer, inner)), strict=False)
    return outer, inner, list(new_outputs)
