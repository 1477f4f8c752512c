"""Graph-level GPU pieces: contexts by name, ``GpuArrayType``, ``as_gpuarray_variable`` and the
transfers ``GpuFromHost`` / ``HostFromGpu``.

A *context name* is a device name (``'opencl0:0'``, ``'cuda0'``) or ``None`` for the device that
``config.device`` names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.op import Op
from opcore.graph.type import Type
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable

from opcore_gpu_cuda.array import GpuArray, asarray
from opcore_gpu_cuda.drivers import GpuContext, open_context


def default_device() -> str:
    """The GPU device that ``config.device`` names; ``ValueError`` when it names the CPU."""
    from opcore.config import config

    dev = str(config.device)
    if not dev.startswith(("cuda", "opencl")):
        raise ValueError(f"config.device is {dev!r}, not a GPU: set OPCORE_FLAGS=device=cuda or "
                         "device=opencl0:0, or pass a context name")
    return dev


def get_context(name: str | None = None) -> GpuContext:
    """The driver context of ``name`` (``None``: ``config.device``), opened once and cached."""
    if isinstance(name, GpuContext):
        return name
    return open_context(name or default_device())


class GpuArrayVariable(TensorVariable):
    """A variable holding a :class:`GpuArray`; tensor operators apply to ``HostFromGpu(self)``
    (and ``gpu_lift`` cancels that transfer again)."""

    __hash__ = TensorVariable.__hash__

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable


class GpuArrayConstant(Constant):
    """A constant already on the device."""

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable


class GpuArrayType(Type):
    """Type of an n-d :class:`GpuArray` of ``dtype`` in context ``context_name``.

    >>> GpuArrayType('float32', (False, False), 'opencl0:0')
    GpuArrayType<opencl0:0>(float32, matrix)
    """

    variable_type = GpuArrayVariable
    constant_type = GpuArrayConstant

    def __init__(self, dtype: str, broadcastable, context_name: str | None = None,
                 name: str | None = None, shape=None) -> None:
        self.dtype = np.dtype(dtype).name
        if shape is None:
            shape = tuple(1 if b else None for b in broadcastable)
        self.shape = tuple(None if n is None else int(n) for n in shape)
        self.broadcastable = tuple(n == 1 for n in self.shape)
        self.ndim = len(self.broadcastable)
        self.context_name = context_name
        self.name = name

    @property
    def context(self) -> GpuContext:
        return get_context(self.context_name)

    def tensor_type(self) -> TensorType:
        """The host type with the same dtype and broadcast pattern."""
        return TensorType(self.dtype, shape=self.shape)

    def clone(self, dtype=None, broadcastable=None, context_name=None):
        if broadcastable is not None:
            return GpuArrayType(dtype or self.dtype, broadcastable,
                                context_name or self.context_name)
        return GpuArrayType(dtype or self.dtype, None, context_name or self.context_name,
                            shape=self.shape)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if isinstance(data, GpuArray):
            if data.dtype.name != self.dtype:
                if strict:
                    raise TypeError(f"{self}: expected dtype {self.dtype}, got {data.dtype}")
                data = asarray(data.get().astype(self.dtype), data.context)
        elif strict:
            raise TypeError(f"{self}: expected a GpuArray, got {type(data).__name__}")
        else:
            host = self.tensor_type().filter(data, allow_downcast=allow_downcast)
            data = asarray(host, self.context)
        if data.ndim != self.ndim:
            raise TypeError(f"{self}: expected {self.ndim} dimensions, got shape {data.shape}")
        for d, (s, n) in enumerate(zip(self.shape, data.shape)):
            if s is not None and s != n:
                kind = "is broadcastable" if s == 1 else f"must have length {s}"
                raise TypeError(f"{self}: dimension {d} {kind} but has length {n}")
        return data

    def as_tensor(self, var: Variable) -> Variable:
        """Used as a host tensor (``T.dot(x, W)``), a GPU variable reads as ``HostFromGpu``."""
        return host_from_gpu(var)

    def convert_variable(self, var: Variable) -> Variable | None:
        """A host tensor of the same dtype and rank becomes ``GpuFromHost(var)``."""
        t = getattr(var, "type", None)
        if isinstance(t, TensorType) and t.dtype == self.dtype and t.ndim == self.ndim:
            moved = GpuFromHost(self.context_name)(var)
            if moved.type == self or all(s is None for s in self.shape):
                return moved if moved.type == self else _Retype(self)(moved)
        return None

    def values_eq(self, a, b) -> bool:
        return np.array_equal(np.asarray(a), np.asarray(b))

    def values_eq_approx(self, a, b) -> bool:
        return np.allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)

    def __eq__(self, other: Any) -> bool:
        return (type(other) is type(self) and self.dtype == other.dtype
                and self.shape == other.shape
                and self.context_name == other.context_name)

    def __hash__(self) -> int:
        return hash((GpuArrayType, self.dtype, self.shape, self.context_name))

    def __str__(self) -> str:
        kind = {0: "scalar", 1: "vector", 2: "matrix"}.get(self.ndim, f"{self.ndim}d")
        return f"GpuArrayType<{self.context_name}>({self.dtype}, {kind})"

    __repr__ = __str__


class GpuFromHost(Op):
    """Copy a host tensor to the device ``context_name``."""

    __props__ = ("context_name",)

    def __init__(self, context_name: str | None = None) -> None:
        self.context_name = context_name

    def make_node(self, x: Any) -> Apply:
        from opcore.tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if not isinstance(x.type, TensorType):
            raise TypeError(f"GpuFromHost: expected a host tensor, got {x.type}")
        out = GpuArrayType(x.type.dtype, None, self.context_name, shape=x.type.shape)()
        return Apply(self, [x], [out])

    def perform(self, node, inputs, out) -> None:
        out[0][0] = asarray(inputs[0], get_context(self.context_name))

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def grad(self, inputs, grads):
        return [host_from_gpu(grads[0])]

    def __str__(self) -> str:
        return f"GpuFromHost<{self.context_name}>"


class HostFromGpu(Op):
    """Copy a device array back to the host."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        if not isinstance(getattr(x, "type", None), GpuArrayType):
            raise TypeError(f"HostFromGpu: expected a GpuArrayType variable, got {x!r}")
        return Apply(self, [x], [x.type.tensor_type()()])

    def perform(self, node, inputs, out) -> None:
        out[0][0] = inputs[0].get()

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def grad(self, inputs, grads):
        return [GpuFromHost(inputs[0].type.context_name)(grads[0])]

    def __str__(self) -> str:
        return "HostFromGpu(gpuarray)"


