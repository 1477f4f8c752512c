"""Entry point of ``opcore-gpu-cuda``: the ``gpu`` backend, its ``gpu_lift`` rewrites, the
device shared-variable constructor, the nnet impls, ``opcore gpu-info`` and ``opcore doctor``
lines.  Nothing here imports a GPU driver until it is used."""

from __future__ import annotations

import sys
from typing import Any

from opcore.plugins import Backend
from opcore.plugins.hookspecs import hookimpl

GPU_PRIORITY = 20  # above cpu_c (10): chosen by FAST_RUN whenever config.device names a GPU


def gpu_available() -> tuple[bool, str]:
    """Healthy when ``config.device`` names a GPU whose driver opens."""
    from opcore.config import config

    dev = str(config.device)
    if not dev.startswith(("cuda", "opencl")):
        # "inactive:" tells the host this is configuration, not a fault: no warning, no PROBLEM
        return False, f"inactive: config.device={dev!r} is not a GPU (set OPCORE_FLAGS=" \
                      "device=cuda or device=opencl0:0)"
    try:
        from opcore_gpu_cuda.drivers import open_context

        open_context(dev)
    except Exception as exc:
        return False, f"device {dev!r} unavailable: {exc}"
    return True, ""


def _linker(mode: Any) -> Any:
    from opcore.plugins.manager import get_host

    from opcore_gpu_cuda.linker import GpuLinker

    return GpuLinker(get_host().impls.lookup)


def _supports(op: Any) -> tuple[bool, str]:
    from opcore.plugins.manager import get_host

    # a GpuRule (core and nnet ops), or the op's own gpu_kernels + c_code (host code)
    if get_host().impls.lookup("gpu", op) is not None:
        return True, ""
    return False, f"no GPU kernel for {op}"


def _owns_type(vtype: Any) -> bool:
    # no GpuArrayType can exist before its module is imported: don't import it to find out
    module = sys.modules.get("opcore_gpu_cuda.type")
    return module is not None and isinstance(vtype, module.GpuArrayType)


GPU_BACKEND = Backend(
    name="gpu", priority=GPU_PRIORITY, available=gpu_available, linker_factory=_linker,
    doc="GPU through the libgpuarray kernel protocol (CUDA via CuPy/NVRTC, OpenCL via PyOpenCL)",
    supports=_supports, owns_type=_owns_type,
)


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    # what opcore.gpuarray (Theano's theano.gpuarray) forwards to
    namespaces.add("opcore.gpuarray.backend", "opcore_gpu_cuda.api")


@hookimpl
def opcore_register_backends(backends: Any) -> None:
    backends.register(GPU_BACKEND)
    # with the backend, the shared-variable constructor: ``opcore.shared`` loads the plugins
    # first when config.device is not "cpu", so float arrays then live on the device
    global _shared_registered
    if not _shared_registered:
        from opcore.compile.sharedvalue import shared_constructor

        shared_constructor(gpu_shared_constructor)
        _shared_registered = True


_shared_registered = False


def gpu_shared_constructor(value: Any, name: str | None = None, strict: bool = False,
                           allow_downcast: Any = None, borrow: bool = False,
                           broadcastable: Any = None, target: Any = None, **kwargs: Any) -> Any:
    """``opcore.shared`` on the device: :func:`opcore_gpu_cuda.shared.gpuarray_shared_constructor`,
    whose module (GPU arrays and types) is imported only when the target names a GPU; for any
    other target it raises ``TypeError`` at once, so the host constructor takes the value."""
    from opcore.config import config

    ctx_name = str(config.device) if target is None else str(target)
    if not ctx_name.startswith(("cuda", "opencl")):
        raise TypeError(f"device {ctx_name!r} is not a GPU")
    from opcore_gpu_cuda.shared import gpuarray_shared_constructor

    return gpuarray_shared_constructor(value, name, strict, allow_downcast, borrow,
                                       broadcastable, target, **kwargs)


def lift_to_gpu(fgraph: Any, node: Any) -> list | None:
    """:func:`opcore_gpu_cuda.rewrites.lift_to_gpu`, imported when a ``gpu`` mode first runs it
    (the rewrites import the GPU ops: a process that never uses the GPU does not)."""
    from opcore_gpu_cuda.rewrites import lift_to_gpu as rewrite

    return rewrite(fgraph, node)


def cancel_transfers(fgraph: Any, node: Any) -> list | None:
    """:func:`opcore_gpu_cuda.rewrites.cancel_transfers`, imported at first use."""
    from opcore_gpu_cuda.rewrites import cancel_transfers as rewrite

    return rewrite(fgraph, node)


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    # after fusion: a fused group becomes one kernel
    rewrites.declare_phase("gpu_lift", after="fusion")
    rewrites.register("gpu_lift_nodes", lift_to_gpu, "gpu", phase="gpu_lift")
    rewrites.register("gpu_cancel_transfers", cancel_transfers, "gpu", phase="gpu_lift",
                      after=("gpu_lift_nodes",))


def _register_impls(impls: Any) -> None:
    from opcore_gpu_cuda import nnet_impls, ops, random_impls

    ops.register(impls)
    nnet_impls.register(impls)
    random_impls.register(impls)


@hookimpl
def opcore_register_impls(impls: Any) -> None:
    # the GPU rules import the kernels and opcore-nnet's API: only when backend gpu needs them
    impls.defer("gpu", _register_impls)


@hookimpl
def opcore_register_commands(commands: Any) -> None:
    commands.add("gpu-info", "GPU drivers, devices and NVRTC (opcore-gpu-cuda)",
                 "opcore_gpu_cuda.info:run_gpu_info")


@hookimpl
def opcore_doctor_checks(report: Any) -> None:
    from opcore_gpu_cuda.info import doctor_lines

    for topic, status, detail, fix in doctor_lines():
        report.add(topic, status, detail, fix)
