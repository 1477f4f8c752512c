"""Products to BLAS calls: ``dot(matrix, vector)`` -> Gemv, ``z + a*dot(x, y)`` -> Gemm/Gemv,
``A + a*outer(x, y)`` -> Ger (ops in :mod:`opcore.tensor.blas`)."""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.destroyhandler import view_root
from opcore.graph.fg import FunctionGraph
from opcore.tensor.basic import Alloc, alloc, as_tensor_variable, cast, constant
from opcore.tensor.blas import Gemm, Gemv, Ger, gemm, gemm_inplace, gemv, ger
from opcore.tensor.elemwise import DimShuffle
from opcore.tensor.math import Dot, mul, neg
from opcore.tensor.math import sum as sum_
from opcore.tensor.rewriting.inplace import destroy_handler
from opcore.tensor.rewriting.registry import register_rewrite
from opcore.tensor.rewriting.shape import shape_feature
from opcore.tensor.rewriting.utils import const_value, fit, owner_is, scalar_name, single_client
from opcore.tensor.hints import RewriteResult

_BLAS = ("float32", "float64")


def _same_float(*vs) -> bool:
    return vs[0].dtype in _BLAS and all(v.dtype == vs[0].dtype for v in vs)


def _scalar_of(var):
    """A 0-d variable equal to ``var`` when ``var`` is a broadcast scalar, else None."""
    c = const_value(var)
    if c is not None:
        return constant(np.asarray(c, dtype=var.dtype))
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 0:
        return node.inputs[0]
    if var.ndim == 0:
        return var
    return None


def _scaled(fgraph, var):
    """``(a, u)`` when ``var`` is ``a * u`` with scalar a (or ``(1, var)``)."""
    m = owner_is(var, "mul")
    if m is not None and single_client(fgraph, var):
        a, b = m.inputs
        for s, u in ((a, b), (b, a)):
            sc = _scalar_of(s)
            if sc is not None and u.ndim == var.ndim:
                return sc, u
    return None, var


def _one(dtype):
    return constant(np.asarray(1, dtype=dtype))


