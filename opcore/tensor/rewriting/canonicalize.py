"""Algebraic canonicalisation: flatten and combine add/sub/neg and mul/div/neg trees.

Each rule rebuilds a maximal tree of one family rooted at a node (inner nodes used only there),
with constants combined, neutral elements dropped (x*1, x+0) and opposite terms cancelled (x-x,
x*y/y, --x).  A tree is rebuilt only when the result needs fewer operations, so rules never
undo each other.
"""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph
from opcore.tensor import math as M
from opcore.tensor.basic import constant
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.utils import FLOATS, const_value, fit, owner_is, scalar_name
from opcore.tensor.hints import RewriteResult

_ADD_FAMILY = ("add", "sub", "neg")
_MUL_FAMILY = ("mul", "true_div", "neg")


def _expand(fgraph, root, family, signed_input):
    """Walk the tree of ``family`` ops under ``root``; returns (leaves, n_ops).

    ``signed_input(name, i)`` gives the exponent/sign (+1/-1) of input ``i`` of an op ``name``.
    Inner nodes are expanded only when their output feeds this tree alone and has the root's dtype.
    """
    out_dtype = root.outputs[0].dtype
    leaves = []
    n_ops = 0
    stack = [(root.outputs[0], 1, True)]
    while stack:
        var, sign, is_root = stack.pop()
        node = var.owner
        name = scalar_name(node)
        inner_ok = is_root or (
            name in family and var.dtype == out_dtype
            and len(fgraph.clients.get(var, ())) == 1
            and fgraph.clients[var][0][0] != "output")
        if name in family and inner_ok:
            n_ops += 1
            for i in reversed(range(len(node.inputs))):
                stack.append((node.inputs[i], sign * signed_input(name, i), False))
        else:
            leaves.append((var, sign))
    return leaves, n_ops


def _typed_const(value, dtype):
    return constant(np.asarray(value).astype(dtype))


