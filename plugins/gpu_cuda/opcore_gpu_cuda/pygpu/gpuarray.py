"""``pygpu.gpuarray``: the array class, type codes and constructors with pygpu's signatures."""

from __future__ import annotations

from typing import Any

from opcore_gpu_cuda import array as _array
from opcore_gpu_cuda.array import GpuArray
from opcore_gpu_cuda.dialect import (
    GA_BOOL, GA_BYTE, GA_DOUBLE, GA_FLOAT, GA_HALF, GA_INT, GA_LONG, GA_SHORT, GA_SIZE,
    GA_SSIZE, GA_UBYTE, GA_UINT, GA_ULONG, GA_USHORT, dtype_to_ctype, dtype_to_typecode,
    typecode_to_dtype,
)
from opcore_gpu_cuda.drivers import GpuContext

SIZE, SSIZE = GA_SIZE, GA_SSIZE
BOOL, BYTE, UBYTE, SHORT, USHORT = GA_BOOL, GA_BYTE, GA_UBYTE, GA_SHORT, GA_USHORT
INT, UINT, LONG, ULONG = GA_INT, GA_UINT, GA_LONG, GA_ULONG
FLOAT, DOUBLE, HALF = GA_FLOAT, GA_DOUBLE, GA_HALF

__all__ = ["GpuArray", "GpuContext", "SIZE", "SSIZE", "asarray", "dtype_to_ctype",
           "dtype_to_typecode", "empty", "typecode_to_dtype", "zeros"]


def _ctx(context: Any) -> GpuContext:
    from opcore_gpu_cuda.type import get_context

    return get_context(context)


def empty(shape, dtype: Any = "float64", order: str = "C", context: Any = None,
          cls: Any = None) -> GpuArray:
    """``pygpu.empty(shape, dtype=, context=)``."""
    return _array.empty(shape, dtype, _ctx(context))


def zeros(shape, dtype: Any = "float64", order: str = "C", context: Any = None,
          cls: Any = None) -> GpuArray:
    """``pygpu.zeros(shape, dtype=, context=)``."""
    return _array.zeros(shape, dtype, _ctx(context))


def asarray(a: Any, dtype: Any = None, order: str = "C", context: Any = None) -> GpuArray:
    """``pygpu.asarray(a, dtype=, context=)``."""
    if context is None and isinstance(a, GpuArray):
        context = a.context
    return _array.asarray(a, _ctx(context), dtype)
