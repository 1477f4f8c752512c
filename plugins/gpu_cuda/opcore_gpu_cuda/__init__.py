"""opcore-gpu-cuda: GPU arrays and the libgpuarray kernel protocol on CUDA and OpenCL.

Public API (``opcore_gpu_cuda.api`` re-exports it for other plugins): ``GpuArray``,
``GpuArrayType``, ``as_gpuarray_variable``, ``get_context``, ``Kernel``, ``GpuFromHost``,
``HostFromGpu``; the pygpu-compatible subset lives in ``opcore_gpu_cuda.pygpu``.
"""

from opcore_gpu_cuda.api import *  # noqa: F401,F403
from opcore_gpu_cuda.api import __all__  # noqa: F401
