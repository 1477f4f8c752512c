"""Small helpers shared by the scan builder, op and gradient."""

from __future__ import annotations

from typing import Any

from opcore import tensor as T
from opcore.compile.function import LINKING_MODE


def inner_mode(mode: Any) -> Any:
    """The mode an inner graph compiles with: the scan's own, else the outer function's, else
    ``config.mode``."""
    if mode is not None:
        return mode
    return LINKING_MODE.get()


class until:
    """Stop condition returned by a scan step: ``return outputs, until(cond)``.

    The loop stops after the step in which ``cond`` is true (that step's outputs are kept).
    """

    def __init__(self, condition: Any) -> None:
        c = T.as_tensor_variable(condition)
        if c.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {c} ({c.type})")
        self.condition = c

    def __repr__(self) -> str:
        return f"until({self.condition})"
