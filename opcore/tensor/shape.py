"""Reshape, flatten, transpose, join/stack and squeeze."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.op import Op
from opcore.tensor.basic import (_static_dims, as_shape_vector, as_tensor_variable, cast,
                                 constant, shape, shape_i)
from opcore.tensor.elemwise import DimShuffle
from opcore.tensor.type import TensorType
from opcore.graph.null import disconnected_type
from opcore.scalar.basic import upcast
from opcore.tensor import math as M
from opcore.tensor.hints import Axis, InputShapes, OutputShapes, ShapeLike, TensorLike

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorConstant, TensorVariable


class Reshape(Op):
    """``numpy.reshape`` with a symbolic shape vector of known length ``ndim`` (-1 allowed)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int) -> None:
        self.ndim = int(ndim)

    def make_node(self, x: TensorLike, shp: ShapeLike) -> Apply:
        x = as_tensor_variable(x)
        shp = as_shape_vector(shp)
        if shp.ndim != 1:
            raise TypeError(f"Reshape: the shape must be a vector, got {shp.type}")
        dims = _static_dims(shp, self.ndim)
        static = [d if d is not None and d >= 0 else None for d in dims]
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=static)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, shp = inputs
        if len(shp) != self.ndim:
            raise ValueError(f"Reshape{{{self.ndim}}}: shape {tuple(shp)} has {len(shp)} entries")
        try:
            out[0][0] = np.reshape(x, tuple(int(s) for s in shp))
        except ValueError as exc:
            raise ValueError(f"Reshape: cannot reshape an array of shape {x.shape} into "
                             f"{tuple(int(s) for s in shp)}: {exc}") from None

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        from opcore.tensor.subtensor import subtensor_getitem

        x, shp = node.inputs
        dims = _static_dims(shp, self.ndim)
        if all(d is not None and d >= 0 for d in dims):
            return [tuple(constant(np.int64(d)) for d in dims)]
        total = M.prod(shape(x)) if x.ndim else constant(np.int64(1))
        entries = [subtensor_getitem(shp, i) for i in range(self.ndim)]
        known = M.prod(shp)
        missing = M.int_div(total, -known)
        return [tuple(constant(np.int64(d)) if d is not None and d >= 0
                      else M.switch(M.eq(e, -1), missing, e) for d, e in zip(dims, entries))]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        x = inputs[0]
        return [reshape(gz[0], shape(x), ndim=x.ndim), disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


def reshape(x: TensorLike, newshape: ShapeLike, ndim: int | None = None) -> TensorVariable:
    """``x`` with a new shape (tuple/list of ints or scalars, or an int vector with known length)."""
    x = as_tensor_variable(x)
    if ndim is None:
        if isinstance(newshape, Variable):
            newshape = as_tensor_variable(newshape)
            if newshape.ndim == 0:
                ndim = 1
            else:
                ndim = newshape.type.shape[0]
                if ndim is None:
                    raise ValueError(
                        "reshape: the new shape's length is unknown; pass ndim= explicitly"
                    )
        elif isinstance(newshape, (int, np.integer)):
            ndim = 1
        else:
            ndim = len(newshape)
    return Reshape(ndim)(x, newshape)


def flatten(x: TensorLike, ndim: int = 1,
            outdim: int | None = None) -> TensorVariable | TensorConstant:
    """Keep the first ``ndim - 1`` dimensions and flatten the rest."""
    x = as_tensor_variable(x)
    ndim = outdim if outdim is not None else ndim
    if ndim < 1 or ndim > max(x.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} is out of range for {x} ({x.ndim}-d)")
    if x.ndim == ndim:
        return x
    keep = [shape_i(x, d) for d in range(ndim - 1)]
    return reshape(x, keep + [-1], ndim=ndim)


def transpose(x: TensorLike, axes: Sequence[int] | None = None) -> TensorVariable:
    x = as_tensor_variable(x)
    if axes is None:
        axes = list(range(x.ndim))[::-1]
    return DimShuffle(x.broadcastable, [int(a) % max(x.ndim, 1) for a in axes])(x)


def squeeze(x: TensorLike, axis: Axis = None) -> TensorVariable:
    x = as_tensor_variable(x)
    if axis is None:
        drop = [d for d, b in enumerate(x.broadcastable) if b]
    else:
        drop = [a % x.ndim for a in np.atleast_1d(axis).tolist()]
    return DimShuffle(x.broadcastable, [d for d in range(x.ndim) if d not in drop])(x)


def expand_dims(x: TensorLike, axis: int) -> TensorVariable:
    x = as_tensor_variable(x)
    order: list[int | str] = list(range(x.ndim))
    axis = axis % (x.ndim + 1)
    order.insert(axis, "x")
    return DimShuffle(x.broadcastable, order)(x)


def shape_padleft(x: TensorLike, n_ones: int = 1) -> TensorVariable:
    x = as_tensor_variable(x)
    return DimShuffle(x.broadcastable, ["x"] * n_ones + list(range(x.ndim)))(x)


def shape_padright(x: TensorLike, n_ones: int = 1) -> TensorVariable:
    x = as_tensor_variable(x)
    return DimShuffle(x.broadcastable, list(range(x.ndim)) + ["x"] * n_ones)(x)


def shape_padaxis(x: TensorLike, axis: int) -> TensorVariable:
    return expand_dims(x, axis)


class Join(Op):
    """Concatenate tensors along ``axis`` (a constant)."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def __str__(self) -> str:
        return f"Join{{axis={self.axis}}}"

    def make_node(self, *inputs: TensorLike) -> Apply:
        tensors = [as_tensor_variable(t) for t in inputs]
        if not tensors:
            raise ValueError("join: nothing to join")
        nd = tensors[0].ndim
        for i, t in enumerate(tensors):
            if t.ndim != nd:
                raise TypeError(f"join: tensor {i} ({t}) has {t.ndim} dimensions, expected {nd}")
        if not 0 <= self.axis < nd:
            raise ValueError(f"join: axis {self.axis} is out of range for {nd}-d tensors")
        dt = upcast(*[t.dtype for t in tensors])
        tensors = [cast(t, dt) for t in tensors]
        shape_out = []
        for d in range(nd):
            if d == self.axis:
                sizes = [t.type.shape[d] for t in tensors]
                shape_out.append(sum(sizes) if all(s is not None for s in sizes) else None)
            else:
                known = {t.type.shape[d] for t in tensors if t.type.shape[d] is not None}
                shape_out.append(known.pop() if len(known) == 1 else None)
        return Apply(self, tensors, [TensorType(dt, shape=shape_out)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        try:
            out[0][0] = np.concatenate(inputs, axis=self.axis)
        except ValueError as exc:
            raise ValueError(f"{self}: input shapes {[a.shape for a in inputs]}: {exc}") from None

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:

        out = list(shapes[0])
        total = shapes[0][self.axis]
        for s in shapes[1:]:
            total = M.add(total, s[self.axis])
        out[self.axis] = total
        return [tuple(out)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        from opcore.tensor.subtensor import subtensor_getitem

        (g,) = gz
        grads: list[Variable] = []
        start = constant(np.int64(0))
        for t in inputs:
            n = shape_i(t, self.axis)
            idx = [slice(None)] * t.ndim
            idx[self.axis] = slice(start, start + n)
            grads.append(subtensor_getitem(g, tuple(idx)))
            start = start + n
        return grads

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if any(e is None for e in eval_points):
            return [None]
        return [self(*eval_points)]


def join(axis: int, *tensors: TensorLike) -> TensorVariable | TensorConstant:
    """Theano's argument order: ``join(axis, a, b, ...)`` (also ``join(axis, [a, b, ...])``)."""
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    tvars = [as_tensor_variable(t) for t in items]
    if len(tvars) == 1:
        return tvars[0]
    return Join(int(axis) % tvars[0].ndim)(*tvars)


def concatenate(tensors: Sequence[TensorLike], axis: int = 0) -> TensorVariable | TensorConstant:
    return join(axis, *tensors)


def stack(*tensors: TensorLike, axis: int = 0) -> TensorVariable | TensorConstant:
    """Join tensors of one shape along a new axis ``axis`` (``numpy.stack``).

    Forms: ``stack([a, b], axis=0)``, ``stack([a, b], 1)``, and Theano 1.0's positional
    ``stack(a, b, c)`` (then ``axis`` is a keyword).  Raises ValueError when given nothing.
    """
    items: Sequence[TensorLike] = tensors
    if tensors and isinstance(tensors[0], (list, tuple)):
        second = tensors[1] if len(tensors) == 2 else None
        if len(tensors) > 2 or (len(tensors) == 2 and not isinstance(second, int)):
            raise TypeError("stack: give a list of tensors and an optional integer axis, or the "
                            "tensors as separate arguments")
        if isinstance(second, int):
            axis = second
        items = tensors[0]
    tvars = [as_tensor_variable(t) for t in items]
    if not tvars:
        raise ValueError("stack: nothing to stack")
    nd = tvars[0].ndim
    axis = axis % (nd + 1)
    return join(axis, *[expand_dims(t, axis) for t in tvars])


def horizontal_stack(*args: TensorLike) -> TensorVariable | TensorConstant:
    return concatenate(args, axis=1)


def vertical_stack(*args: TensorLike) -> TensorVariable | TensorConstant:
    return concatenate(args, axis=0)


__all__ = [n for n in dir() if not n.startswith("_")]
