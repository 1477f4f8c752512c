"""The Python side of the C API header (``include/gpuarray_api.h``): the compiled host code of a
GPU op calls these for array descriptions, allocation, kernel launches and syncs."""

from __future__ import annotations

from typing import Any

from opcore_gpu_cuda import array as _array
from opcore_gpu_cuda.array import GpuArray
from opcore_gpu_cuda.dialect import typecode_to_dtype
from opcore_gpu_cuda.drivers import GpuContext


def describe(arr: Any) -> tuple:
    """``(buffer, offset, shape, strides, typecode, context)`` of a GpuArray."""
    if not isinstance(arr, GpuArray):
        raise TypeError(f"expected a GpuArray, got {type(arr).__name__}")
    return arr.data, arr.offset, arr.shape, arr.strides, arr.typecode, arr.context


def zeros(shape: tuple, typecode: int, ctx: GpuContext) -> GpuArray:
    return _array.zeros(shape, typecode_to_dtype(typecode), ctx)


def empty(shape: tuple, typecode: int, ctx: GpuContext) -> GpuArray:
    return _array.empty(shape, typecode_to_dtype(typecode), ctx)


def sync(ctx: GpuContext) -> None:
    ctx.sync()


def launch(kernel: Any, ctx: GpuContext, gs: tuple, ls: tuple, shmem: int, args: tuple) -> None:
    kernel.call(ctx, len(gs), list(gs), list(ls), shmem, *args)
