"""Softmax, log-softmax and their gradients (stable: the row maximum is subtracted first).

Each op has ``perform`` (NumPy), ``infer_shape``, gradients and the Theano C protocol
(``c_code``...), which the ``cpu_c`` backend compiles when it is installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet import ccode

__all__ = ["Softmax", "SoftmaxGrad", "LogSoftmax", "SoftmaxWithBias", "softmax", "log_softmax",
           "logsoftmax", "softmax_with_bias", "softmax_grad", "softmax_op", "log_softmax_op"]

_FLOATS = ("float16", "float32", "float64")


def _float_input(op: Any, x: Any, what: str = "x") -> Any:
    x = as_tensor_variable(x)
    if x.dtype not in _FLOATS:
        x = T.cast(x, "float64")
    return x


def _np_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _np_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


class _AxisOp(Op):
    """An op over one axis of a tensor (``axis=-1``: Theano's row-wise softmax)."""

    __props__ = ("axis",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def _check(self, x: Any) -> None:
        if x.ndim < 1 or not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} ({x.ndim}-d)")

    def make_node(self, x: Any) -> Apply:
        """One float input, one output of the same type (SoftmaxGrad overrides this)."""
        x = _float_input(self, x)
        self._check(x)
        return Apply(self, [x], [x.type()])

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def c_supports(self, node: Any) -> bool:
        """C only for the common case: 2-d float32/float64 rows."""
        x = node.inputs[0]
        return x.ndim == 2 and self.axis in (1, -1) and x.dtype in ("float32", "float64")

    def c_headers(self, *args: Any) -> list[str]:
        return list(ccode.HEADERS)  # oc_alloc: the documented helpers of opcore.cbuild

    def c_code_cache_version(self) -> tuple:
        return (1,)


class Softmax(_AxisOp):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        (x,) = inputs
        out[0][0] = _np_softmax(x, self.axis).astype(x.dtype, copy=False)

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        return [SoftmaxGrad(self.axis)(grads[0], outputs[0])]

    def R_op(self, inputs: list, eval_points: list) -> list:
        if eval_points[0] is None:
            return [None]
        sm = self(inputs[0])
        return [SoftmaxGrad(self.axis)(eval_points[0], sm)]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.softmax_c(inames[0], onames[0], node.inputs[0].dtype, sub["fail"], log=False)


class LogSoftmax(_AxisOp):
    """``x - max - log(sum(exp(x - max)))`` along ``axis``: finite for any finite ``x``."""

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        (x,) = inputs
        out[0][0] = _np_log_softmax(x, self.axis).astype(x.dtype, copy=False)

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        (g,) = grads
        sm = T.exp(outputs[0])
        return [g - sm * T.sum(g, axis=self.axis, keepdims=True)]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.softmax_c(inames[0], onames[0], node.inputs[0].dtype, sub["fail"], log=True)


class SoftmaxGrad(_AxisOp):
    """The gradient of softmax: ``(dy - sum(dy * sm)) * sm`` along ``axis``; inputs (dy, sm)."""

    def make_node(self, dy: Any, sm: Any) -> Apply:
        dy, sm = as_tensor_variable(dy), as_tensor_variable(sm)
        if dy.ndim != sm.ndim:
            raise ValueError(f"{self}: dy ({dy.type}) and sm ({sm.type}) differ in rank")
        self._check(sm)
        dt = T.TensorType(np.result_type(dy.dtype, sm.dtype).name, shape=sm.type.shape)
        return Apply(self, [dy, sm], [dt()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        dy, sm = inputs
        if dy.shape != sm.shape:
            raise ValueError(f"{self}: dy has shape {dy.shape}, sm has shape {sm.shape}")
        dx = dy * sm
        dx -= sm * dx.sum(axis=self.axis, keepdims=True)
        out[0][0] = dx.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[1]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        dy, sm = inputs
        (g,) = grads
        a = self.axis
        gsm = T.sum(g * sm, axis=a, keepdims=True)
        s = T.sum(dy * sm, axis=a, keepdims=True)
        g_dy = sm * (g - gsm)
        g_sm = g * (dy - s) - dy * gsm
        return [g_dy, g_sm]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.softmax_grad_c(inames[0], inames[1], onames[0], node.outputs[0].dtype,
                                    sub["fail"])

    def c_supports(self, node: Any) -> bool:
        dts = {v.dtype for v in node.inputs + node.outputs}
        return super().c_supports(node) and len(dts) == 1


class SoftmaxWithBias(Op):
    """``softmax(x + b)`` for a matrix ``x`` and a vector ``b`` (Theano's fused op)."""

    __props__ = ()

    def make_node(self, x: Any, b: Any) -> Apply:
        x, b = _float_input(self, x), _float_input(self, b, "b")
        if x.ndim != 2 or b.ndim != 1:
            raise ValueError(f"SoftmaxWithBias: x must be a matrix and b a vector, got {x.type} "
                             f"and {b.type}")
        dt = np.result_type(x.dtype, b.dtype).name
        return Apply(self, [x, b], [T.TensorType(dt, shape=x.type.shape)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, b = inputs
        if x.shape[1] != b.shape[0]:
            raise ValueError(f"SoftmaxWithBias: x has {x.shape[1]} columns but b has "
                             f"{b.shape[0]} entries")
        out[0][0] = _np_softmax(x + b, 1).astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, b = inputs
        dx = SoftmaxGrad(-1)(grads[0], outputs[0])
        return [T.cast(dx, x.dtype), T.cast(T.sum(dx, axis=0), b.dtype)]

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


softmax_op = Softmax(-1)
log_softmax_op = LogSoftmax(-1)
softmax_with_bias = SoftmaxWithBias()


def _as_rows(c: Any, axis: int) -> Any:
    """Theano 1.0 treats a vector as one row: ``(n,)`` becomes ``(1, n)`` (the result is 2-d)."""
    c = as_tensor_variable(c)
    if c.ndim == 1 and axis in (-1, 0):
        c = c.dimshuffle("x", 0)
    return c


def softmax(c: Any, axis: int = -1) -> Any:
    """Row-wise softmax: ``exp(c - max) / sum(exp(c - max))`` along ``axis`` (default the last).

    As in Theano 1.0, a vector is treated as one row: ``softmax(vector)`` returns a ``(1, n)``
    matrix (PyTensor returns a vector).  Integer inputs are cast to float64.
    """
    c = _as_rows(c, axis)
    return Softmax(axis)(c)


def log_softmax(c: Any, axis: int = -1) -> Any:
    """``log(softmax(c))`` computed without overflow or ``log(0)``; a vector gives a ``(1, n)``
    row, as :func:`softmax` does."""
    c = _as_rows(c, axis)
    return LogSoftmax(axis)(c)


logsoftmax = log_softmax


def softmax_grad(dy: Any, sm: Any, axis: int = -1) -> Any:
    """The softmax gradient op applied to (dy, sm)."""
    return SoftmaxGrad(axis)(dy, sm)
