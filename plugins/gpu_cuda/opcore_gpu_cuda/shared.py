"""Shared variables whose value lives on the device: ``gpu_shared(value, name=None)``.

The variable has a ``GpuArrayType``; used in tensor expressions it reads as ``HostFromGpu(W)`` and
an update ``W - lr * g`` is moved back with ``GpuFromHost``.  After ``gpu_lift`` both transfers
cancel, so a training step keeps its weights on the device (no host round trip per call).

>>> W = gpu_shared(np.zeros((3, 2), 'float32'), name='W')      # doctest: +SKIP
>>> f = opcore.function([x], cost, updates=[(W, W - 0.1 * opcore.grad(cost, W))])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.compile.sharedvalue import SharedVariable
from opcore.tensor.variable import TensorVariable

from opcore_gpu_cuda.array import GpuArray
from opcore_gpu_cuda.type import GpuArrayType


class GpuArraySharedVariable(TensorVariable, SharedVariable):
    """A shared variable holding a :class:`GpuArray`; tensor operators work on it."""

    __hash__ = SharedVariable.__hash__

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """A NumPy copy (``return_internal_type=True``: the GpuArray itself, when borrowing)."""
        v = self.container[0]
        if return_internal_type:
            return v if borrow else v.copy()
        return v.get()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        self.container[0] = self.type.filter(value)


def gpu_shared(value: Any, name: str | None = None, context_name: str | None = None,
               broadcastable=None) -> GpuArraySharedVariable:
    """A shared variable on the device ``context_name`` (``None``: ``config.device``)."""
    if isinstance(value, GpuArray):
        ndim, dtype = value.ndim, value.dtype
    else:
        value = np.asarray(value)
        ndim, dtype = value.ndim, value.dtype
    bcast = tuple(broadcastable) if broadcastable is not None else (False,) * ndim
    t = GpuArrayType(dtype.name, bcast, context_name)
    var = GpuArraySharedVariable.__new__(GpuArraySharedVariable)
    SharedVariable.__init__(var, t, t.filter(value), name=name, borrow=True)
    return var
