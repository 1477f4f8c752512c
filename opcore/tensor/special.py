"""Special functions Theano code reaches for: ``logsumexp``, ``chi2sf``, ``choose`` and
Theano's ``abs_`` (``xlogx``/``xlogy0`` live in :mod:`opcore.tensor.xlogx`, as in Theano).

``chi2sf`` runs ``scipy.special.chdtrc`` (SciPy is imported when the op first runs, with a clear
error naming the package when it is missing); as in Theano it has no gradient.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import grad_not_implemented, grad_undefined_for
from opcore.graph.op import Op
from opcore.optional import require
from opcore.scalar.basic import upcast
from opcore.tensor.basic import arange, as_tensor_variable, cast
from opcore.tensor.math import abs as abs_
from opcore.tensor.math import eq, exp, isinf, log, max as tmax, maximum, switch
from opcore.tensor.math import sum as tsum
from opcore.tensor.shape import stack
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import ClipMode, InputShapes, OutputShapes

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _float_dtype(*dtypes: str) -> str:
    dt = upcast(*dtypes)
    return dt if dt.startswith(("float", "complex")) else ("float32" if dt in (
        "int8", "uint8", "int16", "uint16", "bool") else "float64")


def _same_rank(*xs: Any) -> list:
    """``xs`` with leading broadcastable axes added up to the largest rank (NumPy's rule)."""
    nd = max(x.ndim for x in xs)
    return [x.dimshuffle(["x"] * (nd - x.ndim) + list(range(x.ndim))) for x in xs]


def _broadcast_dims(x: Any, y: Any, sx: Any, sy: Any) -> tuple:
    """Symbolic broadcast of two shapes of equal length (lengths 1 yield; otherwise equal)."""
    res = []
    for d, (a, b) in enumerate(zip(sx, sy)):
        if x.broadcastable[d]:
            res.append(b)
        elif y.broadcastable[d]:
            res.append(a)
        else:
            res.append(maximum(a, b))
    return tuple(res)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """``log(sum(exp(x), axis))`` computed stably (the max is subtracted first; PyTensor's
    ``logsumexp``).  All ``-inf`` along an axis gives ``-inf``; the gradient is the softmax.

    >>> import opcore.tensor as T, numpy as np
    >>> round(float(T.logsumexp(T.as_tensor_variable(np.array([1000., 1000.]))).eval()), 4)
    1000.6931
    """
    x = as_tensor_variable(x)
    m = tmax(x, axis=axis, keepdims=True)
    m = switch(isinf(m), 0, m)
    res = log(tsum(exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return res
    if axis is None:
        return res.reshape(())
    axes = [a % x.ndim for a in np.atleast_1d(axis).tolist()]
    return res.dimshuffle([d for d in range(x.ndim) if d not in axes])


class Chi2SF(Op):
    """Survival function of the chi-squared distribution, ``1 - CDF(x; k)``, elementwise with
    broadcasting; float output (float32 for small inputs, as Theano's ``upgrade_to_float``)."""

    __props__ = ()

    def make_node(self, x: Any, k: Any) -> Apply:
        x, k = as_tensor_variable(x), as_tensor_variable(k)
        if x.dtype.startswith("complex") or k.dtype.startswith("complex"):
            raise TypeError(f"{self}: complex inputs are not supported ({x.dtype}, {k.dtype})")
        if x.ndim != k.ndim:
            raise TypeError(f"{self}: x ({x.ndim}-d) and k ({k.ndim}-d) must have the same rank; "
                            f"chi2sf() pads them")
        shape = [1 if bx and bk else None for bx, bk in zip(x.broadcastable, k.broadcastable)]
        return Apply(self, [x, k], [TensorType(_float_dtype(x.dtype, k.dtype), shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        special = require("scipy.special", "chi2sf")
        x, k = inputs
        out[0][0] = np.asarray(special.chdtrc(k, x), dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [_broadcast_dims(node.inputs[0], node.inputs[1], shapes[0], shapes[1])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [grad_not_implemented(self, 0, inputs[0]),
                grad_not_implemented(self, 1, inputs[1])]


def chi2sf(x: Any, k: Any) -> TensorVariable:
    """Chi-squared survival function ``P(X > x)`` for ``k`` degrees of freedom (needs SciPy
    at run time); ``x`` and ``k`` broadcast."""
    x, k = as_tensor_variable(x), as_tensor_variable(k)
    return Chi2SF()(*_same_rank(x, k))


class Choose(Op):
    """``numpy.choose(a, choices, mode)``: ``choices`` is one tensor whose first axis lists the
    choices; ``a`` (integers) and each choice broadcast together."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "raise") -> None:
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
        self.mode: ClipMode = typing.cast("ClipMode", mode)  # checked above

    def make_node(self, a: Any, choices: Any) -> Apply:
        a = as_tensor_variable(a)
        choices = as_tensor_variable(choices)
        if a.dtype not in _INTS and a.dtype != "bool":
            raise TypeError(f"choose: the index array {a} must have an integer dtype, got "
                            f"{a.dtype}")
        if choices.ndim < 1:
            raise TypeError(f"choose: choices {choices} needs a leading axis of choices")
        if a.ndim != choices.ndim - 1:
            raise TypeError(f"choose: the index array {a} ({a.ndim}-d) must have one dimension "
                            f"less than choices ({choices.ndim}-d); choose() pads them")
        shape = [1 if ba and bc else None
                 for ba, bc in zip(a.broadcastable, choices.broadcastable[1:])]
        return Apply(self, [a, choices], [TensorType(choices.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, choices = inputs
        out[0][0] = np.asarray(np.choose(a, choices, mode=self.mode), dtype=choices.dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        a = node.inputs[0]
        c = typing.cast("TensorVariable", node.inputs[1])  # the stacked choices
        return [_broadcast_dims(a, c[0], shapes[0], shapes[1][1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        a, choices = typing.cast("list[TensorVariable]", inputs)
        g = gz[0]
        n = choices.shape[0]
        idx = a
        if self.mode == "wrap":
            idx = a % n
        elif self.mode == "clip":
            idx = switch(a < 0, 0, switch(a >= n, n - 1, a))
        sel = eq(idx.dimshuffle(["x"] + list(range(a.ndim))),
                 arange(n).dimshuffle([0] + ["x"] * a.ndim))
        gc = cast(sel, g.dtype) * g.dimshuffle(["x"] + list(range(g.ndim)))
        axes = [d for d in range(1, choices.ndim)
                if choices.broadcastable[d] and not gc.broadcastable[d]]
        if axes:
            gc = tsum(gc, axis=axes, keepdims=True)
        return [grad_undefined_for(self, 0, a, "the index array is an integer"), gc]


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> TensorVariable:
    """Construct an array from an index array and choices (``numpy.choose``).

    ``choices``: a tensor whose first axis lists the choices, or a list/tuple of tensors of
    one shape (stacked).  ``out`` is accepted for NumPy's signature and must be ``None``.
    """
    if out is not None:
        raise ValueError("choose: out= is not supported (opcore returns a new tensor)")
    if isinstance(choices, (list, tuple)):
        choices = stack([as_tensor_variable(c) for c in choices])
    a, choices = as_tensor_variable(a), as_tensor_variable(choices)
    if choices.ndim < 1:
        raise TypeError(f"choose: choices {choices} needs a leading axis of choices")
    nd = max(a.ndim, choices.ndim - 1)
    a = a.dimshuffle(["x"] * (nd - a.ndim) + list(range(a.ndim)))
    pad = nd - (choices.ndim - 1)
    choices = choices.dimshuffle([0] + ["x"] * pad + list(range(1, choices.ndim)))
    return Choose(mode)(a, choices)


__all__ = ["Chi2SF", "Choose", "abs_", "chi2sf", "choose", "logsumexp"]
