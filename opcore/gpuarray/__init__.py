"""Theano's ``theano.gpuarray``: the GPU backend's names, served by the ``opcore-gpu-cuda`` plugin.

``pygpu_activated`` is True when the GPU backend is installed, ``config.device`` names a GPU and
its driver opens (Theano's meaning: the new GPU backend is in use).  Other names (``GpuArrayType``,
``GpuFromHost``, ``HostFromGpu``, ``as_gpuarray_variable``, ``get_context``, the ``pygpu``-
compatible array layer...) come from the plugin's public API (``opcore_gpu_cuda.api``, reached
through the ``opcore.gpuarray.backend`` namespace); without the plugin they raise
``AttributeError`` saying which package to install.  :mod:`opcore.gpuarray.dnn` reports cuDNN as
absent: opcore's GPU backend runs its own convolution and pooling kernels.

>>> import opcore.gpuarray as gpuarray, opcore
>>> opcore.config.device == 'cpu' and gpuarray.pygpu_activated
False
>>> gpuarray.dnn.dnn_present()
False
"""

from __future__ import annotations

from typing import Any

from opcore.config import config
from opcore.gpuarray import dnn  # noqa: F401
from opcore.plugins import get_host

BACKEND_NAMESPACE = "opcore.gpuarray.backend"


def _pygpu_activated() -> bool:
    if not str(config.device).startswith(("cuda", "opencl")):
        return False
    host = get_host().ensure_loaded()
    backend = host.backends.get("gpu")
    if backend is None:
        return False
    ok, _ = host.health(backend)
    return bool(ok)


def use(device: str, force: bool = False, preallocate: Any = None,
        move_shared_to_gpu: bool = True) -> None:
    """Select the GPU (Theano's ``theano.gpuarray.use``): sets ``config.device``."""
    config.device = device


def __getattr__(name: str) -> Any:
    if name == "pygpu_activated":
        return _pygpu_activated()
    if name.startswith("__"):
        raise AttributeError(name)
    host = get_host().ensure_loaded()
    if BACKEND_NAMESPACE not in host.namespaces.names():
        raise AttributeError(f"opcore.gpuarray.{name}: the GPU backend is the opcore-gpu-cuda "
                             "plugin, which is not installed (pip install opcore-gpu-cuda)")
    api = host.namespaces.resolve(BACKEND_NAMESPACE)
    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"opcore.gpuarray has no attribute {name!r} (the GPU backend "
                             f"opcore-gpu-cuda does not provide it)") from None
