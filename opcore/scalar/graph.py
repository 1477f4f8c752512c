"""Scalar graphs as Theano builds them: ``theano.scalar.float64('x')``, ``add(x, y)``.

:class:`ScalarType` (Theano's ``Scalar``) is the type of one number of a dtype; its variables
support ``+ - * / ** -`` and comparisons.  Calling a scalar operation (``opcore.scalar.add``) on
scalar variables applies :class:`ScalarApply`, a graph op printed and compared as the scalar
operation itself (``node.op == add`` holds), whose ``perform`` is the operation's NumPy rule.
The same scalar operations are what ``Elemwise`` maps over tensors.

>>> import opcore
>>> from opcore.graph.fg import FunctionGraph
>>> x, y = float64('x'), float64('y')
>>> e = FunctionGraph([x, y], [get_scalar_op('add')(x, get_scalar_op('mul')(x, y))])
>>> e
[add(x, mul(x, y))]
>>> float(opcore.function([x, y], x * y + 1)(2.0, 3.0))
7.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.op import Op
from opcore.graph.type import Type
from opcore.scalar.basic import ScalarOp, get_scalar_op

__all__ = ["Scalar", "ScalarApply", "ScalarConstant", "ScalarType", "ScalarVariable",
           "as_scalar", "constant", "get_scalar_type"]


class ScalarType(Type):
    """The type of one number of ``dtype`` (values are NumPy scalars)."""

    ndim = 0
    broadcastable = ()
    shape = ()

    def __init__(self, dtype: str) -> None:
        self.dtype = np.dtype(dtype).name

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        arr = np.asarray(data)
        if arr.ndim != 0:
            raise TypeError(f"{self}: expected a number, got an array of shape {arr.shape}")
        if strict and arr.dtype != self.dtype:
            raise TypeError(f"{self}: expected dtype {self.dtype}, got {arr.dtype}")
        if arr.dtype != self.dtype and not allow_downcast and not np.can_cast(arr.dtype,
                                                                              self.dtype):
            if not (isinstance(data, (int, float)) and np.asarray(data, self.dtype) == data):
                raise TypeError(f"{self}: {data!r} ({arr.dtype}) cannot be cast safely")
        return np.asarray(data, dtype=self.dtype)[()]

    def values_eq(self, a: Any, b: Any) -> bool:
        return bool(a == b)

    def values_eq_approx(self, a: Any, b: Any) -> bool:
        return bool(np.allclose(a, b))

    def make_variable(self, name: str | None = None) -> "ScalarVariable":
        return ScalarVariable(self, name=name)

    def make_constant(self, value: Any, name: str | None = None) -> "ScalarConstant":
        return ScalarConstant(self, self.filter(value, allow_downcast=True), name=name)

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash((type(self), self.dtype))

    def __str__(self) -> str:
        return self.dtype

    def __repr__(self) -> str:
        return f"Scalar({self.dtype})"


Scalar = ScalarType


def get_scalar_type(dtype: str) -> ScalarType:
    return ScalarType(dtype)


class _ScalarOperators:
    def __add__(self, other):
        return _apply("add", self, other)

    def __radd__(self, other):
        return _apply("add", other, self)

    def __sub__(self, other):
        return _apply("sub", self, other)

    def __rsub__(self, other):
        return _apply("sub", other, self)

    def __mul__(self, other):
        return _apply("mul", self, other)

    def __rmul__(self, other):
        return _apply("mul", other, self)

    def __truediv__(self, other):
        return _apply("true_div", self, other)

    def __rtruediv__(self, other):
        return _apply("true_div", other, self)

    def __pow__(self, other):
        return _apply("pow", self, other)

    def __neg__(self):
        return _apply("neg", self)

    def __lt__(self, other):
        return _apply("lt", self, other)

    def __gt__(self, other):
        return _apply("gt", self, other)

    def __le__(self, other):
        return _apply("le", self, other)

    def __ge__(self, other):
        return _apply("ge", self, other)

    __hash__ = Variable.__hash__

    @property
    def dtype(self) -> str:
        return self.type.dtype

    ndim = 0


class ScalarVariable(_ScalarOperators, Variable):
    """A symbolic number."""


class ScalarConstant(_ScalarOperators, Constant):
    """A constant number."""

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.data)


def constant(x: Any) -> ScalarConstant:
    arr = np.asarray(x)
    return ScalarType(arr.dtype.name).make_constant(arr)


def as_scalar(x: Any, name: str | None = None) -> Variable:
    """``x`` as a scalar variable: scalar variables pass, 0-d tensors are not converted (use
    ``opcore.tensor``), numbers become :class:`ScalarConstant`."""
    if isinstance(x, Variable):
        if isinstance(x.type, ScalarType):
            return x
        raise TypeError(f"as_scalar: {x} has type {x.type}, not a scalar type")
    if isinstance(x, Apply):
        return as_scalar(x.default_output())
    return constant(x)


class ScalarApply(Op):
    """Applies a scalar operation to scalar variables; equal to (and printed as) that operation."""

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op: ScalarOp) -> None:
        self.scalar_op = scalar_op

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, ScalarOp):
            return other == self.scalar_op
        return type(other) is type(self) and other.scalar_op == self.scalar_op

    def __hash__(self) -> int:
        return hash(self.scalar_op)

    def __str__(self) -> str:
        return str(self.scalar_op)

    def make_node(self, *inputs: Any) -> Apply:
        ins = [as_scalar(i) for i in inputs]
        if len(ins) != self.scalar_op.nin:
            raise TypeError(f"{self.scalar_op} takes {self.scalar_op.nin} inputs, got {len(ins)}")
        dtypes = [i.type.dtype for i in ins]
        self.scalar_op.check_input_dtypes(*dtypes)
        out = ScalarType(self.scalar_op.output_dtype(*dtypes))
        return Apply(self, ins, [out()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        dt = node.outputs[0].type.dtype
        res = self.scalar_op.numpy_impl([np.asarray(i) for i in inputs], dt)
        output_storage[0][0] = np.asarray(res, dtype=dt)[()]

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [()]


def _apply(name: str, *args: Any) -> Variable:
    return ScalarApply(get_scalar_op(name))(*args)


def _call_scalar_op(self: ScalarOp, *inputs: Any, **kwargs: Any) -> Variable:
    """``add(x, y)`` on scalar variables (Theano's scalar ops are callable graph ops)."""
    return ScalarApply(self)(*inputs)


ScalarOp.__call__ = _call_scalar_op  # scalar ops stay plain rules for Elemwise; calling applies

for _dt in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64", "complex64", "complex128"):
    globals()[_dt] = ScalarType(_dt)
    __all__.append(_dt)
del _dt