def dot_of_filled_vector(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``dot(A, alloc(s, n))`` -> ``s * sum(A, axis=1)`` and ``dot(alloc(s, n), A)`` ->
    ``s * sum(A, axis=0)`` for a float matrix ``A`` and a scalar ``s`` of its dtype: a product
    with a vector of one repeated value (the gradient of ``dot(v, b)`` w.r.t. ``b`` under a
    mean) is a row or column sum, and the filled vector is never built."""
    a, b = node.inputs
    out = node.outputs[0]
    for mat, vec, axis in ((a, b, 1), (b, a, 0)):
        fill = vec.owner
        if (mat.ndim != 2 or vec.ndim != 1 or fill is None or not isinstance(fill.op, Alloc)
                or not single_client(fgraph, vec)):
            continue
        value = fill.inputs[0]
        s = _scalar_of(value)
        if s is None and all(value.type.broadcastable):  # a one-element array: its element
            s = DimShuffle(value.broadcastable, [])(value)
        if s is None or not _same_float(mat, s, out):
            continue
        new = fit(mul(s, sum_(mat, axis=axis)), out, fgraph)
        return None if new is None else [new]
    return None


register_rewrite("dot_of_filled_vector", "fast_run", "blas", tracks=(Dot,))(dot_of_filled_vector)
register_rewrite("dot_of_filled_vector_specialized", "fast_run", "blas", "dot_of_filled_vector",
                 phase="specialize", tracks=(Dot,), before=("dot_to_gemv",))(dot_of_filled_vector)


@register_rewrite("dot_to_gemv", "fast_run", "blas", phase="specialize", tracks=(Dot,))
def dot_to_gemv(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``dot(A, x)`` (matrix, vector) -> ``Gemv(zeros, 1, A, x, 0)``; ``dot(x, A)`` likewise."""
    a, b = node.inputs
    out = node.outputs[0]
    if not _same_float(a, b, out):
        return None
    if a.ndim == 2 and b.ndim == 1:
        A, x = a, b
    elif a.ndim == 1 and b.ndim == 2:
        A, x = b.T, a
    else:
        return None
    rows = shape_feature(fgraph).shape_of(A)
    if rows is None:
        return None
    y0 = alloc(constant(np.zeros((), dtype=out.dtype)), rows[0])
    return [gemv(y0, _one(out.dtype), A, x, constant(np.zeros((), dtype=out.dtype)))]


def _beta(fgraph, z, out):
    """``(b, w)`` when ``z`` is ``b * w`` with scalar b (the scale becomes the BLAS call's beta,
    one elementwise loop fewer), else ``(1, z)``."""
    b, w = _scaled(fgraph, z)
    if b is None or w.type.broadcastable != out.type.broadcastable or w.dtype != out.dtype:
        return _one(out.dtype), z
    return (cast(b, out.dtype) if b.dtype != out.dtype else b), w


def _times(a, b):
    """``a * b`` for 0-d scalars of one dtype, folded when both are constants."""
    av, bv = const_value(a), const_value(b)
    if av is not None and bv is not None:
        return constant(np.asarray(np.asarray(av) * np.asarray(bv), dtype=a.dtype))
    if bv is not None and bv == 1:
        return a
    return a * b


@register_rewrite("add_to_gemm", "fast_run", "blas", phase="specialize", tracks=("add", "sub"),
                  after=("dot_to_gemv",))
def add_to_gemm(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``z + a*dot(x, y)`` -> ``Gemm(z, a, x, y, 1)``; ``z + a*Gemv(_, c, A, v, 0)`` -> Gemv; a
    scaled ``z = b*w`` gives ``Gemm(w, a, x, y, b)`` / ``Gemv(w, a*c, A, v, b)``; ``z - a*dot``
    (a gradient step ``W - lr * dot(x.T, g)``) is ``Gemm(z, -a, x, y, 1)``; ``z + a*Gemm(dot(u,
    v), c, x, y, d)`` (a step on a gradient that is a sum of two products, an RBM's) is
    ``Gemm(Gemm(z, a*d, u, v, 1), a*c, x, y, 1)``, both accumulating in ``z``'s buffer once in
    place."""
    out = node.outputs[0]
    name = scalar_name(node)
    if out.dtype not in _BLAS or out.ndim not in (1, 2) or name not in ("add", "sub"):
        return None
    for k in ((0, 1) if name == "add" else (0,)):
        z, term = node.inputs[k], node.inputs[1 - k]
        if z.type.broadcastable != out.type.broadcastable or z.dtype != out.dtype:
            continue
        a, prod = _scaled(fgraph, term)
        p = prod.owner
        if p is None or not single_client(fgraph, prod):
            continue
        if a is None:
            a = _one(out.dtype)
        if a.dtype != out.dtype:
            a = cast(a, out.dtype)
        if name == "sub":
            av = const_value(a)
            a = (constant(np.asarray(-np.asarray(av), dtype=out.dtype)) if av is not None
                 else neg(a))
        if isinstance(p.op, Dot) and out.ndim == 2:
            x, y = p.inputs
            if x.ndim == 2 and y.ndim == 2 and _same_float(x, y, z):
                b, w = _beta(fgraph, z, out)
                return [gemm(w, a, x, y, b)]
        if isinstance(p.op, Gemm) and out.ndim == 2:
            # z + a*(d*dot(u, v) + c*dot(x, y)) (a Gemm of a product: an SGD step on a sum
            # of two products) -> Gemm(Gemm(z, a*d, u, v, 1), a*c, x, y, 1)
            z2, c, x, y, d = p.inputs
            q = z2.owner
            if (q is not None and isinstance(q.op, Dot) and single_client(fgraph, z2)
                    and q.inputs[0].ndim == 2 and q.inputs[1].ndim == 2
                    and _same_float(z, z2, x, y, *q.inputs)):
                b, w = _beta(fgraph, z, out)
                inner = gemm(w, _times(a, d), q.inputs[0], q.inputs[1], b)
                return [gemm(inner, _times(a, c), x, y, _one(out.dtype))]
        if isinstance(p.op, Gemv) and out.ndim == 1:
            _, c, A, v, beta = p.inputs
            bv = const_value(beta)
            if bv is not None and bv == 0 and _same_float(A, v, z):
                scale = a if const_value(c) == 1 else a * c
                b, w = _beta(fgraph, z, out)
                return [gemv(w, as_tensor_variable(scale), A, v, b)]
    return None


def _outer_parts(var):
    """``(x, y)`` when ``var`` is ``x[:, None] * y[None, :]`` for vectors x, y."""
    m = owner_is(var, "mul")
    if m is None:
        return None
    a, b = m.inputs
    for col, row in ((a, b), (b, a)):
        if (col.owner is not None and isinstance(col.owner.op, DimShuffle)
                and col.owner.op.new_order == (0, "x") and row.owner is not None
                and isinstance(row.owner.op, DimShuffle) and row.owner.op.new_order == ("x", 0)):
            return col.owner.inputs[0], row.owner.inputs[0]
    return None


@register_rewrite("add_outer_to_ger", "fast_run", "blas", phase="specialize", tracks=("add",))
def add_outer_to_ger(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``A + a*outer(x, y)`` -> ``Ger(A, a, x, y)``."""
    out = node.outputs[0]
    if out.ndim != 2 or out.dtype not in _BLAS:
        return None
    for k in (0, 1):
        A, term = node.inputs[k], node.inputs[1 - k]
        if A.type.broadcastable != out.type.broadcastable or A.dtype != out.dtype:
            continue
        a, prod = _scaled(fgraph, term)
        if not single_client(fgraph, prod):
            continue
        parts = _outer_parts(prod)
        if parts is None:
            # a*x[:, None]*y[None, :] canonicalised as (a*x[:, None]) * y[None, :]
            continue
        x, y = parts
        if not _same_float(A, x, y):
            continue
        a = _one(out.dtype) if a is None else (cast(a, out.dtype) if a.dtype != out.dtype else a)
        return [ger(A, a, x, y)]
    return None


@register_rewrite("gemm_inplace", "fast_run", "inplace", phase="inplace", tracks=(Gemm,))
def gemm_inplace_rule(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``Gemm(z, ...)`` -> ``Gemm{inplace}(z, ...)`` when ``z`` is (a view of) a function input
    that may be overwritten: its other readers can all run first (Theano's ``gemm_inplace``).
    A weight the function's update replaces (``W - lr * dot(x.T, g)``, read by the forward and
    backward passes) qualifies."""
    op = node.op
    if not isinstance(op, Gemm) or op.inplace:
        return None
    if node.inputs[0].type != node.outputs[0].type:
        return None
    # only a buffer the function's caller gave (an updated shared variable): a temporary's
    # Gemm chain (a gradient summed over layers) in place would give the destroy handler's
    # orderings a long alias chain to walk at every schedule, for an allocation saved
    if view_root(node.inputs[0]) not in fgraph.inputs:
        return None
    if not destroy_handler(fgraph).can_destroy(fgraph, node, 0, readers_first=True):
        return None
    return [gemm_inplace(*node.inputs)]


__all__ = ["Gemm", "Gemv", "Ger", "dot_to_gemv", "add_to_gemm", "add_outer_to_ger",
           "gemm_inplace_rule"]


@register_rewrite("transpose_of_dot", "fast_run", tracks=(DimShuffle,))
def transpose_of_dot(fgraph: FunctionGraph, node: Apply) -> RewriteResult:
    """``dot(x, y).T`` -> ``dot(y.T, x.T)`` for matrices, when the transpose is the product's only
    reader (Theano's ``local_lift_transpose_through_dot``): BLAS reads the transposed operands
    in place and the consumer (a tied-weight autoencoder's Gemm) gets a row-major array."""
    if getattr(node.op, "new_order", None) != (1, 0):  # tracks DimShuffle
        return None
    d = node.inputs[0]
    if d.owner is None or type(d.owner.op) is not Dot or not single_client(fgraph, d):
        return None
    x, y = d.owner.inputs
    if x.ndim != 2 or y.ndim != 2:
        return None
    new = Dot()(y.T, x.T)
    return [new] if new.type == node.outputs[0].type else None
