"""A pygpu-compatible subset, so GPU ops written for Theano's pygpu run after changing imports::

    from opcore_gpu_cuda import pygpu
    from opcore_gpu_cuda.pygpu import gpuarray, elemwise
"""

from opcore_gpu_cuda.pygpu import elemwise, gpuarray
from opcore_gpu_cuda.pygpu.gpuarray import GpuArray, asarray, empty, zeros

__all__ = ["GpuArray", "asarray", "elemwise", "empty", "gpuarray", "zeros"]
