"""Theano's ``theano.compile.ops``: ``ViewOp``, ``DeepCopyOp``, ``Shape``/``Shape_i``, ``as_op``.

``register_view_op_c_code`` and its siblings record C code per Type as Theano's did; opcore's C
backend gives these ops their C through its own implementation table, so the record is kept for
code that reads it back (``ViewOp.c_code_and_version``), not compiled.

>>> import numpy as np, opcore, opcore.tensor as T
>>> x = T.dvector('x')
>>> opcore.function([x], view_op(x) * 2)(np.array([1.0, 2.0])).tolist()
[2.0, 4.0]
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

from opcore.graph.basic import Apply
from opcore.graph.op import Op, as_op  # noqa: F401

#: Theano's theano.compile.ops also names the shape ops, which are tensor ops here
#: (opcore.tensor.basic, a layer above compile): this Theano path reaches them on first use
_FROM_TENSOR = {"Shape": "opcore.tensor.basic", "Shape_i": "opcore.tensor.basic",
                "SpecifyShape": "opcore.tensor.basic", "shape": "opcore.tensor.basic",
                "shape_i": "opcore.tensor.basic", "specify_shape": "opcore.tensor.construct"}


def __getattr__(name: str) -> Any:
    if name in _FROM_TENSOR:
        return getattr(importlib.import_module(_FROM_TENSOR[name]), name)
    raise AttributeError(f"module 'opcore.compile.ops' has no attribute {name!r}")


__all__ = ["DeepCopyOp", "OutputGuard", "Shape", "Shape_i", "SpecifyShape", "ViewOp", "as_op",
           "deep_copy_op", "register_deep_copy_op_c_code", "register_shape_c_code",
           "register_shape_i_c_code", "register_view_op_c_code", "shape", "shape_i",
           "specify_shape", "view_op"]



class ViewOp(Op):
    """Returns its input (a view: the output aliases the input)."""

    __props__ = ()
    view_map = {0: [0]}
    c_code_and_version: dict = {}

    def make_node(self, x: Any) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return input_shapes

    def grad(self, inputs: list, output_grads: list) -> list:
        return list(output_grads)


view_op = ViewOp()


class OutputGuard(ViewOp):
    """Theano's guard against an output being overwritten in place (a view here)."""

    destroy_map: dict = {}


class DeepCopyOp(Op):
    """Returns a copy of its input (never an alias)."""

    __props__ = ()
    c_code_and_version: dict = {}

    def make_node(self, x: Any) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x = inputs[0]
        output_storage[0][0] = x.copy() if hasattr(x, "copy") else copy.deepcopy(x)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return input_shapes

    def grad(self, inputs: list, output_grads: list) -> list:
        return list(output_grads)


deep_copy_op = DeepCopyOp()

_SHAPE_C: dict = {}
_SHAPE_I_C: dict = {}


def register_view_op_c_code(type_: type, code: str, version: tuple = ()) -> None:
    """Record ``ViewOp``'s C code for ``type_`` (Theano's API; see the module docstring)."""
    ViewOp.c_code_and_version[type_] = (code, version)


def register_deep_copy_op_c_code(typ: type, code: str, version: tuple = ()) -> None:
    """Record ``DeepCopyOp``'s C code for ``typ`` (Theano's API; see the module docstring)."""
    DeepCopyOp.c_code_and_version[typ] = (code, version)


def register_shape_c_code(type_: type, code: str, version: tuple = ()) -> None:
    """Record ``Shape``'s C code for ``type_`` (Theano's API; see the module docstring)."""
    _SHAPE_C[type_] = (code, version)


def register_shape_i_c_code(typ: type, code: str, check_input: str, version: tuple = ()) -> None:
    """Record ``Shape_i``'s C code for ``typ`` (Theano's API; see the module docstring)."""
    _SHAPE_I_C[typ] = (code, check_input, version)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM_TENSOR))