host_from_gpu = HostFromGpu()


class _Retype(Op):
    """Forget static shape information of a GPU variable (a view, no copy)."""

    __props__ = ("otype",)
    view_map = {0: [0]}

    def __init__(self, otype: GpuArrayType) -> None:
        self.otype = otype

    def make_node(self, x: Any) -> Apply:
        return Apply(self, [x], [self.otype()])

    def perform(self, node, inputs, out) -> None:
        out[0][0] = inputs[0]

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def grad(self, inputs, grads):
        return [grads[0]]


def as_gpuarray_variable(x: Any, context_name: str | None = None) -> Variable:
    """``x`` as a variable on the device: a GPU variable is returned as is (or moved between
    contexts through the host), ``HostFromGpu(y)`` becomes ``y``, anything else gets a
    ``GpuFromHost``."""
    if isinstance(getattr(x, "type", None), GpuArrayType):
        if x.type.context_name == context_name:
            return x
        return GpuFromHost(context_name)(host_from_gpu(x))
    owner = getattr(x, "owner", None)
    if owner is not None and isinstance(owner.op, HostFromGpu):
        inner = owner.inputs[0]
        if inner.type.context_name == context_name:
            return inner
    if isinstance(x, GpuArray):
        return GpuArrayType(x.dtype, None, context_name, shape=x.shape).make_constant(x)
    return GpuFromHost(context_name)(x)
