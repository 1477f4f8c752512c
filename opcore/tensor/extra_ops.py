"""NumPy's array utilities as ops: Theano's ``theano.tensor.extra_ops``.

``cumsum``/``cumprod`` (``axis=None``: the flattened array, as NumPy), ``diff``, ``bincount``,
``repeat``, ``squeeze``, ``compress``, ``searchsorted``, ``unique``, ``bartlett``,
``broadcast_shape``, ``cpu_contiguous``; and, from :mod:`opcore.tensor.index_ops`,
``fill_diagonal``, ``fill_diagonal_offset``, ``to_one_hot``, ``unravel_index``,
``ravel_multi_index``.

Where Theano 1.0 and NumPy differ, opcore follows Theano: ``squeeze(x)`` drops the dimensions the
*type* declares broadcastable (not those that happen to be 1 at run time); ``bincount`` returns
the dtype of ``x`` (or of ``weights``), not int64/float64; ``unique(..., return_inverse=True)``
gives a 1-d inverse for ``axis=None`` whatever the input rank; index outputs are int64.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, overload

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type, grad_undefined_for
from opcore.graph.op import Op
from opcore.tensor.basic import (NotScalarConstantError, SpecifyShape, arange,
                                 as_tensor_variable, cast, get_scalar_constant_value, zeros,
                                 zeros_like)
from opcore.tensor.index_ops import (FillDiagonal, FillDiagonalOffset, RavelMultiIndex,  # noqa: F401
                                     ToOneHot, UnravelIndex, fill_diagonal, fill_diagonal_,
                                     fill_diagonal_offset, fill_diagonal_offset_,
                                     ravel_multi_index, to_one_hot, unravel_index)
from opcore.tensor.math import maximum, neq, prod
from opcore.tensor.math import sum as tsum
from opcore.tensor.shape import concatenate, flatten
from opcore.tensor.subtensor import inc_subtensor, take
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorConstant, TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes, SearchSide

INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@overload
def _check_axis(op: Any, x: Any, axis: int) -> int: ...
@overload
def _check_axis(op: Any, x: Any, axis: None) -> None: ...
def _check_axis(op: Any, x: Any, axis: int | None) -> int | None:
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of bounds for {x} with {x.ndim} dimension(s)")
    return int(axis) % max(x.ndim, 1)


def _reverse(x: Any, axis: int) -> Any:
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(None, None, -1)
    return x[tuple(idx)]


class CpuContiguous(Op):
    """Identity that returns a C-contiguous array (a copy only when the input is not one)."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.ascontiguousarray(inputs[0])

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return gz

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return eval_points


cpu_contiguous = CpuContiguous()


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along ``axis``.

    ``axis=None`` works on the flattened array and returns a vector.  Output dtype: that of ``x``
    (Theano's rule; NumPy would widen small integers), int64 for booleans (NumPy's count).
    """

    __props__: tuple[str, ...] = ("axis", "mode")

    def __init__(self, axis: int | None = None, mode: str = "add") -> None:
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis = axis
        self.mode = mode

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        # Theano keeps the input dtype; booleans count as NumPy does (int64), not as logical or
        dt = "int64" if x.dtype == "bool" else x.dtype
        if self.axis is None:
            return Apply(self, [x], [TensorType(dt, shape=(None,))()])
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of bounds for {x} "
                             f"({x.ndim} dimension(s))")
        return Apply(self, [x], [TensorType(dt, shape=x.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        fn = np.cumsum if self.mode == "add" else np.cumprod
        out[0][0] = fn(inputs[0], axis=self.axis, dtype=node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        if self.axis is None:
            return [(prod(as_tensor_variable(list(shapes[0]) or [1]).astype("int64")),)]
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        (x,), (g,) = inputs, gz
        fx = typing.cast("TensorVariable", outputs[0])  # the cumulative sum or product
        if self.axis is None:
            flat_x = flatten(x)
            if self.mode == "add":
                return [_reverse(cumsum(_reverse(g, 0), 0), 0).reshape(x.shape)]
            return [(_reverse(cumsum(_reverse(fx * g, 0), 0), 0) / flat_x).reshape(x.shape)]
        axis = self.axis % x.ndim
        if self.mode == "add":
            return [_reverse(cumsum(_reverse(g, axis), axis), axis)]
        # Theano's formula: exact where x has no zeros (the gradient divides by x)
        return [_reverse(cumsum(_reverse(fx * g, axis), axis), axis) / x]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        if self.mode == "add":
            return [CumOp(self.axis, "add")(eval_points[0])]
        raise NotImplementedError(f"{self}: no R_op for cumprod")


class CumsumOp(CumOp):
    """Theano's name for ``CumOp(axis, 'add')``."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None) -> None:
        super().__init__(axis, "add")


