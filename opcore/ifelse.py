"""Lazy conditional: ``ifelse(cond, then, else)`` evaluates only the branch it takes.

Unlike ``T.switch`` (elementwise, both operands computed), :class:`IfElse` is a *lazy* op: the
Python VM first asks it for its condition (``lazy_needs`` returns ``[0]``), then for the inputs of
the branch the condition selects, and never computes the other branch.

>>> import numpy as np, opcore, opcore.tensor as T
>>> from opcore.ifelse import ifelse
>>> a, b = T.dscalars('a', 'b')
>>> x = T.dvector('x')
>>> f = opcore.function([a, b, x], ifelse(T.lt(a, b), x.sum(), x.max()))
>>> float(f(0.0, 1.0, np.array([1.0, 2.0])))
3.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.null import DisconnectedType
from opcore.graph.op import Op
from opcore import tensor as T

__all__ = ["IfElse", "ifelse"]


class IfElse(Op):
    """``n_outs`` outputs; inputs are ``[cond] + then_branch + else_branch``.

    The taken branch's values are copied into the outputs (``as_view=False``, the default), so no
    output aliases an input; with ``as_view=True`` the outputs are the branch's own buffers and
    ``view_map`` says so (both candidate inputs are listed per output).
    """

    __props__ = ("n_outs", "as_view", "name")
    lazy = True

    def __init__(self, n_outs: int, as_view: bool = False, name: str | None = None) -> None:
        self.n_outs = int(n_outs)
        self.as_view = bool(as_view)
        self.name = name
        if as_view:
            self.view_map = {i: [1 + i, 1 + self.n_outs + i] for i in range(self.n_outs)}

    def __str__(self) -> str:
        return f"if{{{self.name}}}" if self.name else "if{}"

    def make_node(self, cond: Any, *branches: Any) -> Apply:
        if len(branches) != 2 * self.n_outs:
            raise TypeError(f"{self}: expected {2 * self.n_outs} branch inputs, "
                            f"got {len(branches)}")
        cond = T.as_tensor_variable(cond)
        if cond.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {cond} with {cond.ndim} "
                            f"dimension(s) ({cond.type}); reduce it (e.g. T.any(c)) first")
        thens = [_as_var(v) for v in branches[:self.n_outs]]
        elses = [_as_var(v) for v in branches[self.n_outs:]]
        outs = []
        for i, (t, e) in enumerate(zip(thens, elses)):
            if t.type != e.type:
                conv = _unify(t, e)
                if conv is None:
                    raise TypeError(
                        f"ifelse: output {i}: the then-branch {t} has type {t.type} but the "
                        f"else-branch {e} has type {e.type}; they must match (use T.cast or "
                        "T.addbroadcast / T.unbroadcast)")
                t, e = conv
                thens[i], elses[i] = t, e
            outs.append(t.type())
        return Apply(self, [cond] + thens + elses, outs)

    # -- lazy protocol used by opcore.compile.vm --------------------------------------------------
    def lazy_needs(self, node: Apply, storage_map: dict, needs_so_far: list | None) -> list[int]:
        """First the condition; once its value is known, the condition plus the taken branch."""
        if needs_so_far is None:
            return [0]
        c = storage_map[node.inputs[0]][0]
        if c is None:
            return [0]
        start = 1 if bool(c) else 1 + self.n_outs
        return [0] + list(range(start, start + self.n_outs))

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        n = self.n_outs
        vals = inputs[1:1 + n] if bool(inputs[0]) else inputs[1 + n:]
        for cell, v, var in zip(output_storage, vals, node.outputs):
            if v is None:
                raise RuntimeError(f"{self}: the taken branch value was not computed")
            if self.as_view:
                cell[0] = v
            elif isinstance(v, np.ndarray):
                cell[0] = v.copy()
            else:
                cell[0] = np.asarray(v, dtype=var.type.dtype).copy()

    # -- shapes and derivatives -------------------------------------------------------------------
    def infer_shape(self, node: Apply, shapes: list) -> list:
        n = self.n_outs
        cond = node.inputs[0]
        out = []
        for ts, es in zip(shapes[1:1 + n], shapes[1 + n:]):
            dims = []
            for a, b in zip(ts, es):
                dims.append(a if a is b else ifelse(cond, a, b))
            out.append(tuple(dims))
        return out

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        n = self.n_outs
        cond = inputs[0]
        thens = inputs[1:1 + n]
        elses = inputs[1 + n:]
        g_then, g_else = [], []
        for t, e, g in zip(thens, elses, output_grads):
            if not t.dtype.startswith(("float", "complex")):
                g_then.append(DisconnectedType()())
                g_else.append(DisconnectedType()())
                continue
            z = T.zeros_like(g)
            g_then.append(ifelse(cond, g, z))
            g_else.append(ifelse(cond, z, g))
        return [DisconnectedType()()] + g_then + g_else

    def R_op(self, inputs: list, eval_points: list) -> list:
        n = self.n_outs
        cond = inputs[0]
        res = []
        for i in range(n):
            et, ee = eval_points[1 + i], eval_points[1 + n + i]
            if et is None and ee is None:
                res.append(None)
                continue
            et = T.zeros_like(inputs[1 + i]) if et is None else et
            ee = T.zeros_like(inputs[1 + n + i]) if ee is None else ee
            res.append(ifelse(cond, et, ee))
        return res

    def connection_pattern(self, node: Apply) -> list:
        n = self.n_outs
        pat = [[False] * n]
        for k in range(2 * n):
            pat.append([j == k % n for j in range(n)])
        return pat


def _as_var(v: Any) -> Variable:
    return v if isinstance(v, Variable) else T.as_tensor_variable(v)


def _unify(t: Variable, e: Variable):
    """Equal branch types when they differ only by a constant's dtype or static shape info."""
    if getattr(t.type, "ndim", None) != getattr(e.type, "ndim", None):
        return None
    if t.dtype != e.dtype:
        # a Python-number constant branch follows the other branch's dtype
        if isinstance(e, Constant) and np.can_cast(np.min_scalar_type(e.data), t.dtype):
            e = T.cast(e, t.dtype)
        elif isinstance(t, Constant) and np.can_cast(np.min_scalar_type(t.data), e.dtype):
            t = T.cast(t, e.dtype)
        else:
            return None
    if t.type == e.type:
        return t, e
    if t.broadcastable != e.broadcastable:
        # keep the less specific pattern for both
        keep = tuple(a and b for a, b in zip(t.broadcastable, e.broadcastable))
        t = T.unbroadcast(t, *[d for d, (a, k) in enumerate(zip(t.broadcastable, keep)) if a != k])
        e = T.unbroadcast(e, *[d for d, (a, k) in enumerate(zip(e.broadcastable, keep)) if a != k])
    if t.type == e.type:
        return t, e
    try:
        return t, t.type.filter_variable(e)
    except TypeError:
        try:
            return e.type.filter_variable(t), e
        except TypeError:
            return None


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None):
    """``then_branch`` if ``condition`` is true, else ``else_branch``; only one is computed.

    The branches are variables or lists of variables of matching types (a list gives a list).

    >>> import opcore, opcore.tensor as T
    >>> c = T.iscalar('c')
    >>> f = opcore.function([c], ifelse(c, T.constant(1.0), T.constant(2.0)))
    >>> float(f(0))
    2.0
    """
    single = not isinstance(then_branch, (list, tuple))
    thens = [then_branch] if single else list(then_branch)
    elses = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(thens) != len(elses):
        raise ValueError(f"ifelse: the then-branch has {len(thens)} outputs but the else-branch "
                         f"has {len(elses)}; they must have the same number")
    if not thens:
        raise ValueError("ifelse: the branches are empty")
    outs = IfElse(len(thens), name=name).make_node(condition, *thens, *elses).outputs
    return outs[0] if single else list(outs)