@register_rewrite("add_canonizer", "fast_run", tracks=_ADD_FAMILY)
def add_canonizer(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Flatten add/sub/neg; combine constants; drop +0; cancel x - x; --x -> x."""
    out = node.outputs[0]
    if node.outputs[0].dtype == "bool":
        return None
    leaves, n_ops = _expand(fgraph, node, _ADD_FAMILY,
                            lambda name, i: -1 if (name == "neg" or (name == "sub" and i == 1)) else 1)
    const = np.zeros((), dtype=out.dtype)
    n_const = 0
    coef: dict = {}
    order = []
    for var, sign in leaves:
        c = const_value(var)
        if c is not None:
            # in the output dtype, wrapping around as the graph itself would (uint8: 0 - 1 = 255)
            with np.errstate(over="ignore"):
                const = np.asarray((np.subtract if sign < 0 else np.add)(
                    const, np.asarray(c).astype(out.dtype), dtype=out.dtype))
            n_const += 1
            continue
        if var not in coef:
            coef[var] = 0
            order.append(var)
        coef[var] += sign
    terms = [(v, coef[v]) for v in order if coef[v] != 0]
    has_const = bool(np.any(const != 0))
    k = len(terms) + (1 if has_const else 0)
    new_ops = max(k - 1, 0) + sum(1 for _, c in terms if abs(c) > 1)
    if terms and all(c < 0 for _, c in terms) and not has_const:
        new_ops += 1
    if new_ops >= n_ops:
        return None
    res = None
    for v, c in terms:
        if c > 0:
            t = v if c == 1 else M.mul(_typed_const(c, v.dtype), v)
            res = t if res is None else M.add(res, t)
    if res is None and has_const:
        # only subtracted terms: c - v (one op), not neg(v) + c, which is what we started from
        res = _typed_const(const, out.dtype)
        has_const = False
    for v, c in terms:
        if c < 0:
            t = v if c == -1 else M.mul(_typed_const(-c, v.dtype), v)
            res = M.neg(t) if res is None else M.sub(res, t)
    if has_const or res is None:
        cv = _typed_const(const, out.dtype)
        res = cv if res is None else M.add(res, cv)
    new = fit(res, out, fgraph)
    return None if new is None else [new]


@register_rewrite("mul_canonizer", "fast_run", tracks=_MUL_FAMILY)
def mul_canonizer(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """Flatten mul/div/neg; combine constants; drop *1; cancel x*y/y; x*0 -> 0."""
    out = node.outputs[0]
    if out.dtype == "bool":
        return None
    float_out = out.dtype in FLOATS
    if scalar_name(node) == "neg" and owner_is(node.inputs[0], "neg") is None:
        return None  # a lone neg belongs to the add family
    if scalar_name(node) == "true_div" and not float_out:
        return None

    def sign_of(name, i):
        return -1 if (name == "true_div" and i == 1) else 1

    family = _MUL_FAMILY if float_out else ("mul", "neg")
    leaves, n_ops = _expand(fgraph, node, family, sign_of)
    const = np.ones((), dtype="float64" if float_out else out.dtype)
    n_const = 0
    power: dict = {}
    order = []
    for var, p in leaves:
        c = const_value(var)
        if c is not None:
            c = np.asarray(c)
            if p > 0:
                const = const * c
            else:
                const = const / c
            n_const += 1
            continue
        if var not in power:
            power[var] = 0
            order.append(var)
        power[var] += p
    # the neg ops counted in n_ops become a sign on the constant
    neg_count = _count_negs(fgraph, node, family)
    if neg_count % 2:
        const = -const
    if not float_out:
        const = const.astype(out.dtype)
    num = [v for v in order for _ in range(max(power[v], 0))]
    den = [v for v in order for _ in range(max(-power[v], 0))]
    if bool(np.all(const == 0)) and n_const:
        new = fit(_typed_const(0, out.dtype), out, fgraph)
        return None if new is None else [new]
    c_is_one = bool(np.all(const == 1))
    n_num = len(num) + (0 if c_is_one else 1)
    new_ops = max(n_num - 1, 0) + len(den)
    if new_ops >= n_ops:
        return None
    res = None
    for v in num:
        res = v if res is None else M.mul(res, v)
    if not c_is_one:
        if res is not None and bool(np.all(const == -1)):
            res = M.neg(res)
        else:
            cv = _typed_const(const, out.dtype)
            res = cv if res is None else M.mul(cv, res)
    if den:
        d = den[0]
        for v in den[1:]:
            d = M.mul(d, v)
        res = M.true_div(_typed_const(1, out.dtype) if res is None else res, d)
    if res is None:
        res = _typed_const(1, out.dtype)
    new = fit(res, out, fgraph)
    return None if new is None else [new]


def _count_negs(fgraph, root, family):
    leaves_neg = 0
    out_dtype = root.outputs[0].dtype
    stack = [(root.outputs[0], True)]
    while stack:
        var, is_root = stack.pop()
        node = var.owner
        name = scalar_name(node)
        ok = is_root or (name in family and var.dtype == out_dtype
                         and len(fgraph.clients.get(var, ())) == 1
                         and fgraph.clients[var][0][0] != "output")
        if name in family and ok:
            if name == "neg":
                leaves_neg += 1
            stack.extend((i, False) for i in node.inputs)
    return leaves_neg


@register_rewrite("log_exp", "fast_run", tracks=("log",))
def log_exp(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``log(exp(x))`` -> ``x``."""
    inner = owner_is(node.inputs[0], "exp")
    if inner is None:
        return None
    new = fit(inner.inputs[0], node.outputs[0], fgraph)
    return None if new is None else [new]


@register_rewrite("pow_trivial", "fast_run", tracks=("pow",))
def pow_trivial(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``x ** 1`` -> ``x``; ``x ** 0`` -> ones."""
    e = const_value(node.inputs[1])
    if e is None:
        return None
    out = node.outputs[0]
    if e == 1:
        new = fit(node.inputs[0], out, fgraph)
    elif e == 0:
        new = fit(_typed_const(1, out.dtype), out, fgraph)
    else:
        return None
    return None if new is None else [new]


@register_rewrite("fill_to_alloc", "fast_run", tracks=("second",))
def fill_to_alloc(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``second(a, b)`` (fill: b broadcast to a's shape) -> ``b``, or ``alloc(b, *a.shape)``.

    The shape comes from the shape feature, so ``a`` itself need not be computed.
    """
    a, b = node.inputs
    new = fit(b, node.outputs[0], fgraph)
    return None if new is None else [new]
