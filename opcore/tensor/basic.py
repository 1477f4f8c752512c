"""Constants, casts, allocation and shape ops."""

from __future__ import annotations

import typing
from typing import Any, Sequence

import numbers

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, Constant, Variable, as_symbolic
from opcore.graph.op import Op
from opcore.scalar import basic as S
from opcore.tensor.elemwise import DimShuffle, Elemwise
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorConstant, TensorVariable
from opcore.graph.null import disconnected_type
from opcore.tensor.hints import Dim, DTypeLike, InputShapes, OutputShapes, ShapeLike, TensorLike

#: the bounds of int64 and uint64 (np.iinfo builds a new object at every call)
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2 ** 63), 2 ** 63 - 1, 2 ** 64 - 1


def _python_scalar_dtype(x) -> str:
    """The dtype of a constant made from a Python scalar (opcore's literal-dtype policy).

    Modelled on NumPy 2's weak scalars (NEP 50): a Python ``int`` is ``int64`` (``uint64`` above
    its range; larger raises ``OverflowError`` as NumPy does), a ``bool`` is ``bool``, a ``complex``
    is ``complex128``; a ``float`` is ``floatX`` when that holds it exactly, else ``float64``
    (Theano's float autocast).  The constant is *weak*: combined with a typed operand it takes that
    operand's dtype (see ``opcore.tensor.elemwise.weak_result_dtypes``).  See docs/literals.md.
    """
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    if isinstance(x, numbers.Integral):
        xi = int(x)
        if _INT64_MIN <= xi <= _INT64_MAX:
            return "int64"
        if 0 <= xi <= _UINT64_MAX:
            return "uint64"
        raise OverflowError(f"Python integer {x} is out of bounds for int64 and uint64")
    if isinstance(x, numbers.Real):
        xf = float(x)
        return config.floatX if np.asarray(xf, config.floatX) == xf or np.isinf(xf) \
            or np.isnan(xf) else "float64"
    return "complex128"


def constant(x: TensorLike, name: str | None = None, ndim: int | None = None,
             dtype: DTypeLike = None) -> TensorConstant:
    """A TensorConstant holding ``x``; Python scalars follow the literal-dtype policy of
    :func:`_python_scalar_dtype` and are weak (they adopt the dtype of typed operands)."""
    weak = False
    if dtype is None and isinstance(x, (numbers.Number, np.bool_)) and not isinstance(x, np.generic):
        dtype = _python_scalar_dtype(x)
        weak = True
    arr = np.asarray(x, dtype=dtype)
    if arr.dtype == object:
        raise TypeError(f"cannot make a tensor constant from {x!r}")
    if arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise TypeError(f"cannot make a tensor constant from the string {x!r}")
    if ndim is not None and arr.ndim < ndim:
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    t = TensorType(arr.dtype.name, shape=tuple(1 if s == 1 else None for s in arr.shape))
    c = TensorConstant(t, arr, name)
    if weak:
        c.tag.weak = True
    return c


def as_tensor_variable(x: TensorLike, name: str | None = None, ndim: int | None = None,
                       dtype: DTypeLike = None) -> TensorVariable | TensorConstant:
    """Return ``x`` as a tensor variable: variables pass through, values become constants."""
    if isinstance(x, Variable):
        if isinstance(x.type, TensorType):
            if ndim is not None and x.ndim != ndim:
                if x.ndim < ndim:
                    return DimShuffle(x.broadcastable, ["x"] * (ndim - x.ndim) + list(range(x.ndim)))(x)
                raise ValueError(f"{x} has {x.ndim} dimensions, expected {ndim}")
            return x  # type: ignore[return-value]  # a Variable of a TensorType
        conv = getattr(x.type, "as_tensor", None)
        if conv is not None:
            return conv(x)
        raise TypeError(f"cannot use {x} of type {x.type} as a tensor")
    if isinstance(x, Apply):
        return as_tensor_variable(x.default_output(), name, ndim)
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        parts = [as_tensor_variable(e) for e in x]
        if all(p.ndim == 0 for p in parts):
            return MakeVector(S.upcast(*[p.dtype for p in parts]))(*parts)
        from opcore.tensor.shape import stack  # shape.py builds on this module

        return stack(parts)
    if isinstance(x, (list, tuple)):
        try:
            arr = np.array(x, dtype=dtype)
        except ValueError as exc:
            raise ValueError(f"the list {x!r} is not rectangular: {exc}") from None
        if arr.dtype == np.float64 and dtype is None and _all_py_floats(x) and config.floatX == "float32":
            arr = arr.astype("float32")
        return constant(arr, name, ndim)
    return constant(x, name, ndim, dtype)


