"""opcore-gpu-cuda: GPU arrays and the libgpuarray kernel protocol on CUDA and OpenCL.

Public API (``opcore_gpu_cuda.api`` re-exports it for other plugins): ``GpuArray``,
``GpuArrayType``, ``as_gpuarray_variable``, ``get_context``, ``Kernel``, ``GpuFromHost``,
``HostFromGpu``; the pygpu-compatible subset lives in ``opcore_gpu_cuda.pygpu``.  The names are
imported from ``api`` at first use: the plugin's entry point (``opcore_gpu_cuda.plugin``) imports
this package in every process that loads plugins, with or without a GPU.
"""

from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    api = import_module("opcore_gpu_cuda.api")
    if name != "__all__" and name not in api.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(api, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(import_module("opcore_gpu_cuda.api").__all__))
