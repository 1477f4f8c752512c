"""The public API of opcore-gpu-cuda (stable names for users and other plugins)."""

from opcore_gpu_cuda.array import GpuArray, asarray, empty, zeros
from opcore_gpu_cuda.dialect import dtype_to_ctype, dtype_to_typecode
from opcore_gpu_cuda.drivers import GpuContext, GpuError
from opcore_gpu_cuda.kernels import GA_NO_ERROR, Kernel
from opcore_gpu_cuda.type import (
    GpuArrayType, GpuFromHost, HostFromGpu, as_gpuarray_variable, get_context, host_from_gpu,
)

__all__ = ["GA_NO_ERROR", "GpuArray", "GpuArrayType", "GpuContext", "GpuError", "GpuFromHost",
           "HostFromGpu", "Kernel", "as_gpuarray_variable", "asarray", "dtype_to_ctype",
           "dtype_to_typecode", "empty", "get_context", "host_from_gpu", "zeros"]