def _all_py_floats(x):
    return all(isinstance(e, float) or isinstance(e, (list, tuple)) and _all_py_floats(e) for e in x)


as_tensor = as_tensor_variable
# plain values (numbers, arrays, lists...) are tensors for the layers below that turn values into
# variables without knowing tensors (opcore.compile's outputs, updates and givens)
as_symbolic.register(object, lambda x: as_tensor_variable(x))


def get_scalar_constant_value(v: Variable, only_process_constants: bool = False
                              ) -> np.generic | np.ndarray:
    """The value of ``v`` when it is a constant scalar (seeing through casts/dimshuffles): a
    NumPy scalar (a 0-d array through a cast).  Raises ``NotScalarConstantError``."""
    while True:
        if isinstance(v, Constant):
            d = np.asarray(v.data)
            if d.size == 1 or (d.size and np.all(d == d.flat[0])):
                return d.flat[0] if d.size else d
            raise NotScalarConstantError(v)
        owner = v.owner
        if only_process_constants or owner is None:
            raise NotScalarConstantError(v)
        op = owner.op
        if isinstance(op, DimShuffle) or (isinstance(op, Elemwise) and op.scalar_op is S.identity):
            v = owner.inputs[0]
            continue
        if isinstance(op, Cast):
            return np.asarray(get_scalar_constant_value(owner.inputs[0])).astype(op.dtype)
        if isinstance(op, Shape_i):
            s = owner.inputs[0].type.shape[op.i]
            if s is not None:
                return np.int64(s)
        raise NotScalarConstantError(v)


class NotScalarConstantError(ValueError):
    pass


# -- casts ----------------------------------------------------------------------------------
class Cast(Op):
    __props__ = ("dtype",)

    def __init__(self, dtype: DTypeLike) -> None:
        self.dtype = np.dtype(dtype).name

    def __str__(self) -> str:
        return f"Cast{{{self.dtype}}}"

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType(self.dtype, shape=x.type.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.asarray(inputs[0]).astype(self.dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x = inputs[0]
        if x.dtype.startswith(("float", "complex")):
            return [cast(gz[0], x.dtype)]
        return [zeros_like(x, dtype=config.floatX)]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if eval_points[0] is None else self(eval_points[0])]


def cast(x: TensorLike, dtype: DTypeLike) -> TensorVariable | TensorConstant:
    """``x`` converted to ``dtype`` (``'floatX'`` means config.floatX)."""
    if dtype == "floatX":
        dtype = config.floatX
    x = as_tensor_variable(x)
    dtype = np.dtype(dtype).name
    if x.dtype == dtype:
        return x
    return Cast(dtype)(x)


def specify_broadcastable_as(var: Variable, ttype: TensorType) -> Variable:
    if var.type == ttype:
        return var
    return SpecifyShape(ttype.shape)(var)


class SpecifyShape(Op):
    """Assert static lengths at run time (an identity otherwise)."""

    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape: Sequence[int | None]) -> None:
        self.shape = tuple(shape)

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise TypeError(f"SpecifyShape{self.shape}: {x} has {x.ndim} dimensions")
        shape = [s if s is not None else xs for s, xs in zip(self.shape, x.type.shape)]
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        (x,) = inputs
        for d, s in enumerate(self.shape):
            if s is not None and x.shape[d] != s:
                raise ValueError(f"{self}: expected length {s} in dimension {d}, got shape {x.shape}")
        out[0][0] = x

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [tuple(shapes[0][d] if s is None else as_tensor_variable(np.int64(s))
                      for d, s in enumerate(self.shape))]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [gz[0]]


def addbroadcast(x: TensorLike, *axes: int) -> TensorVariable:
    x = as_tensor_variable(x)
    shape = list(x.type.shape)
    for a in axes:
        shape[a] = 1
    return SpecifyShape(shape)(x)


def unbroadcast(x: TensorLike, *axes: int) -> TensorVariable | TensorConstant:
    x = as_tensor_variable(x)
    if not axes:
        return x
    shape = list(x.type.shape)
    for a in axes:
        shape[a] = None
    return Unbroadcast(tuple(shape))(x)


class Unbroadcast(Op):
    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape: tuple[int | None, ...]) -> None:
        self.shape = shape

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, shape=self.shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = inputs[0]

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [specify_broadcastable_as(gz[0], inputs[0].type) if gz[0].type.is_super(inputs[0].type)
                else gz[0]]


