"""Shared variables holding NumPy arrays."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore.compile.sharedvalue import SharedVariable, shared_constructor
from opcore.tensor.type import TensorType
from opcore.tensor.variable import _TensorMethods
from opcore.config import config


class TensorSharedVariable(_TensorMethods, SharedVariable):
    """A shared n-d array: use it like any tensor variable."""

    __slots__ = ()
    __hash__ = SharedVariable.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


@shared_constructor
def tensor_constructor(value: Any, name: str | None = None, strict: bool = False,
                       allow_downcast: bool | None = None, borrow: bool = False,
                       shape: Sequence[int | None] | None = None,
                       broadcastable: Sequence[bool] | None = None,
                       target: str = "cpu") -> TensorSharedVariable:
    """Shared arrays: Python numbers and lists become arrays; no dimension is broadcastable
    unless ``broadcastable``/``shape`` says so (a shared value may change shape)."""
    if isinstance(value, (np.ndarray, np.generic)):
        arr = value
    elif isinstance(value, (int, float, complex, bool, list, tuple)):
        arr = np.asarray(value)
        if isinstance(value, float) or arr.dtype == np.float64 and not isinstance(value, (list, tuple)):

            arr = arr.astype(config.floatX) if config.floatX != "float64" and isinstance(value, float) else arr
    else:
        raise TypeError("not an array")
    if shape is None:
        shape = tuple(1 if b else None for b in broadcastable) if broadcastable else (None,) * arr.ndim
    t = TensorType(arr.dtype.name, shape=shape)
    return TensorSharedVariable(t, arr, name=name, strict=strict, allow_downcast=allow_downcast,
                                borrow=borrow)