class CumprodOp(CumOp):
    """Theano's name for ``CumOp(axis, 'mul')``."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None) -> None:
        super().__init__(axis, "mul")


def cumsum(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative sum along ``axis`` (``None``: of the flattened array), dtype of ``x``.

    >>> import opcore.tensor as T, numpy as np
    >>> T.cumsum(T.as_tensor_variable(np.array([1., 2., 3.]))).eval().tolist()
    [1.0, 3.0, 6.0]
    """
    return CumOp(axis=axis, mode="add")(x)


def cumprod(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative product along ``axis`` (``None``: of the flattened array), dtype of ``x``."""
    return CumOp(axis=axis, mode="mul")(x)


def diff(x: Any, n: int = 1, axis: int = -1) -> TensorVariable:
    """``n``-th discrete difference along ``axis`` (``numpy.diff``), built from slices so it has
    gradients and shapes for free.  Raises ``ValueError`` for a 0-d input or a negative ``n``."""
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError(f"diff: {x} is 0-d; diff needs at least one dimension")
    if int(n) != n or n < 0:
        raise ValueError(f"diff: order n must be a non-negative int, got {n!r}")
    axis = _check_axis("diff", x, axis)
    lo = [slice(None)] * x.ndim
    hi = [slice(None)] * x.ndim
    lo[axis] = slice(None, -1)
    hi[axis] = slice(1, None)
    for _ in range(int(n)):
        # booleans: NumPy's diff is not_equal
        x = neq(x[tuple(hi)], x[tuple(lo)]) if x.dtype == "bool" else x[tuple(hi)] - x[tuple(lo)]
    return x


def bincount(x: Any, weights: Any = None, minlength: Any = None, assert_nonneg: bool = False
            ) -> TensorVariable:
    """Occurrences of each value of the non-negative integer vector ``x`` (``numpy.bincount``).

    Output dtype: that of ``x``, or of ``weights`` when given (Theano's rule).  A negative value
    raises ``ValueError`` at run time (always checked; ``assert_nonneg`` is accepted for Theano).
    """
    x = as_tensor_variable(x)
    if x.ndim != 1:
        raise TypeError(f"bincount: {x} must be a vector, got {x.ndim} dimension(s)")
    if x.dtype not in INT_DTYPES:
        raise TypeError(f"bincount: {x} must have an integer dtype, got {x.dtype}")
    x = CheckNonNegative("bincount")(x)
    # max(x) + 1 bins; an empty x has none (a -1 sentinel keeps max defined)
    n = cast(concatenate([cast(x, "int64"), as_tensor_variable(np.array([-1], "int64"))]).max(),
             "int64") + 1
    if minlength is not None:
        n = maximum(n, cast(as_tensor_variable(minlength), "int64"))
    if weights is None:
        return inc_subtensor(zeros([n], dtype=x.dtype)[x], np.ones((), dtype=x.dtype))
    weights = as_tensor_variable(weights)
    if weights.ndim != 1:
        raise TypeError(f"bincount: weights {weights} must be a vector like x")
    return inc_subtensor(zeros([n], dtype=weights.dtype)[x], weights)


class CheckNonNegative(Op):
    """Identity on an integer tensor that raises ``ValueError`` on a negative entry."""

    __props__ = ("who",)
    view_map = {0: [0]}

    def __init__(self, who: str) -> None:
        self.who = who

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x = inputs[0]
        if x.size and x.min() < 0:
            raise ValueError(f"{self.who}: the input has negative values (min {x.min()})")
        out[0][0] = x

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return gz


def squeeze(x: Any, axis: Any = None) -> TensorVariable:
    """Drop the broadcastable dimensions of ``x`` (Theano: the type's, not run-time 1s), or
    the listed ``axis`` (which must have length 1 at run time)."""
    x = as_tensor_variable(x)
    if axis is None:
        return x.dimshuffle([d for d in range(x.ndim) if not x.broadcastable[d]])
    axes = [_check_axis("squeeze", x, int(a)) for a in np.atleast_1d(axis).tolist()]
    if any(not x.broadcastable[a] for a in axes):
        # not known to be 1: check it at run time
        shape = list(x.type.shape)
        for a in axes:
            shape[a] = 1
        x = SpecifyShape(shape)(x)
    return x.dimshuffle([d for d in range(x.ndim) if d not in axes])


def compress(condition: Any, x: Any, axis: int | None = None) -> TensorVariable | TensorConstant:
    """Slices of ``x`` along ``axis`` where the 1-d ``condition`` is non-zero (``numpy.compress``;
    ``axis=None``: of the flattened array)."""
    condition = as_tensor_variable(condition)
    if condition.ndim != 1:
        raise TypeError(f"compress: condition {condition} must be 1-d, got {condition.ndim}-d")
    x = as_tensor_variable(x)
    idx = condition.nonzero()[0]
    return take(x, idx, axis=axis)


class RepeatOp(Op):
    """``numpy.repeat(x, repeats, axis)``; ``repeats`` an integer scalar or vector.

    ``axis=None`` repeats the flattened array.  Gradient w.r.t. ``x``: the output gradient summed
    back over the copies (scalar and vector ``repeats``).
    """

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None) -> None:
        self.axis = axis

    def make_node(self, x: Any, repeats: Any) -> Apply:
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.dtype not in INT_DTYPES:
            raise TypeError(f"{self}: repeats {repeats} must have an integer dtype, got "
                            f"{repeats.dtype}")
        if repeats.dtype == "uint64":
            raise TypeError(f"{self}: repeats of dtype uint64 are not supported by numpy.repeat")
        if repeats.ndim > 1:
            raise ValueError(f"{self}: repeats must be a scalar or a vector, got "
                             f"{repeats.ndim} dimensions")
        if self.axis is None:
            shape: list = [None]
        else:
            if not -x.ndim <= self.axis < x.ndim:
                raise ValueError(f"{self}: axis {self.axis} is out of bounds for {x} "
                                 f"({x.ndim} dimension(s))")
            shape = list(x.type.shape)
            try:
                one = repeats.ndim == 0 and get_scalar_constant_value(repeats) == 1
            except NotScalarConstantError:
                one = False
            if not one:
                shape[self.axis % x.ndim] = None
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, repeats = inputs
        out[0][0] = np.repeat(x, repeats, axis=self.axis)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        xs = list(shapes[0])
        r = node.inputs[1]
        total = r.astype("int64") if r.ndim == 0 else tsum(r, dtype="int64")
        if self.axis is None:
            size = prod(as_tensor_variable(xs or [1]).astype("int64"))
            return [(size * total if r.ndim == 0 else total,)]
        a = self.axis % len(xs)
        xs[a] = xs[a] * total if r.ndim == 0 else total
        return [tuple(xs)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x, repeats = inputs
        g = gz[0]
        if self.axis is None:
            src = arange(prod(x.shape))
            idx = RepeatOp(None)(src, repeats)
            gx = inc_subtensor(zeros_like(flatten(x), dtype=g.dtype)[idx], g).reshape(x.shape)
            return [gx, disconnected_type()]
        a = self.axis % x.ndim
        idx = RepeatOp(0)(arange(x.shape[a]), repeats)
        order = [a] + [d for d in range(x.ndim) if d != a]
        back = [order.index(d) for d in range(x.ndim)]
        gt = g.dimshuffle(order)
        gx = inc_subtensor(zeros_like(x.dimshuffle(order), dtype=g.dtype)[idx], gt)
        return [gx.dimshuffle(back), disconnected_type()]


def repeat(x: Any, repeats: Any, axis: int | None = None) -> TensorVariable:
    """Repeat the elements of ``x`` (``numpy.repeat``); ``axis=None`` flattens first.

    >>> import opcore.tensor as T, numpy as np
    >>> T.repeat(T.as_tensor_variable(np.array([1, 2])), 2).eval().tolist()
    [1, 1, 2, 2]
    """
    x = as_tensor_variable(x)
    repeats = as_tensor_variable(repeats)
    if repeats.ndim > 1:
        raise ValueError(f"repeat: repeats {repeats} must be a scalar or a vector")
    if axis is not None:
        axis = _check_axis("repeat", x, axis)
    return RepeatOp(axis)(x, repeats)


class SearchsortedOp(Op):
    """``numpy.searchsorted(x, v, side, sorter)``: int64 insertion indices shaped like ``v``."""

    __props__ = ("side",)

    def __init__(self, side: str = "left") -> None:
        if side not in ("left", "right"):
            raise ValueError(f"SearchsortedOp: side must be 'left' or 'right', got {side!r}")
        self.side: SearchSide = typing.cast("SearchSide", side)  # checked above

    def make_node(self, x: Any, v: Any, sorter: Any = None) -> Apply:
        x = as_tensor_variable(x)
        v = as_tensor_variable(v)
        if x.ndim != 1:
            raise TypeError(f"{self}: the sorted array {x} must be a vector, got {x.ndim}-d")
        ins = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.ndim != 1 or sorter.dtype not in INT_DTYPES:
                raise TypeError(f"{self}: sorter {sorter} must be an integer vector")
            ins.append(sorter)
        return Apply(self, ins, [TensorType("int64", shape=v.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, v = inputs[:2]
        sorter = inputs[2] if len(inputs) > 2 else None
        out[0][0] = np.asarray(np.searchsorted(x, v, side=self.side, sorter=sorter),
                               dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[1]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        # piecewise constant: zero almost everywhere, as in Theano
        res: list[Variable] = [zeros_like(i, dtype="float64" if i.dtype in INT_DTYPES else i.dtype)
                               for i in inputs[:2]]
        if len(inputs) > 2:
            res.append(grad_undefined_for(self, 2, inputs[2], "sorter is an integer"))
        return res


def searchsorted(x: Any, v: Any, side: str = "left", sorter: Any = None) -> TensorVariable:
    """Indices where ``v`` would be inserted into the sorted vector ``x`` (int64)."""
    return SearchsortedOp(side=side)(x, v, sorter)


#: ``numpy.unique``, as ``Unique.perform`` calls it: with its three ``return_*`` flags known only
#: at run time (NumPy's stubs overload on each flag being literally True or False)
_np_unique: Callable[..., Any] = np.unique


class Unique(Op):
    """``numpy.unique`` with Theano's outputs: values, then (as asked) indices, inverse, counts.

    Index outputs are int64 vectors; for ``axis=None`` the inverse is 1-d over the flattened
    input (as in Theano and NumPy before 2.0).  Not differentiable.
    """

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index: bool = False, return_inverse: bool = False,
                 return_counts: bool = False, axis: int | None = None) -> None:
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = axis

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if self.axis is None:
            shape: list = [None]
        else:
            a = _check_axis(self, x, self.axis)
            shape = [None if d == a else s for d, s in enumerate(x.type.shape)]
        outs = [TensorType(x.dtype, shape=shape)()]
        n = int(self.return_index) + int(self.return_inverse) + int(self.return_counts)
        outs += [TensorType("int64", shape=(None,))() for _ in range(n)]
        return Apply(self, [x], outs)

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x = inputs[0]
        res = _np_unique(x, return_index=self.return_index, return_inverse=self.return_inverse,
                        return_counts=self.return_counts, axis=self.axis)
        if not isinstance(res, tuple):
            res = (res,)
        for k, (cell, val) in enumerate(zip(out, res)):
            val = np.asarray(val)
            if k > 0:
                val = val.reshape(-1).astype("int64", copy=False)
            cell[0] = val

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        # only the inverse's length is known without the values; None: taken from the value
        outs: list = [None] * len(node.outputs)
        if self.return_inverse:
            k = 1 + int(self.return_index)
            if self.axis is None:
                outs[k] = (prod(as_tensor_variable(list(shapes[0]) or [1]).astype("int64")),)
            else:
                outs[k] = (shapes[0][self.axis % node.inputs[0].ndim],)
        return outs

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [grad_undefined_for(self, 0, inputs[0], "unique is not differentiable")]


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None
           ) -> TensorVariable | list[TensorVariable]:
    """Sorted unique values of ``ar`` (``numpy.unique``); with the ``return_*`` flags, a list
    ``[values, index?, inverse?, counts?]`` (int64)."""
    return Unique(return_index, return_inverse, return_counts, axis)(ar)


class Bartlett(Op):
    """``numpy.bartlett(M)``: the triangular window as a float64 vector (``M <= 0``: empty)."""

    __props__ = ()

    def make_node(self, M: Any) -> Apply:
        M = as_tensor_variable(M)
        if M.ndim != 0:
            raise TypeError(f"{self}: M must be a scalar, got {M} with {M.ndim} dimension(s)")
        if M.dtype not in INT_DTYPES:
            raise TypeError(f"{self}: M must be an integer, got dtype {M.dtype}")
        return Apply(self, [M], [TensorType("float64", shape=(None,))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.bartlett(int(inputs[0]))

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        M = node.inputs[0]
        return [(maximum(M, 0).astype("int64"),)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [grad_undefined_for(self, 0, inputs[0], "M is an integer")]


bartlett_ = Bartlett()


def bartlett(M: Any) -> TensorVariable:
    """The Bartlett (triangular) window of ``M`` points, float64 (``numpy.bartlett``)."""
    return bartlett_(M)


def broadcast_shape(*arrays: Any, arrays_are_shapes: bool = False) -> tuple:
    """The symbolic shape (a tuple of int64 scalars) of the NumPy broadcast of ``arrays``.

    A dimension known to be 1 (broadcastable) yields to the others; two lengths that are both
    unknown are assumed compatible and the larger is taken (NumPy raises at run time instead).
    """
    if arrays_are_shapes:
        shapes = [tuple(as_tensor_variable(s) if not isinstance(s, (int, np.integer)) else s
                        for s in shp) for shp in arrays]
    else:
        vs = [as_tensor_variable(a) for a in arrays]
        shapes = [tuple(1 if v.broadcastable[d] else v.shape[d] for d in range(v.ndim))
                  for v in vs]
    nd = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (nd - len(s)) + tuple(s) for s in shapes]
    out = []
    for d in range(nd):
        dims = [s[d] for s in padded]
        known = [x for x in dims if not (isinstance(x, (int, np.integer)) and x == 1)]
        if not known:
            out.append(as_tensor_variable(np.int64(1)))
            continue
        acc = known[0]
        for x in known[1:]:
            acc = maximum(acc, x)
        out.append(as_tensor_variable(acc))
    return tuple(out)


__all__ = [
    "Bartlett", "CheckNonNegative", "CpuContiguous", "CumOp", "CumprodOp", "CumsumOp",
    "FillDiagonal", "FillDiagonalOffset", "RavelMultiIndex", "RepeatOp", "SearchsortedOp",
    "ToOneHot", "Unique", "UnravelIndex", "bartlett", "bincount", "broadcast_shape", "compress",
    "cpu_contiguous", "cumprod", "cumsum", "diff", "fill_diagonal", "fill_diagonal_offset",
    "ravel_multi_index", "repeat", "searchsorted", "squeeze", "to_one_hot", "unique",
    "unravel_index",
]
