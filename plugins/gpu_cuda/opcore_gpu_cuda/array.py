"""``GpuArray``: a strided view of device memory (buffer + byte offset + shape + strides + dtype).

Views (slicing, transposes, dimshuffles, reshapes of contiguous arrays) share the buffer and copy
nothing.  ``get()`` reads the bytes the view spans and rebuilds it on the host with NumPy strides.

>>> from opcore_gpu_cuda import array, get_context          # doctest: +SKIP
>>> a = array.asarray(np.arange(6.0).reshape(2, 3), get_context('opencl0:0'))  # doctest: +SKIP
>>> a.T[1:].get()                                            # doctest: +SKIP
array([[1., 4.], [2., 5.]])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore_gpu_cuda.dialect import dtype_to_typecode
from opcore_gpu_cuda.drivers import GpuContext


def _c_strides(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    strides, acc = [], itemsize
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(int(s), 1)
    return tuple(reversed(strides))


class GpuArray:
    """An n-d array in device memory.  ``ga`` is the array itself, for the C-API spelling
    (``x->ga.data``, ``x->ga.offset``) in Python code."""

    __array_priority__ = 1000

    def __init__(self, context: GpuContext, data: Any, offset: int, shape: Sequence[int],
                 strides: Sequence[int], dtype: Any, base: "GpuArray | None" = None) -> None:
        self.context = context
        self.data = data
        self.offset = int(offset)
        self.shape = tuple(int(s) for s in shape)
        self.strides = tuple(int(s) for s in strides)
        self.dtype = np.dtype(dtype)
        self.base = base

    # -- properties -----------------------------------------------------------------------------
    @property
    def ga(self) -> "GpuArray":
        return self

    @property
    def dimensions(self) -> tuple[int, ...]:
        return self.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def typecode(self) -> int:
        return dtype_to_typecode(self.dtype)

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def c_contiguous(self) -> bool:
        if self.size <= 1:
            return True
        expect = _c_strides(self.shape, self.itemsize)
        return all(s == e for s, e, n in zip(self.strides, expect, self.shape) if n != 1)

    @property
    def flags(self) -> dict:
        return {"C_CONTIGUOUS": self.c_contiguous}

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d GpuArray")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"GpuArray({self.get()!r}, context={self.context.name!r})"

    # -- host transfers -------------------------------------------------------------------------
    def _span(self) -> tuple[int, int]:
        """Byte range [lo, hi) of the buffer this view touches, relative to ``offset``."""
        lo = hi = 0
        for n, s in zip(self.shape, self.strides):
            if n == 0:
                return 0, 0
            if s > 0:
                hi += (n - 1) * s
            else:
                lo += (n - 1) * s
        return lo, hi + self.itemsize

    def get(self) -> np.ndarray:
        """A NumPy copy of the array (waits for pending kernels)."""
        lo, hi = self._span()
        raw = np.empty(max(hi - lo, 0), dtype=np.uint8)
        self.context.read(raw, self.data, self.offset + lo)
        if self.size == 0:
            return np.empty(self.shape, self.dtype)
        view = np.ndarray(self.shape, self.dtype, raw, -lo, self.strides)
        return np.array(view, copy=True)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.get()
        return out if dtype is None else out.astype(dtype)

    def write(self, host: np.ndarray) -> None:
        """Copy ``host`` (same shape) into this array."""
        host = np.asarray(host, dtype=self.dtype)
        if host.shape != self.shape:
            raise ValueError(f"GpuArray.write: shape {host.shape} != {self.shape}")
        if self.c_contiguous:
            self.context.write(self.data, self.offset, np.ascontiguousarray(host))
        else:
            tmp = asarray(host, self.context)
            from opcore_gpu_cuda.kernels import elemwise_copy

            elemwise_copy(tmp, self)

    # -- copies and views -----------------------------------------------------------------------
    def copy(self, order: str = "C") -> "GpuArray":
        """A new C-contiguous array with the same values."""
        out = empty(self.shape, self.dtype, self.context)
        if self.c_contiguous:
            self.context.copy_bytes(out.data, 0, self.data, self.offset, self.nbytes)
        else:
            from opcore_gpu_cuda.kernels import elemwise_copy

            elemwise_copy(self, out)
        return out

    def _view(self, offset: int, shape, strides) -> "GpuArray":
        return GpuArray(self.context, self.data, offset, shape, strides, self.dtype,
                        base=self.base or self)

    def transpose(self, *axes: int) -> "GpuArray":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} do not match {self.ndim} dimensions")
        return self._view(self.offset, [self.shape[a] for a in axes],
                          [self.strides[a] for a in axes])

    @property
    def T(self) -> "GpuArray":
        return self.transpose()

    def dimshuffle(self, new_order: Sequence[Any]) -> "GpuArray":
        """Theano's dimshuffle: a permutation with ``'x'`` for new length-1 dimensions; dropped
        dimensions must have length 1."""
        kept = [d for d in new_order if d != "x"]
        for d in range(self.ndim):
            if d not in kept and self.shape[d] != 1:
                raise ValueError(f"dimshuffle {tuple(new_order)}: cannot drop dimension {d} of "
                                 f"length {self.shape[d]}")
        shape = [1 if d == "x" else self.shape[d] for d in new_order]
        strides = [0 if d == "x" else self.strides[d] for d in new_order]
        return self._view(self.offset, shape, strides)

    def reshape(self, shape: Sequence[int]) -> "GpuArray":
        shape = list(shape)
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
            shape[shape.index(-1)] = self.size // max(known, 1)
        if int(np.prod(shape, dtype=np.int64)) != self.size:
            raise ValueError(f"cannot reshape GpuArray of shape {self.shape} into {tuple(shape)}")
        src = self if self.c_contiguous else self.copy()
        return src._view(src.offset, shape, _c_strides(shape, self.itemsize))

    def __getitem__(self, key: Any) -> "GpuArray":
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            fill = self.ndim - (len(key) - 1 - sum(k is None for k in key))
            key = key[:i] + (slice(None),) * fill + key[i + 1:]
        offset, shape, strides, dim = self.offset, [], [], 0
        for k in key:
            if k is None:
                shape.append(1)
                strides.append(0)
                continue
            if dim >= self.ndim:
                raise IndexError(f"too many indices for a {self.ndim}-d GpuArray")
            n, s = self.shape[dim], self.strides[dim]
            if isinstance(k, slice):
                start, stop, step = k.indices(n)
                length = len(range(start, stop, step))
                offset += start * s
                shape.append(length)
                strides.append(s * step)
            elif isinstance(k, (int, np.integer)):
                i = int(k) + n if k < 0 else int(k)
                if not 0 <= i < n:
                    raise IndexError(f"index {k} out of bounds for axis {dim} of length {n}")
                offset += i * s
            else:
                raise IndexError(f"GpuArray supports basic indexing only, got {type(k).__name__}")
            dim += 1
        shape += self.shape[dim:]
        strides += self.strides[dim:]
        return self._view(offset, shape, strides)


def empty(shape: Sequence[int], dtype: Any, context: GpuContext) -> GpuArray:
    """A new C-contiguous uninitialised array."""
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimensions are not allowed: {shape}")
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return GpuArray(context, context.alloc(nbytes), 0, shape, _c_strides(shape, dtype.itemsize),
                    dtype)


def zeros(shape: Sequence[int], dtype: Any, context: GpuContext) -> GpuArray:
    """A new C-contiguous array of zeros (libgpuarray's ``pygpu_zeros``)."""
    out = empty(shape, dtype, context)
    context.memset0(out.data, 0, out.nbytes)
    return out


def asarray(value: Any, context: GpuContext, dtype: Any = None) -> GpuArray:
    """``value`` on the device (a GpuArray of the same context is returned as is)."""
    if isinstance(value, GpuArray):
        if value.context is not context:
            value = value.get()
        elif dtype is None or np.dtype(dtype) == value.dtype:
            return value
        else:
            value = value.get()
    host = np.asarray(value, dtype=dtype, order="C")
    out = empty(host.shape, host.dtype, context)
    context.write(out.data, 0, host)
    return out
