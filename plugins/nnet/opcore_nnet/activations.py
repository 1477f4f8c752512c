"""Elementwise activations built from the core's scalar ops, so they fuse with their neighbours.

``sigmoid`` and ``softplus`` are the core's own (stable) scalar ops; the others are short
expressions of core elementwise ops, so their gradients and C code come from the core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.tensor.basic import as_tensor_variable

__all__ = ["sigmoid", "softplus", "softsign", "ultra_fast_sigmoid", "hard_sigmoid", "relu", "elu",
           "selu", "scalar_sigmoid"]

sigmoid = T.sigmoid
softplus = T.softplus
scalar_sigmoid = T.sigmoid


def ultra_fast_sigmoid(x: Any) -> Any:
    """Theano's piecewise approximation of the sigmoid (max error about 2e-2)."""
    x = as_tensor_variable(x)
    h = 0.5 * x
    a = abs(h)
    z = T.switch(a < 1.7, 1.5 * a / (1.0 + a),
                 T.switch(a < 3.0, 0.935409070603099 + 0.0458812946797165 * (a - 1.7),
                          0.99505475368673))
    z = T.switch(h < 0, -z, z)
    return 0.5 * z + 0.5


def hard_sigmoid(x: Any) -> Any:
    """``clip(0.2 * x + 0.5, 0, 1)``."""
    x = as_tensor_variable(x)
    return T.clip(0.2 * x + 0.5, 0.0, 1.0)


def relu(x: Any, alpha: float | Any = 0) -> Any:
    """``max(x, 0)``; with ``alpha``, the leaky form ``x if x > 0 else alpha * x``.

    As in Theano, ``relu`` of a NumPy array (``alpha=0``) is computed at once and returns an
    array (Theano's relu is plain arithmetic; Lasagne's tests rely on it).
    """
    if isinstance(alpha, (int, float)) and alpha == 0:
        if not isinstance(x, (np.ndarray, np.generic)):
            x = as_tensor_variable(x)
        return 0.5 * (x + abs(x))
    x = as_tensor_variable(x)
    f1 = 0.5 * (1 + alpha)
    f2 = 0.5 * (1 - alpha)
    return f1 * x + f2 * abs(x)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    x = as_tensor_variable(x)
    return T.switch(x > 0, x, alpha * T.expm1(x))


def selu(x: Any) -> Any:
    """Scaled ELU with the self-normalising constants."""
    return 1.0507009873554805 * elu(x, 1.6732632423543772)


def softsign(x: Any) -> Any:
    """``x / (1 + |x|)``."""
    x = as_tensor_variable(x)
    return x / (1.0 + abs(x))
