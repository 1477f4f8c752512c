"""Stabilising rewrites for the softmax family (phase ``stabilize``, tags fast_run/stabilize).

- ``log(softmax(x))`` -> ``log_softmax(x)``;
- ``-log(softmax(x))[arange(n), y]``, ``log(softmax(x)[arange(n), y])`` and
  ``categorical_crossentropy(softmax(x), y)`` -> the fused :class:`CrossentropySoftmax1Hot`;
- in gradients: ``SoftmaxGrad(g / sm, sm)`` -> ``g - sm * sum(g)`` (the log-softmax gradient) and
  ``SoftmaxGrad(Crossentropy1HotGrad(g, sm, y), sm)`` -> ``CrossentropySoftmax1HotDx(g, sm, y)``,
  so that the gradient stays finite where a probability underflows to 0.

Each function has the engine's signature ``fn(fgraph, node) -> replacements | None``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Constant
from opcore.tensor.basic import ARange, Shape, Shape_i
from opcore.tensor.elemwise import Elemwise
from opcore.tensor.subtensor import Subtensor

from opcore_nnet.pool import DownsampleFactorMaxGradGrad, MaxPoolRop, Pool, PoolGrad
from opcore_nnet.softmax import LogSoftmax, Softmax, SoftmaxGrad, SoftmaxWithBias
from opcore_nnet.xent import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx)

TAGS = ("fast_run", "stabilize")


def _scalar_name(var: Any) -> str | None:
    node = var.owner
    if node is None or type(node.op) is not Elemwise or node.op.inplace_pattern:
        return None
    return getattr(node.op.scalar_op, "name", None)


def _const(var: Any) -> Any:
    if isinstance(var, Constant):
        v = np.asarray(var.data)
        return v.item() if v.size == 1 else None
    return None


def _row_softmax_input(var: Any) -> Any:
    """``x`` when ``var`` is a row-wise softmax of a matrix ``x`` (or of ``x + b``), else None."""
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Softmax) and var.ndim == 2 and node.op.axis in (1, -1):
        return node.inputs[0]
    if isinstance(node.op, SoftmaxWithBias):
        return node.inputs[0] + node.inputs[1]
    return None


def _is_len0(var: Any, of: list) -> bool:
    """Whether ``var`` is ``v.shape[0]`` for some ``v`` in ``of`` (or the same constant)."""
    node = var.owner
    c = _const(var)
    if c is not None:
        return any(v.type.shape and v.type.shape[0] == c for v in of)
    if node is None:
        return False
    if isinstance(node.op, Shape_i):
        return node.op.i == 0 and node.inputs[0] in of
    if isinstance(node.op, Subtensor) and node.op.idx_spec == (("int",),):
        src = node.inputs[0].owner
        return (src is not None and isinstance(src.op, Shape) and _const(node.inputs[1]) == 0
                and src.inputs[0] in of)
    return False


def _rows_and_labels(sub_node: Any) -> Any:
    """``(matrix, y)`` when ``sub_node`` is ``matrix[arange(n), y]`` with ``n`` its length."""
    op = sub_node.op
    if not isinstance(op, Subtensor) or op.idx_spec != (("adv", 1), ("adv", 1)):
        return None
    mat, rows, y = sub_node.inputs
    if mat.ndim != 2 or y.ndim != 1 or not _is_rows(rows, [mat, y]):
        return None
    return mat, y


def _is_rows(rows: Any, of: list) -> bool:
    """Whether ``rows`` is ``arange(n)`` with ``n`` the length of some variable in ``of``."""
    if rows.owner is None or not isinstance(rows.owner.op, ARange):
        return False
    start, stop, step = rows.owner.inputs
    return _const(start) == 0 and _const(step) == 1 and _is_len0(stop, of)


def _fit(new: Any, old: Any) -> Any:
    if new.dtype != old.dtype:
        new = T.cast(new, old.dtype)
    return new


def log_softmax_rewrite(fgraph: Any, node: Any) -> Any:
    """``log(softmax(x))`` -> ``log_softmax(x)``."""
    if _scalar_name(node.outputs[0]) != "log":
        return None
    sm = node.inputs[0]
    owner = sm.owner
    if owner is None:
        return None
    if isinstance(owner.op, Softmax):
        return [_fit(LogSoftmax(owner.op.axis)(owner.inputs[0]), node.outputs[0])]
    if isinstance(owner.op, SoftmaxWithBias):
        return [_fit(LogSoftmax(-1)(owner.inputs[0] + owner.inputs[1]), node.outputs[0])]
    return None


log_softmax_rewrite.tracks = ("log",)


def xent_from_indexed_log_softmax(fgraph: Any, node: Any) -> Any:
    """``log_softmax(x)[arange(n), y]`` -> ``-crossentropy_softmax_1hot(x, y)[0]``."""
    found = _rows_and_labels(node)
    if found is None:
        return None
    mat, y = found
    owner = mat.owner
    if owner is None or not isinstance(owner.op, LogSoftmax) or owner.op.axis not in (1, -1):
        return None
    nll = CrossentropySoftmax1Hot()(owner.inputs[0], y)[0]
    return [_fit(-nll, node.outputs[0])]


xent_from_indexed_log_softmax.tracks = (Subtensor,)


def xent_from_log_of_indexed_softmax(fgraph: Any, node: Any) -> Any:
    """``log(softmax(x)[arange(n), y])`` -> ``-crossentropy_softmax_1hot(x, y)[0]``."""
    if _scalar_name(node.outputs[0]) != "log":
        return None
    sub = node.inputs[0].owner
    if sub is None:
        return None
    found = _rows_and_labels(sub)
    if found is None:
        return None
    mat, y = found
    x = _row_softmax_input(mat)
    if x is None:
        return None
    nll = CrossentropySoftmax1Hot()(x, y)[0]
    return [_fit(-nll, node.outputs[0])]


xent_from_log_of_indexed_softmax.tracks = ("log",)


def xent_from_categorical(fgraph: Any, node: Any) -> Any:
    """``crossentropy_categorical_1hot(softmax(x), y)`` -> the fused op's ``nll``."""
    if not isinstance(node.op, CrossentropyCategorical1Hot):
        return None
    p, y = node.inputs
    x = _row_softmax_input(p)
    if x is None:
        return None
    return [_fit(CrossentropySoftmax1Hot()(x, y)[0], node.outputs[0])]


