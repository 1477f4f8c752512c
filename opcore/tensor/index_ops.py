"""Index arithmetic and diagonal filling: ``to_one_hot``, ``unravel_index``,
``ravel_multi_index``, ``fill_diagonal``, ``fill_diagonal_offset`` (part of Theano's
``extra_ops``; re-exported by :mod:`opcore.tensor.extra_ops`)."""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, Variable
from opcore.graph.null import grad_undefined_for
from opcore.graph.op import Op
from opcore.scalar.basic import upcast
from opcore.tensor.basic import as_tensor_variable, cast, get_scalar_constant_value, zeros_like
from opcore.tensor.basic import NotScalarConstantError
from opcore.tensor.math import minimum, switch
from opcore.tensor.math import sum as tsum
from opcore.tensor.shape import flatten
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import ClipMode, IndexOrder, InputShapes, OutputShapes

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _int_zeros(x: Any) -> Any:
    """The (zero) gradient of an integer input."""
    return zeros_like(x, dtype=config.floatX)


class ToOneHot(Op):
    """One-hot rows: ``out[i, y[i]] = 1`` for the integer vector ``y`` and ``nb_class`` columns.

    Output ``(len(y), nb_class)`` of ``dtype`` (default ``config.floatX``); an entry of ``y``
    outside ``[0, nb_class)`` raises ``IndexError`` at run time.
    """

    __props__ = ("dtype",)

    def __init__(self, dtype: str | None = None) -> None:
        self.dtype = dtype or config.floatX

    def make_node(self, y: Any, nb_class: Any) -> Apply:
        y = as_tensor_variable(y)
        nb_class = as_tensor_variable(nb_class)
        if y.ndim != 1 or y.dtype not in _INTS:
            raise TypeError(f"{self}: y must be an integer vector, got {y} ({y.type})")
        if nb_class.ndim != 0 or nb_class.dtype not in _INTS:
            raise TypeError(f"{self}: nb_class must be an integer scalar, got {nb_class}")
        try:
            nc = int(get_scalar_constant_value(nb_class))
        except NotScalarConstantError:
            nc = None
        return Apply(self, [y, nb_class], [TensorType(self.dtype, shape=(y.type.shape[0], nc))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        y, nc = inputs
        nc = int(nc)
        if y.size and (y.min() < 0 or y.max() >= nc):
            bad = y[(y < 0) | (y >= nc)][0]
            raise IndexError(f"{self}: class {bad} is out of range for nb_class={nc}")
        res = np.zeros((y.shape[0], nc), dtype=self.dtype)
        res[np.arange(y.shape[0]), y] = 1
        out[0][0] = res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(shapes[0][0], node.inputs[1].astype("int64"))]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [_int_zeros(inputs[0]), grad_undefined_for(self, 1, inputs[1], "integer")]


def to_one_hot(y: Any, nb_class: Any, dtype: str | None = None) -> TensorVariable:
    """One-hot encoding of the integer vector ``y``: a ``(len(y), nb_class)`` matrix.

    >>> import opcore.tensor as T, numpy as np
    >>> T.to_one_hot(T.as_tensor_variable(np.array([1, 0])), 3, dtype='int8').eval().tolist()
    [[0, 1, 0], [1, 0, 0]]
    """
    return ToOneHot(dtype)(y, nb_class)


class UnravelIndex(Op):
    """``numpy.unravel_index``: ``ndim`` int64 outputs shaped like ``indices``."""

    __props__ = ("ndim", "order")

    def __init__(self, ndim: int, order: str = "C") -> None:
        if order not in ("C", "F"):
            raise ValueError(f"UnravelIndex: order must be 'C' or 'F', got {order!r}")
        if not isinstance(ndim, (int, np.integer)) or ndim < 1:
            raise ValueError(f"UnravelIndex: ndim must be a positive int, got {ndim!r}")
        self.ndim = int(ndim)
        self.order: IndexOrder = typing.cast("IndexOrder", order)  # checked above

    def make_node(self, indices: Any, dims: Any) -> Apply:
        indices = as_tensor_variable(indices)
        dims = as_tensor_variable(dims)
        if indices.dtype not in _INTS:
            raise TypeError(f"{self}: indices {indices} must be integers, got {indices.dtype}")
        if dims.dtype not in _INTS or dims.ndim != 1:
            raise TypeError(f"{self}: dims {dims} must be an integer vector")
        return Apply(self, [indices, dims],
                     [TensorType("int64", shape=indices.type.shape)() for _ in range(self.ndim)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        indices, dims = inputs
        if len(dims) != self.ndim:
            raise ValueError(f"{self}: dims has {len(dims)} entries, the op was built for "
                             f"{self.ndim}")
        res = np.unravel_index(indices, tuple(int(d) for d in dims), order=self.order)
        for cell, r in zip(out, res):
            cell[0] = np.array(r, dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]] * len(node.outputs)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [_int_zeros(inputs[0]), _int_zeros(inputs[1])]


def unravel_index(indices: Any, dims: Any, order: str = "C", ndim: int | None = None) -> tuple:
    """Coordinates (a tuple of int64 tensors) of the flat ``indices`` in an array of shape
    ``dims``; ``ndim`` is needed only when ``len(dims)`` is not known statically."""
    if ndim is None and isinstance(dims, (list, tuple, np.ndarray)):
        ndim = len(dims)
    dims = as_tensor_variable(dims)
    if ndim is None:
        ndim = dims.type.shape[0] if dims.ndim == 1 else None
        if ndim is None:
            raise ValueError("unravel_index: the length of dims is not known; pass ndim=")
    res = UnravelIndex(ndim, order)(indices, dims)
    return tuple(res) if isinstance(res, list) else (res,)


class RavelMultiIndex(Op):
    """``numpy.ravel_multi_index``: inputs ``*multi_index, dims``; int64 output."""

    __props__ = ("mode", "order")

    def __init__(self, mode: str = "raise", order: str = "C") -> None:
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"RavelMultiIndex: mode must be raise, wrap or clip, got {mode!r}")
        if order not in ("C", "F"):
            raise ValueError(f"RavelMultiIndex: order must be 'C' or 'F', got {order!r}")
        self.mode: ClipMode = typing.cast("ClipMode", mode)  # checked above
        self.order: IndexOrder = typing.cast("IndexOrder", order)

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) < 2:
            raise TypeError(f"{self}: needs at least one index array and dims")
        ins = [as_tensor_variable(i) for i in inputs]
        for i in ins:
            if i.dtype not in _INTS:
                raise TypeError(f"{self}: {i} must have an integer dtype, got {i.dtype}")
        dims = ins[-1]
        if dims.ndim != 1:
            raise TypeError(f"{self}: dims {dims} must be a vector")
        return Apply(self, ins, [TensorType("int64", shape=ins[0].type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        *multi, dims = inputs
        out[0][0] = np.asarray(np.ravel_multi_index(tuple(multi), tuple(int(d) for d in dims),
                                                    mode=self.mode, order=self.order),
                               dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [_int_zeros(i) for i in inputs]


def ravel_multi_index(multi_index: Any, dims: Any, mode: str = "raise", order: str = "C"
                     ) -> TensorVariable:
    """Flat int64 indices of the coordinate arrays ``multi_index`` in an array of shape
    ``dims`` (``numpy.ravel_multi_index``)."""
    if not isinstance(multi_index, (tuple, list)):
        raise TypeError("ravel_multi_index: multi_index must be a tuple or list of arrays")
    return RavelMultiIndex(mode, order)(*multi_index, dims)


def _check_fill_value(op: Op, a: Any, val: Any) -> Any:
    if not isinstance(val, Variable) and np.ndim(val) == 0:
        # a Python or NumPy number: take it in the array's dtype when it is exactly representable
        # (fill_diagonal(int8_matrix, 1), fill_diagonal(float32_matrix, 0.5))
        conv = np.asarray(val).astype(a.dtype)
        if conv == np.asarray(val):
            return as_tensor_variable(conv)
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"{op}: the value {val} must be a scalar, got {val.ndim} dimension(s)")
    if upcast(a.dtype, val.dtype) != a.dtype:
        raise TypeError(f"{op}: the value's dtype {val.dtype} does not fit the array's "
                        f"{a.dtype} without upcasting it")
    return cast(val, a.dtype)


class FillDiagonal(Op):
    """A copy of ``a`` (at least 2-d) with its main diagonal set to the scalar ``val``."""

    __props__ = ()

    def make_node(self, a: Any, val: Any) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim < 2:
            raise TypeError(f"{self}: {a} must have at least 2 dimensions, got {a.ndim}")
        return Apply(self, [a, _check_fill_value(self, a, val)], [a.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a = inputs[0].copy()
        if a.ndim == 2:
            # rectangular matrices: the diagonal of length min(rows, cols), never wrapped
            a.flat[:a.shape[1] * a.shape[1]:a.shape[1] + 1] = inputs[1]
        else:
            np.fill_diagonal(a, inputs[1])
        out[0][0] = a

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        a, val = inputs
        g = gz[0]
        if a.ndim != 2:
            raise NotImplementedError(f"{self}: the gradient is implemented for matrices only")
        n = minimum(g.shape[0], g.shape[1])
        diag = flatten(g)[:n * g.shape[1]:g.shape[1] + 1]
        return [fill_diagonal(g, 0), tsum(diag)]


fill_diagonal_ = FillDiagonal()


def fill_diagonal(a: Any, val: Any) -> TensorVariable:
    """Copy of ``a`` with ``a[i, i, ..., i] = val`` (Theano's ``fill_diagonal``)."""
    return fill_diagonal_(a, val)


class FillDiagonalOffset(Op):
    """A copy of the matrix ``a`` with its ``offset`` diagonal set to ``val`` (never wrapped)."""

    __props__ = ()

    def make_node(self, a: Any, val: Any, offset: Any) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim != 2:
            raise TypeError(f"{self}: {a} must be a matrix, got {a.ndim} dimension(s)")
        offset = as_tensor_variable(offset)
        if offset.ndim != 0 or offset.dtype not in _INTS:
            raise TypeError(f"{self}: offset {offset} must be an integer scalar")
        return Apply(self, [a, _check_fill_value(self, a, val), offset], [a.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a = inputs[0].copy()
        val, offset = inputs[1], int(inputs[2])
        h, w = a.shape
        if offset >= 0:
            start, steps = offset, min(h, w - offset)
        else:
            start, steps = -offset * w, min(w, h + offset)
        if steps > 0:
            a.flat[start:start + (w + 1) * steps:w + 1] = val
        out[0][0] = a

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        a, val, offset = typing.cast("list[TensorVariable]", inputs)
        g = gz[0]
        h, w = g.shape[0], g.shape[1]
        pos = offset >= 0
        start = switch(pos, offset, -offset * w).astype("int64")
        steps = switch(pos, minimum(h, w - offset), minimum(w, h + offset)).astype("int64")
        steps = switch(steps > 0, steps, 0)
        diag = flatten(g)[start:start + (w + 1) * steps:w + 1]
        return [fill_diagonal_offset(g, 0, offset), tsum(diag),
                grad_undefined_for(self, 2, offset, "the offset is an integer")]


fill_diagonal_offset_ = FillDiagonalOffset()


def fill_diagonal_offset(a: Any, val: Any, offset: Any) -> TensorVariable:
    """Copy of the matrix ``a`` with the diagonal ``offset`` (> 0 above the main one) set to
    ``val`` (Theano's ``fill_diagonal_offset``; tall matrices are not wrapped)."""
    return fill_diagonal_offset_(a, val, offset)
