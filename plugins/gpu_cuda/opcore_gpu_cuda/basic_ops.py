"""Theano's ``theano.gpuarray.basic_ops`` names, so ported GPU ops change only their imports."""

from opcore_gpu_cuda.kernels import GA_NO_ERROR, Kernel
from opcore_gpu_cuda.type import (
    GpuFromHost, HostFromGpu, as_gpuarray_variable, get_context, host_from_gpu,
)


def infer_context_name(*vars) -> str | None:
    """The context name of the first GPU variable among ``vars`` (``None``: the default)."""
    for v in vars:
        name = getattr(getattr(v, "type", None), "context_name", None)
        if name is not None:
            return name
    return None


__all__ = ["GA_NO_ERROR", "GpuFromHost", "HostFromGpu", "Kernel", "as_gpuarray_variable",
           "get_context", "host_from_gpu", "infer_context_name"]