xent_from_categorical.tracks = (CrossentropyCategorical1Hot,)


def _divided_by(var: Any, sm: Any) -> Any:
    """``g`` when ``var`` is ``g / sm`` (or ``g * (1 / sm)``), else None."""
    name = _scalar_name(var)
    if name == "true_div" and var.owner.inputs[1] is sm:
        return var.owner.inputs[0]
    if name == "mul" and len(var.owner.inputs) == 2:
        a, b = var.owner.inputs
        for u, v in ((a, b), (b, a)):
            if _scalar_name(v) == "inv" and v.owner.inputs[0] is sm:
                return u
    return None


def _is_zeros(var: Any) -> bool:
    node = var.owner
    if _const(var) == 0:
        return True
    return node is not None and type(node.op).__name__ == "Alloc" and _const(node.inputs[0]) == 0


def _indexed_reciprocal_grad(dy: Any, sm: Any) -> Any:
    """``(g, y)`` when ``dy`` is ``inc_subtensor(zeros[arange(n), y], g / sm[arange(n), y])``."""
    node = dy.owner
    if node is None or type(node.op).__name__ != "IncSubtensor":
        return None
    op = node.op
    if op.set_instead_of_inc or op.idx_spec != (("adv", 1), ("adv", 1)):
        return None
    base, val, rows, y = node.inputs
    if not _is_zeros(base) or val.ndim != 1:
        return None
    if not _is_rows(rows, [sm, y]):
        return None
    sub = val.owner.inputs[1].owner if _scalar_name(val) == "true_div" else None
    if sub is None:
        return None
    found = _rows_and_labels(sub)
    if found is None or found[0] is not sm or found[1] is not y:
        return None
    return val.owner.inputs[0], y


def stable_softmax_grad(fgraph: Any, node: Any) -> Any:
    """``SoftmaxGrad(g / sm, sm)`` -> ``g - sm * sum(g)``; ``SoftmaxGrad(Xent1HotGrad(g, sm, y),
    sm)`` -> ``CrossentropySoftmax1HotDx(g, sm, y)``."""
    if not isinstance(node.op, SoftmaxGrad):
        return None
    dy, sm = node.inputs
    g = _divided_by(dy, sm)
    out = node.outputs[0]
    if g is not None and g.ndim == sm.ndim:
        return [_fit(g - sm * T.sum(g, axis=node.op.axis, keepdims=True), out)]
    owner = dy.owner
    g_rows = _indexed_reciprocal_grad(dy, sm)
    if g_rows is not None and sm.ndim == 2 and node.op.axis in (1, -1):
        g_vec, y = g_rows
        if g_vec.type.broadcastable == (True,):
            g_vec = T.alloc(g_vec, y.shape[0])
        return [_fit(CrossentropySoftmax1HotDx()(-g_vec, sm, y), out)]
    if (owner is not None and isinstance(owner.op, CrossentropyCategorical1HotGrad)
            and owner.inputs[1] is sm and sm.ndim == 2 and node.op.axis in (1, -1)):
        return [_fit(CrossentropySoftmax1HotDx()(owner.inputs[0], sm, owner.inputs[2]), out)]
    return None


stable_softmax_grad.tracks = (SoftmaxGrad,)

def pool_constant_params(fgraph: Any, node: Any) -> Any:
    """Theano's ``Pool(...)(x, ws, stride, pad)`` with constant parameters -> the fixed-form
    op (which has C code); the same for ``PoolGrad``, ``DownsampleFactorMaxGradGrad`` and
    ``MaxPoolRop``."""
    op = node.op
    kinds = (Pool, PoolGrad, DownsampleFactorMaxGradGrad, MaxPoolRop)
    if not isinstance(op, kinds) or not op.symbolic:
        return None
    n_data = len(node.inputs) - 3  # ws, stride, pad come last
    params = node.inputs[n_data:]
    if not all(isinstance(p, Constant) for p in params):
        return None
    try:
        fixed = op._fixed(*(np.asarray(p.data).tolist() for p in params))
    except (ValueError, NotImplementedError):
        return None  # bad parameters: leave the run-time error to perform
    return [fixed(*node.inputs[:n_data])]


pool_constant_params.tracks = (Pool, PoolGrad, DownsampleFactorMaxGradGrad, MaxPoolRop)

RULES = (
    ("nnet_pool_constant_params", pool_constant_params),
    ("nnet_log_softmax", log_softmax_rewrite),
    ("nnet_xent_log_softmax_index", xent_from_indexed_log_softmax),
    ("nnet_xent_log_softmax_index2", xent_from_log_of_indexed_softmax),
    ("nnet_xent_categorical_softmax", xent_from_categorical),
    ("nnet_stable_softmax_grad", stable_softmax_grad),
)


def register_all(rewrites: Any) -> None:
    """Register every rule with tags ``fast_run``/``stabilize`` in phase ``stabilize``."""
    for name, fn in RULES:
        rewrites.register(name, fn, *TAGS, phase="stabilize")
