"""Markers for gradients that are undefined or disconnected, and for unknown shapes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from opcore.graph.basic import Variable
from opcore.graph.type import Type

if TYPE_CHECKING:
    from opcore.graph.op import Op


def __getattr__(name: str) -> Any:
    # ShapeUnknown's old home: it lives in opcore.graph.op (the infer_shape contract), which
    # imports this module for the default gradient
    if name == "ShapeUnknown":
        return importlib.import_module("opcore.graph.op").ShapeUnknown
    raise AttributeError(f"module 'opcore.graph.null' has no attribute {name!r}")


class NullType(Type):
    """The type of an undefined gradient; any use of it in a compiled graph is an error."""

    def __init__(self, why: str = "") -> None:
        self.why = why

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise ValueError(f"undefined gradient cannot hold a value: {self.why}")

    def __eq__(self, other: object) -> bool:
        return type(other) is NullType

    def __hash__(self) -> int:
        return hash(NullType)

    def __str__(self) -> str:
        return "NullType"


class DisconnectedType(Type):
    """The type of the gradient of an output that does not depend on the input."""

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise ValueError("a disconnected gradient holds no value")

    def __eq__(self, other: object) -> bool:
        return type(other) is DisconnectedType

    def __hash__(self) -> int:
        return hash(DisconnectedType)

    def __str__(self) -> str:
        return "DisconnectedType"


def grad_undefined_for(op: Op, i: int, x: Variable, why: str = "") -> Variable:
    msg = f"{op}: the gradient with respect to input {i} is not defined" + (f" ({why})" if why else "")
    return NullType(msg)()


def grad_not_implemented(op: Op, i: int, x: Variable, why: str = "") -> Variable:
    msg = f"{op}: the gradient with respect to input {i} is not implemented" + (f" ({why})" if why else "")
    return NullType(msg)()


def disconnected_type() -> Variable:
    return DisconnectedType()()
