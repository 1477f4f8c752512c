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


_GPU_SHARED_DTYPES = ("float32", "float64")


def gpuarray_shared_constructor(value: Any, name: str | None = None, strict: bool = False,
                                allow_downcast: Any = None, borrow: bool = False,
                                broadcastable=None, target: Any = None,
                                **kwargs: Any) -> GpuArraySharedVariable:
    """``opcore.shared`` on the device: float NumPy arrays (and ``GpuArray`` values) go to the
    device named by ``target`` (default ``config.device``) when that is a GPU whose driver opens;
    anything else raises ``TypeError`` so the next constructor (the host one) takes it.
    ``target="cpu"`` keeps a value on the host."""
    from opcore.config import config

    ctx_name = str(config.device) if target is None else str(target)
    if not ctx_name.startswith(("cuda", "opencl")):
        raise TypeError(f"device {ctx_name!r} is not a GPU")
    if kwargs.get("shape") is not None:
        raise TypeError("shape= is handled by the host constructor")
    if isinstance(value, GpuArray):
        return gpu_shared(value if borrow else value.copy(), name, value.context.name,
                          broadcastable)
    if not isinstance(value, np.ndarray) or value.dtype.name not in _GPU_SHARED_DTYPES:
        raise TypeError("only float32/float64 NumPy arrays live on the device")
    from opcore_gpu_cuda.plugin import gpu_available

    if target is None and not gpu_available()[0]:
        raise TypeError(f"device {ctx_name!r} unavailable")
    # target=None: the type names no context (= config.device), like the variables gpu_lift
    # creates, so the transfers around the shared variable cancel
    return gpu_shared(value, name, None if target is None else ctx_name, broadcastable)


_registered = False


def register_shared_constructor() -> None:
    """Put :func:`gpuarray_shared_constructor` first in ``opcore.shared``'s list (once)."""
    global _registered
    if not _registered:
        from opcore.compile.sharedvalue import shared_constructor

        shared_constructor(gpuarray_shared_constructor)
        _registered = True
