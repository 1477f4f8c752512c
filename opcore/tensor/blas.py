"""BLAS-shaped products: Gemm (``b*z + a*dot(x, y)``), Gemv (matrix-vector) and Ger (rank one).

The reference ``perform`` of each uses NumPy only (``numpy.dot`` / ``numpy.outer``, which call
NumPy's BLAS for float32/float64); a backend may register a faster implementation (the C
backend's, or the SciPy BLAS routines the ``cpu_c`` plugin gives the ``py`` backend).  Only
``Gemm(inplace=True)`` destroys an input (its ``z``); the others return a new array.  As in BLAS, ``b == 0`` ignores ``z`` (NaN
included).  The rewrites in ``opcore.tensor.rewriting.blas`` introduce them.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.op import Op
from opcore.scalar.basic import upcast
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.math import dot, outer, sum as tsum
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorConstant, TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes, TensorLike


def _combine(b, z, a, product, dt):
    """``b * z + a * product`` in ``dt``; ``b == 0`` ignores ``z`` (BLAS's rule, NaN included)."""
    res = a * product
    if b != 0:
        res = res + b * z
    return np.asarray(res, dtype=dt)


def _scalar(v: TensorLike, what: str, op: str) -> TensorVariable | TensorConstant:
    v = as_tensor_variable(v)
    if v.ndim != 0:
        raise TypeError(f"{op}: {what} must be a scalar, got {v} ({v.type})")
    return v


def _check(op: str, var: Variable, ndim: int, what: str) -> None:
    if var.ndim != ndim:
        raise TypeError(f"{op}: {what} must be {ndim}-d, got {var} ({var.type})")


class Gemm(Op):
    """``Gemm()(z, a, x, y, b)`` = ``b * z + a * dot(x, y)`` for matrices z, x, y.

    ``Gemm(inplace=True)`` (Theano's ``gemm_inplace``) may write the result into ``z``'s buffer
    (``destroy_map = {0: [0]}``): a backend with BLAS lets ``?gemm`` scale and accumulate
    there, with no new array and no separate pass.  The ``gemm_inplace`` rewrite makes it when
    nothing reads ``z`` afterwards (an SGD step ``W - lr * dot(x.T, g)`` whose ``W`` the
    function's update replaces).  When ``z`` overlaps ``x`` or ``y`` the result is a new array.
    """

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self) -> str:
        return "Gemm{inplace}" if self.inplace else "Gemm"

    def make_node(self, z: TensorLike, a: TensorLike, x: TensorLike, y: TensorLike,
                  b: TensorLike) -> Apply:
        z, x, y = (as_tensor_variable(v) for v in (z, x, y))
        a, b = _scalar(a, "a", "Gemm"), _scalar(b, "b", "Gemm")
        for v, what in ((z, "z"), (x, "x"), (y, "y")):
            _check("Gemm", v, 2, what)
        dt = upcast(z.dtype, x.dtype, y.dtype)
        if dt != z.dtype:
            raise TypeError(f"Gemm: z ({z.type}) must have the result dtype {dt}")
        return Apply(self, [z, a, x, y, b], [TensorType(z.dtype, shape=z.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        z, a, x, y, b = inputs
        if x.shape[1] != y.shape[0] or z.shape != (x.shape[0], y.shape[1]):
            raise ValueError(f"Gemm: shapes z{z.shape}, x{x.shape}, y{y.shape} do not match")
        dt = node.outputs[0].type.numpy_dtype
        x, y = x.astype(dt, copy=False), y.astype(dt, copy=False)
        res = _combine(b, z, a, np.dot(x, y), dt)
        if self.inplace and z.flags.writeable and z.dtype == dt:
            z[...] = res  # x and y were read before z is written: overlap is harmless
            res = z
        out[0][0] = res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        z, a, x, y, b = typing.cast("list[TensorVariable]", inputs)
        (g,) = typing.cast("list[TensorVariable]", gz)
        return [g * b, tsum(g * dot(x, y)), a * dot(g, y.T), a * dot(x.T, g), tsum(g * z)]


class Gemv(Op):
    """``Gemv()(y, a, A, x, b)`` = ``b * y + a * dot(A, x)`` for a matrix A, vectors x, y."""

    __props__ = ()

    def make_node(self, y: TensorLike, a: TensorLike, A: TensorLike, x: TensorLike,
                  b: TensorLike) -> Apply:
        y, A, x = (as_tensor_variable(v) for v in (y, A, x))
        a, b = _scalar(a, "a", "Gemv"), _scalar(b, "b", "Gemv")
        _check("Gemv", y, 1, "y")
        _check("Gemv", A, 2, "A")
        _check("Gemv", x, 1, "x")
        dt = upcast(y.dtype, A.dtype, x.dtype)
        if dt != y.dtype:
            raise TypeError(f"Gemv: y ({y.type}) must have the result dtype {dt}")
        return Apply(self, [y, a, A, x, b], [TensorType(y.dtype, shape=y.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        y, a, A, x, b = inputs
        if A.shape[1] != x.shape[0] or y.shape != (A.shape[0],):
            raise ValueError(f"Gemv: shapes y{y.shape}, A{A.shape}, x{x.shape} do not match")
        dt = node.outputs[0].type.numpy_dtype
        A, x = A.astype(dt, copy=False), x.astype(dt, copy=False)
        out[0][0] = _combine(b, y, a, np.dot(A, x), dt)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        y, a, A, x, b = typing.cast("list[TensorVariable]", inputs)
        (g,) = typing.cast("list[TensorVariable]", gz)
        return [g * b, tsum(g * dot(A, x)), a * outer(g, x), a * dot(A.T, g), tsum(g * y)]


class Ger(Op):
    """``Ger()(A, a, x, y)`` = ``A + a * outer(x, y)``."""

    __props__ = ()

    def make_node(self, A: TensorLike, a: TensorLike, x: TensorLike, y: TensorLike) -> Apply:
        A, x, y = (as_tensor_variable(v) for v in (A, x, y))
        a = _scalar(a, "a", "Ger")
        _check("Ger", A, 2, "A")
        _check("Ger", x, 1, "x")
        _check("Ger", y, 1, "y")
        dt = upcast(A.dtype, x.dtype, y.dtype)
        if dt != A.dtype:
            raise TypeError(f"Ger: A ({A.type}) must have the result dtype {dt}")
        return Apply(self, [A, a, x, y], [TensorType(A.dtype, shape=A.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        A, a, x, y = inputs
        if A.shape != (x.shape[0], y.shape[0]):
            raise ValueError(f"Ger: shapes A{A.shape}, x{x.shape}, y{y.shape} do not match")
        dt = node.outputs[0].type.numpy_dtype
        x, y = x.astype(dt, copy=False), y.astype(dt, copy=False)
        out[0][0] = _combine(1, A, a, np.outer(x, y), dt)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        A, a, x, y = inputs
        (g,) = gz
        return [g, tsum(g * outer(x, y)), a * dot(g, y), a * dot(g.T, x)]


gemm = Gemm()
gemm_inplace = Gemm(inplace=True)
gemv = Gemv()
ger = Ger()
