"""Gradient of a Scan node: a backward Scan over the reversed steps (back-propagation through time).

For a forward loop with states ``s_k`` (taps ``T_k``, ``m_k = -min(T_k)``), sequences ``x`` and
non-sequences ``w``, the backward loop visits the forward steps ``u = n-1 .. n-m`` (``m = n``, or
``truncate_gradient`` steps) and carries, per float state, a window ``C_k`` of ``m_k`` pending
gradients: ``C_k[i]`` is what later steps already sent to the state value at time ``u - i``.  At
step ``u`` the state's total gradient is ``dcost/dS_k[u] + C_k[0]``; the vector-Jacobian product
of the loop body gives the gradients of that step's inputs: each tap's share is added into the
shifted window, the sequence slices' gradients are emitted per step, and the non-sequences'
gradients are summed in accumulators.  After the loop, the windows hold the gradients of the
initial values.
"""

from __future__ import annotations

import numpy as np

from opcore.graph.null import DisconnectedType
from opcore import tensor as T
from opcore.gradient import grad
from opcore.graph.traversal import clone_replace
from opcore.scan.builder import hoist_invariants
from opcore.scan.op import Scan


def _is_float(v) -> bool:
    return getattr(v, "dtype", "").startswith(("float", "complex"))


def scan_grad(op, inputs: list, outputs: list, output_grads: list) -> list:
    """``L_op`` of :class:`opcore.scan.op.Scan` (see the module docstring)."""
    info = op.info
    ns, nst, nnit = info.n_seqs, info.n_states, info.n_nit
    n_tap = sum(len(t) for t in info.state_taps)
    seqs = inputs[1:1 + ns]
    inits = inputs[1 + ns:1 + ns + nst]
    nsv = inputs[1 + ns + nst:]
    disc = [DisconnectedType()() for _ in inputs]
    if any(info.save_last):
        # the backward pass needs every step's states: recompute them with a full-history node
        full = Scan(op.inner_inputs, op.inner_outputs,
                    info.replace(save_last=(False,) * len(info.save_last),
                                 empty_if_no_steps=None))
        full_outs = full.make_node(*inputs).outputs
        grads_full = []
        for k, (g, o) in enumerate(zip(output_grads, full_outs)):
            if info.save_last[k] and _is_float(o):
                g = T.set_subtensor(T.zeros_like(o)[-1:], g)
            grads_full.append(g)
        outputs, output_grads = full_outs, grads_full
    in_seq = op.inner_inputs[:ns]
    in_state = op.inner_inputs[ns:ns + n_tap]
    in_ns = op.inner_inputs[ns + n_tap:]
    out_state = op.inner_outputs[:nst]
    out_nit = op.inner_outputs[nst:nst + nnit]
    fstates = [k for k in range(nst) if _is_float(out_state[k])]
    fnits = [q for q in range(nnit) if _is_float(out_nit[q])]
    fseqs = [i for i in range(ns) if _is_float(in_seq[i])]
    fns = [i for i in range(len(in_ns)) if _is_float(in_ns[i])]
    if not (fstates or fnits) or not (fseqs or fns or fstates):
        return disc

    # -- backward body -----------------------------------------------------------------------------
    b_x = [v.type(f"{v.name}") for v in in_seq]
    b_sv = [v.type(f"{v.name}") for v in in_state]
    b_ns = [v.type(f"{v.name}") for v in in_ns]
    b_gS = [out_state[k].type(f"g_state{k}[t]") for k in fstates]
    b_gY = [out_nit[q].type(f"g_out{q}[t]") for q in fnits]
    b_C = [T.TensorType(out_state[k].dtype, broadcastable=(False,) + out_state[k].broadcastable)(
        f"carry{k}") for k in fstates]
    b_acc = [in_ns[i].type(f"acc{i}") for i in fns]
    repl = dict(zip(in_seq, b_x))
    repl.update(zip(in_state, b_sv))
    repl.update(zip(in_ns, b_ns))
    f_outs = clone_replace(list(out_state) + list(out_nit), repl, strict=False)
    known: dict = {}
    for j, k in enumerate(fstates):
        g = b_gS[j] + b_C[j][0]
        fo = f_outs[k]
        known[fo] = known[fo] + g if fo in known else g
    for j, q in enumerate(fnits):
        fo = f_outs[nst + q]
        known[fo] = known[fo] + b_gY[j] if fo in known else b_gY[j]
    wrt = [b_x[i] for i in fseqs]
    tap_pos = []  # (state k, tap, index into b_sv) for float states
    p = 0
    for k, taps in enumerate(info.state_taps):
        for tap in taps:
            if k in fstates:
                tap_pos.append((k, tap, len(wrt)))
                wrt.append(b_sv[p])
            p += 1
    ns_pos = len(wrt)
    wrt.extend(b_ns[i] for i in fns)
    gs = grad(None, wrt, known_grads=known, disconnected_inputs="ignore")
    gs = [T.cast(g, w.dtype) if g.dtype != w.dtype else g for g, w in zip(gs, wrt)]
    new_C = []
    for j, k in enumerate(fstates):
        m = -info.state_taps[k][0]
        d = {tap: gs[pos] for kk, tap, pos in tap_pos if kk == k}
        rows = []
        for i in range(m):
            r = d.get(-(i + 1))
            if i + 1 < m:
                r = b_C[j][i + 1] if r is None else b_C[j][i + 1] + r
            rows.append(T.zeros_like(out_state[k]) if r is None else r)
        new_C.append(T.stack(rows))
    new_acc = [b_acc[j] + gs[ns_pos + j] for j in range(len(fns))]
    g_x = [gs[j] for j in range(len(fseqs))]
    body = new_C + new_acc + g_x
    # the step's forward outputs are read from the forward loop's results rather than recomputed
    # (an op's gradient often uses its output: tanh's is 1 - tanh(x)**2), as Theano's scan does;
    # what only computed them then disappears from the backward body
    saved = [i for i, fo in enumerate(f_outs) if fo.owner is not None]
    b_fo = [f_outs[i].type(f"out{i}[t]") for i in saved]
    body = clone_replace(body, {f_outs[i]: b for i, b in zip(saved, b_fo)}, strict=False)
    # non-sequence placeholders back to the outer variables, then hoist what is loop invariant
    body = clone_replace(body, dict(zip(b_ns, nsv)), strict=False)
    variant = b_x + [b_gS[j] for j in range(len(fstates))] + b_gY + b_sv + b_fo + b_C + b_acc
    h_outer, h_inner, body = hoist_invariants(variant, body)

    # -- outer sequences: the last m forward steps, reversed ---------------------------------------
    some_out = outputs[0]
    n = T.shape_i(some_out, 0)
    if info.truncate_gradient == -1:
        m_steps = n
    else:
        m_steps = T.minimum(n, T.constant(np.int64(info.truncate_gradient)))
    lo = n - m_steps

    def window(v, shift=0):
        return v[lo + shift:n + shift][::-1]

    bseqs = [window(s) for s in seqs]
    for k in fstates:
        bseqs.append(window(output_grads[k]))
    for q in fnits:
        bseqs.append(window(output_grads[nst + q]))
    buffers = []
    for k, taps in enumerate(info.state_taps):
        mk = -taps[0]
        init = inits[k]
        buf = T.concatenate([init[init.shape[0] - mk:], outputs[k]])
        buffers.append(buf)
        for tap in taps:
            bseqs.append(window(buf, mk + tap))
    bseqs.extend(window(outputs[i]) for i in saved)  # each step's forward outputs
    binits = []
    for k in fstates:
        mk = -info.state_taps[k][0]
        init = inits[k]
        binits.append(T.shape_padleft(T.zeros_like(init[init.shape[0] - mk:])))
    for i in fns:
        binits.append(T.shape_padleft(T.zeros_like(nsv[i])))
    n_bst = len(fstates) + len(fns)
    binfo = info.replace(
        n_seqs=len(bseqs), state_taps=[[-1]] * n_bst, n_nit=len(fseqs), n_ns=len(h_outer),
        has_until=False, save_last=[True] * n_bst + [False] * len(fseqs), truncate_gradient=-1,
        go_backwards=False, name=f"grad_of_{info.name or 'scan_fn'}", n_steps_given=True,
        seq_names=(), out_names=(), empty_if_no_steps=None)
    bop = Scan(variant + h_inner, body, binfo)
    res = bop.make_node(m_steps, *bseqs, *binits, *h_outer).outputs

    # -- gradients of the forward node's inputs ----------------------------------------------------
    out = list(disc)
    for j, i in enumerate(fseqs):
        g_rev = res[n_bst + j]
        out[1 + i] = T.set_subtensor(T.zeros_like(seqs[i])[lo:n], g_rev[::-1])
    for j, k in enumerate(fstates):
        mk = -info.state_taps[k][0]
        init = inits[k]
        c_final = res[j][-1][::-1]
        if info.truncate_gradient != -1:
            keep = T.cast(T.le(n, T.constant(np.int64(info.truncate_gradient))), c_final.dtype)
            c_final = c_final * keep
        out[1 + ns + k] = T.set_subtensor(T.zeros_like(init)[init.shape[0] - mk:], c_final)
    for j, i in enumerate(fns):
        out[1 + ns + nst + i] = res[len(fstates) + j][-1]
    return out
