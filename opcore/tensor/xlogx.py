"""``xlogx`` and ``xlogy0`` (Theano's ``theano.tensor.xlogx`` module).

As in Theano, ``opcore.tensor.xlogx`` is this module; it is also callable, so both
``T.xlogx.xlogx(x)`` and ``T.xlogx(x)`` work.

>>> import opcore.tensor as T, numpy as np
>>> T.xlogx(T.as_tensor_variable(np.array([0., 1.]))).eval().tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import sys
import types

from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.math import eq, log, switch
from opcore.tensor.variable import TensorVariable


def xlogx(x: Any) -> TensorVariable:
    """``x * log(x)``, with ``0`` where ``x == 0``; float output."""
    x = as_tensor_variable(x)
    return switch(eq(x, 0), 0, x * log(x))


def xlogy0(x: Any, y: Any) -> TensorVariable:
    """``x * log(y)``, with ``0`` where ``x == 0``; float output."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return switch(eq(x, 0), 0, x * log(y))


__all__ = ["xlogx", "xlogy0"]


class _CallableModule(types.ModuleType):
    """Lets ``T.xlogx(x)`` call :func:`xlogx` although ``T.xlogx`` is this module."""

    def __call__(self, x: Any):
        return xlogx(x)


sys.modules[__name__].__class__ = _CallableModule