# -- shapes ---------------------------------------------------------------------------------
class Shape(Op):
    """The shape of a tensor as an int64 vector."""

    __props__ = ()

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.asarray(np.shape(inputs[0]), dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(as_tensor_variable(np.int64(node.inputs[0].ndim)),)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        return [disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def __eq__(self, other: object) -> bool:
        return type(other) is Shape

    def __hash__(self) -> int:
        return hash(Shape)


_shape = Shape()


class Shape_i(Op):
    """Length of dimension ``i`` as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = int(i)

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i{{{self.i}}}: {x} has only {x.ndim} dimensions")
        return Apply(self, [x], [TensorType("int64", shape=())()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [()]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        return [disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]


class ShapeTuple(tuple):
    """``x.shape``: a symbolic int64 vector that also indexes like a tuple (``x.shape[0]``)."""


def shape(x: TensorLike) -> TensorVariable:
    x = as_tensor_variable(x)
    return _shape(x)


def shape_i(x: TensorLike, i: int) -> TensorVariable | TensorConstant:
    x = as_tensor_variable(x)
    s = x.type.shape[i]
    if s is not None:
        return constant(np.int64(s))
    return Shape_i(i)(x)


class MakeVector(Op):
    """Build a 1-d tensor from scalars."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64") -> None:
        self.dtype = dtype

    def make_node(self, *inputs: TensorLike) -> Apply:
        scalars = [as_tensor_variable(i) for i in inputs]
        for i in scalars:
            if i.ndim != 0:
                raise TypeError(f"MakeVector: {i} is not a scalar")
        scalars = [cast(i, self.dtype) if i.dtype != self.dtype else i for i in scalars]
        return Apply(self, scalars, [TensorType(self.dtype, shape=(len(scalars),))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(as_tensor_variable(np.int64(len(node.inputs))),)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        g = typing.cast("TensorVariable", gz[0])  # the gradient of a vector
        return [g[i] if inputs[i].dtype.startswith("float") else zeros_like(inputs[i], config.floatX)
                for i in range(len(inputs))]


def as_shape_vector(shape: ShapeLike | Dim) -> TensorVariable | TensorConstant:
    """A tuple/list of ints or scalars, or an int vector, as an int64 vector variable."""
    if isinstance(shape, Variable):
        v = as_tensor_variable(shape)
        if v.ndim == 0:
            v = MakeVector("int64")(v)
        return cast(v, "int64") if v.dtype != "int64" else v
    dims = shape if isinstance(shape, (list, tuple)) else (shape,)
    if all(not isinstance(s, Variable) for s in dims):
        return constant(np.asarray(dims, dtype="int64").reshape(len(dims)))
    return MakeVector("int64")(*[as_tensor_variable(s) for s in dims])


def _static_dims(shape_vec, n):
    """Static lengths of a shape vector when its entries are constants (else None)."""
    out = []
    if isinstance(shape_vec, Constant):
        return [int(v) for v in shape_vec.data]
    if shape_vec.owner is not None and isinstance(shape_vec.owner.op, MakeVector):
        for e in shape_vec.owner.inputs:
            try:
                out.append(int(get_scalar_constant_value(e)))
            except NotScalarConstantError:
                out.append(None)
        return out
    return [None] * n


# -- allocation -----------------------------------------------------------------------------
class Alloc(Op):
    """Broadcast a value to a shape: ``alloc(value, *shape)``."""

    __props__ = ()

    def make_node(self, value: TensorLike, *shape: Dim) -> Apply:
        v = as_tensor_variable(value)
        sh = [cast(as_tensor_variable(s), "int64") for s in shape]
        for s in sh:
            if s.ndim != 0:
                raise TypeError(f"Alloc: shape entries must be scalars, got {s} ({s.type})")
        if v.ndim > len(sh):
            raise TypeError(f"Alloc: value of rank {v.ndim} cannot fill a rank-{len(sh)} shape")
        static: list[int | None] = []
        for s in sh:
            try:
                static.append(int(get_scalar_constant_value(s)))
            except NotScalarConstantError:
                static.append(None)
        return Apply(self, [v] + sh, [TensorType(v.dtype, shape=static)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        v, *dims = inputs
        shape = tuple(int(s) for s in dims)
        vt = node.inputs[0].type
        lead = len(shape) - vt.ndim
        for d, (n, b) in enumerate(zip(np.shape(v), vt.broadcastable)):
            if n != shape[lead + d] and not (n == 1 and b):
                raise ValueError(
                    f"Alloc: cannot broadcast a value of shape {np.shape(v)} ({vt}) to {shape}: "
                    f"dimension {d} has length {n}"
                    + (" and is not declared broadcastable" if n == 1 else ""))
        cell = out[0]
        if cell[0] is not None and cell[0].shape == shape:
            cell[0][...] = v
        else:
            cell[0] = np.empty(shape, dtype=node.outputs[0].type.numpy_dtype)
            cell[0][...] = v

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [tuple(node.inputs[1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        from opcore.tensor.math import sum as _sum

        v = inputs[0]
        g = gz[0]
        nlead = g.ndim - v.ndim
        if nlead:
            g = _sum(g, axis=tuple(range(nlead)))
        axes = [d for d, b in enumerate(v.broadcastable) if b and not g.broadcastable[d]]
        if axes:
            g = _sum(g, axis=tuple(axes), keepdims=True)
        return [g] + [disconnected_type() for _ in inputs[1:]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def __eq__(self, other: object) -> bool:
        return type(other) is Alloc

    def __hash__(self) -> int:
        return hash(Alloc)


alloc_op = Alloc()


def alloc(value: TensorLike, *shape: Dim) -> TensorVariable:
    return alloc_op(value, *shape)


def _shape_list(shape):
    if isinstance(shape, Variable):
        shape = as_tensor_variable(shape)
        if shape.ndim == 0:
            return [shape]
        n = shape.type.shape[0]
        if n is None:
            raise ValueError("zeros/ones: the length of a symbolic shape vector must be known")
        return [shape[i] for i in range(n)]
    if isinstance(shape, (int, np.integer)):
        return [shape]
    return list(shape)


def zeros(shape: ShapeLike, dtype: DTypeLike = None) -> TensorVariable:
    return alloc(constant(np.zeros((), dtype=dtype or config.floatX)), *_shape_list(shape))


def ones(shape: ShapeLike, dtype: DTypeLike = None) -> TensorVariable:
    return alloc(constant(np.ones((), dtype=dtype or config.floatX)), *_shape_list(shape))


def full(shape: ShapeLike, fill_value: TensorLike, dtype: DTypeLike = None) -> TensorVariable:
    v = as_tensor_variable(fill_value)
    if dtype is not None:
        v = cast(v, dtype)
    return alloc(v, *_shape_list(shape))


def alloc_like(value: TensorLike, template: TensorLike) -> TensorVariable:
    """``value`` broadcast to the shape of ``template``."""
    template = as_tensor_variable(template)
    value = as_tensor_variable(value)
    return alloc(value, *[shape_i(template, d) for d in range(template.ndim)])


def fill(model: TensorLike, value: TensorLike) -> TensorVariable:
    return alloc_like(value, model)


second = fill


def zeros_like(x: TensorLike, dtype: DTypeLike = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return alloc_like(constant(np.zeros((), dtype=dtype or x.dtype)), x)


def ones_like(x: TensorLike, dtype: DTypeLike = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return alloc_like(constant(np.ones((), dtype=dtype or x.dtype)), x)


def full_like(x: TensorLike, fill_value: TensorLike, dtype: DTypeLike = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return alloc_like(constant(np.asarray(fill_value, dtype=dtype or x.dtype)), x)


def empty(shape: ShapeLike, dtype: DTypeLike = None) -> TensorVariable:
    return zeros(shape, dtype)


class ARange(Op):
    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, start: TensorLike, stop: TensorLike, step: TensorLike) -> Apply:
        ins = [as_tensor_variable(v) for v in (start, stop, step)]
        for v in ins:
            if v.ndim:
                raise TypeError(f"arange: {v} must be a scalar")
        return Apply(self, ins, [TensorType(self.dtype, shape=(None,))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        start, stop, step = (np.asarray(v).item() for v in inputs)
        out[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        from opcore.tensor import math as M

        # three scalars (see make_node)
        start, stop, step = typing.cast("list[TensorVariable]", node.inputs)
        n = M.ceil(M.true_div(stop - start, step))
        return [(cast(M.maximum(n, 0), "int64"),)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [zeros_like(i, config.floatX) for i in inputs]


def arange(start: TensorLike, stop: TensorLike | None = None, step: TensorLike = 1,
           dtype: DTypeLike = None) -> TensorVariable:
    if stop is None:
        start, stop = 0, start
    ins = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = np.result_type(*[v.dtype for v in ins]).name
        if all(v.dtype.startswith(("int", "uint")) for v in ins):
            dtype = "int64"
    return ARange(dtype if isinstance(dtype, str) else np.dtype(dtype).name)(*ins)


def tensor_copy(x: TensorLike) -> TensorVariable:
    return Elemwise(S.identity)(x)


def _register_variable_helpers():
    """TensorVariable's ``__getitem__`` etc. come from the package namespace (see variable.py)."""


__all__ = [n for n in dir() if not n.startswith("_")]
