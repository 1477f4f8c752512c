"""Sorting: ``sort``, ``argsort``, ``topk``, ``argtopk`` (Theano's ``theano.tensor.sort``).

Differences from NumPy, as in Theano 1.0: ``argsort`` and ``argtopk`` return int64 (or
``idx_dtype``); ``axis=None`` sorts the flattened array; the axis may be a symbolic integer scalar (the
gradient then is not defined: it needs a constant axis).  ``topk(x, k)`` with ``k > 0`` gives the
``k`` largest entries along ``axis``, with ``k < 0`` the ``-k`` smallest.  Theano 1.0 refused
``sorted=True``; opcore implements it (largest first for ``k > 0``, smallest first for ``k < 0``)
and, with ``sorted=False``, returns them in an unspecified order as Theano does.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.null import grad_undefined_for
from opcore.graph.op import Op
from opcore.tensor.basic import arange, as_tensor_variable, zeros_like
from opcore.tensor.subtensor import set_subtensor
from opcore.tensor.type import TensorType
from opcore.tensor.hints import InputShapes, OutputShapes, SortKind

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorVariable

_KINDS = ("quicksort", "mergesort", "heapsort", "stable")
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def axis_grid_index(x: Any, idx: Any, axis: int) -> tuple:
    """Advanced-index tuple that picks ``idx`` (same rank as ``x``) along ``axis`` of ``x``
    and every position along the other axes (``numpy.take_along_axis`` as an index)."""
    nd = x.ndim
    return tuple(idx if d == axis else
                 arange(x.shape[d]).dimshuffle([0 if e == d else "x" for e in range(nd)])
                 for d in range(nd))


def _axis_input(op: Op, x: Any, axis: Any) -> Any:
    """The axis input of a sort op: an int64 constant in ``[0, x.ndim)``, or (as Theano allows)
    a symbolic integer scalar, checked at run time."""
    if axis is None or (isinstance(axis, Constant) and axis.data is None):
        raise ValueError(f"{op}: axis=None must be handled by flattening (use sort()/argsort())")
    if isinstance(axis, Constant):
        axis = axis.data
    if isinstance(axis, Variable):
        if axis.ndim != 0 or axis.dtype not in _INT_DTYPES:
            raise TypeError(f"{op}: axis must be an integer scalar, got {axis} ({axis.type})")
        return axis
    if not isinstance(axis, (int, np.integer, np.ndarray)) or np.ndim(axis) != 0:
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    a = int(axis)
    if not -x.ndim <= a < max(x.ndim, 1):
        raise ValueError(f"{op}: axis {a} is out of range for {x} with {x.ndim} dimension(s)")
    return as_tensor_variable(np.int64(a % max(x.ndim, 1)))


def _static_axis(op: Op, axis: Any) -> int:
    """The constant axis the gradient needs (a symbolic axis has none)."""
    if not isinstance(axis, Constant):
        raise NotImplementedError(f"{op}: the gradient needs a constant axis, got {axis}")
    return int(axis.data)


class SortOp(Op):
    """``numpy.sort`` along one axis; ``make_node(x, axis=-1)`` with a constant ``axis``.

    Output: same dtype and shape as ``x``.  Gradient: the output gradient scattered back to the
    positions the values came from.
    """

    __props__ = ("kind", "order")

    def __init__(self, kind: str = "quicksort", order: Any = None) -> None:
        if kind not in _KINDS:
            raise ValueError(f"SortOp: kind must be one of {_KINDS}, got {kind!r}")
        if order is not None:
            raise ValueError("SortOp: order= (structured arrays) is not supported")
        self.kind: SortKind = typing.cast("SortKind", kind)  # checked above
        self.order = order

    def make_node(self, x: Any, axis: Any = -1) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot sort the 0-d {x}; sort needs at least one axis")
        ax = _axis_input(self, x, axis)
        return Apply(self, [x, ax], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, axis = inputs
        out[0][0] = np.sort(x, axis=int(axis), kind=self.kind)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x, axis = inputs
        a = _static_axis(self, axis)
        idx = ArgSortOp(self.kind)(x, a)
        gx = set_subtensor(zeros_like(x, dtype=gz[0].dtype)[axis_grid_index(x, idx, a)], gz[0])
        return [gx, grad_undefined_for(self, 1, axis, "the axis is an integer")]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        a = _static_axis(self, inputs[1])
        idx = ArgSortOp(self.kind)(inputs[0], a)
        return [typing.cast("TensorVariable", eval_points[0])[axis_grid_index(inputs[0], idx, a)]]


class ArgSortOp(Op):
    """``numpy.argsort`` along one axis; int64 output shaped like ``x`` (no gradient: integer)."""

    __props__ = ("kind", "order")

    def __init__(self, kind: str = "quicksort", order: Any = None) -> None:
        if kind not in _KINDS:
            raise ValueError(f"ArgSortOp: kind must be one of {_KINDS}, got {kind!r}")
        if order is not None:
            raise ValueError("ArgSortOp: order= (structured arrays) is not supported")
        self.kind: SortKind = typing.cast("SortKind", kind)  # checked above
        self.order = order

    def make_node(self, x: Any, axis: Any = -1) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot argsort the 0-d {x}")
        ax = _axis_input(self, x, axis)
        return Apply(self, [x, ax], [TensorType("int64", shape=x.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, axis = inputs
        out[0][0] = np.argsort(x, axis=int(axis), kind=self.kind).astype("int64", copy=False)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [zeros_like(inputs[0], dtype=inputs[0].dtype if inputs[0].dtype.startswith("float")
                           else "float64"),
                grad_undefined_for(self, 1, inputs[1], "the axis is an integer")]


def sort(a: Any, axis: int | None = -1, kind: str = "quicksort", order: Any = None
        ) -> TensorVariable:
    """Sorted copy of ``a`` along ``axis`` (``None``: the flattened array), as ``numpy.sort``.

    >>> import opcore.tensor as T, numpy as np
    >>> T.sort(T.as_tensor_variable(np.array([3., 1., 2.]))).eval().tolist()
    [1.0, 2.0, 3.0]
    """
    a = as_tensor_variable(a)
    if axis is None:
        a, axis = a.flatten(), 0
    return SortOp(kind, order)(a, axis)


def argsort(a: Any, axis: int | None = -1, kind: str = "quicksort", order: Any = None
           ) -> TensorVariable:
    """Indices (int64) that sort ``a`` along ``axis`` (``None``: the flattened array)."""
    a = as_tensor_variable(a)
    if axis is None:
        a, axis = a.flatten(), 0
    return ArgSortOp(kind, order)(a, axis)


class TopKOp(Op):
    """The ``|k|`` largest (``k > 0``) or smallest (``k < 0``) entries along ``axis``.

    Outputs (those asked for, in this order): values (dtype of ``x``), indices (``idx_dtype``),
    shaped like ``x`` with ``|k|`` along ``axis``.  ``k`` is a symbolic integer scalar; ``k == 0``
    or ``|k|`` larger than the axis raises ``ValueError`` at run time.
    """

    __props__ = ("axis", "sorted", "return_values", "return_indices", "idx_dtype")

    def __init__(self, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64",
                 return_values: bool = True, return_indices: bool = True) -> None:
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"TopKOp: axis must be an int, got {type(axis).__name__}")
        if idx_dtype not in _INT_DTYPES:
            raise TypeError(f"TopKOp: idx_dtype must be an integer dtype, got {idx_dtype!r}")
        if not (return_values or return_indices):
            raise ValueError("TopKOp: return_values and return_indices cannot both be False")
        self.axis = int(axis)
        self.sorted = bool(sorted)
        self.idx_dtype = idx_dtype
        self.return_values = bool(return_values)
        self.return_indices = bool(return_indices)

    def make_node(self, x: Any, kth: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot take the top k of the 0-d {x}")
        if not -x.ndim <= self.axis < x.ndim:
            raise IndexError(f"{self}: axis {self.axis} is out of range for {x} "
                             f"({x.ndim} dimensions)")
        kth = as_tensor_variable(kth)
        if kth.ndim != 0 or kth.dtype not in _INT_DTYPES:
            raise TypeError(f"{self}: kth must be an integer scalar, got {kth} ({kth.type})")
        shape = list(x.type.shape)
        shape[self.axis % x.ndim] = None
        outs = []
        if self.return_values:
            outs.append(TensorType(x.dtype, shape=shape)())
        if self.return_indices:
            outs.append(TensorType(self.idx_dtype, shape=shape)())
        return Apply(self, [x, kth], outs)

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, k = inputs
        k = int(k)
        axis = self.axis % x.ndim
        n = x.shape[axis]
        if k == 0:
            raise ValueError(f"{self}: kth cannot be 0")
        if abs(k) > n:
            raise ValueError(f"{self}: |kth| = {abs(k)} is larger than the length {n} of axis "
                             f"{axis} (shape {x.shape})")
        if k > 0:
            part = np.argpartition(x, n - k, axis=axis) if k < n else np.argsort(x, axis=axis)
            idx = np.take(part, np.arange(n - k, n), axis=axis)
        else:
            part = np.argpartition(x, -k - 1, axis=axis) if -k < n else np.argsort(x, axis=axis)
            idx = np.take(part, np.arange(0, -k), axis=axis)
        vals = np.take_along_axis(x, idx, axis=axis)
        if self.sorted:
            order = np.argsort(vals, axis=axis, kind="stable")
            if k > 0:
                order = np.flip(order, axis=axis)
            idx = np.take_along_axis(idx, order, axis=axis)
            vals = np.take_along_axis(x, idx, axis=axis)
        pos = 0
        if self.return_values:
            out[0][0] = vals
            pos = 1
        if self.return_indices:
            out[pos][0] = idx.astype(self.idx_dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        x, k = node.inputs
        shp = list(shapes[0])
        shp[self.axis % x.ndim] = abs(k).astype("int64")
        return [tuple(shp)] * len(node.outputs)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x, k = inputs
        kg = grad_undefined_for(self, 1, k, "k is an integer")
        if not self.return_values:
            return [zeros_like(x, dtype=x.dtype if x.dtype.startswith("float") else "float64"), kg]
        if not self.return_indices:
            idx = TopKOp(self.axis, self.sorted, self.idx_dtype, False, True)(x, k)
        else:
            idx = outputs[-1]
        g = gz[0]
        gx = set_subtensor(zeros_like(x, dtype=g.dtype)[axis_grid_index(x, idx, self.axis % x.ndim)],
                           g)
        return [gx, kg]


def _topk(x: Any, kth: Any, axis: int | None, sorted: bool, idx_dtype: str, values: bool,
          indices: bool):
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = x.flatten(), 0
    return TopKOp(axis, sorted, idx_dtype, values, indices)(x, kth)


def topk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"
        ) -> TensorVariable:
    """The ``kth`` largest entries of ``x`` along ``axis`` (``kth < 0``: the ``-kth`` smallest).

    >>> import opcore.tensor as T, numpy as np
    >>> T.topk(T.as_tensor_variable(np.array([3., 1., 5., 2.])), 2).eval().tolist()
    [5.0, 3.0]
    """
    return _topk(x, kth, axis, sorted, idx_dtype, True, False)


def argtopk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True,
            idx_dtype: str = "int64") -> TensorVariable:
    """Indices (``idx_dtype``) of the entries :func:`topk` returns."""
    return _topk(x, kth, axis, sorted, idx_dtype, False, True)


def topk_and_argtopk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True,
                     idx_dtype: str = "int64") -> tuple[TensorVariable, ...]:
    """``(topk(...), argtopk(...))`` computed by one op."""
    return tuple(_topk(x, kth, axis, sorted, idx_dtype, True, True))


__all__ = ["ArgSortOp", "SortOp", "TopKOp", "argsort", "argtopk", "sort", "topk",
           "topk_and_argtopk"]
