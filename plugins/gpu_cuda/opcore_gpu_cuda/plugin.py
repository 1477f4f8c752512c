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
    from opcore_gpu_cuda.shared import register_shared_constructor

    register_shared_constructor()


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    from opcore_gpu_cuda.rewrites import cancel_transfers, lift_to_gpu

    # after fusion: a fused group becomes one kernel
    rewrites.declare_phase("gpu_lift", after="fusion")
    rewrites.register("gpu_lift_nodes", lift_to_gpu, "gpu", phase="gpu_lift")
    rewrites.register("gpu_cancel_transfers", cancel_transfers, "gpu", phase="gpu_lift",
                      after=("gpu_lift_nodes",))


@hookimpl
def opcore_register_impls(impls: Any) -> None:
    from opcore_gpu_cuda import nnet_impls, ops, random_impls

    ops.register(impls)
    nnet_impls.register(impls)
    random_impls.register(impls)


@hookimpl
def opcore_register_commands(commands: Any) -> None:
    from opcore_gpu_cuda.info import run_gpu_info

    commands.add("gpu-info", "GPU drivers, devices and NVRTC (opcore-gpu-cuda)", run_gpu_info)


@hookimpl
def opcore_doctor_checks(report: Any) -> None:
    from opcore_gpu_cuda.info import doctor_lines

    for topic, status, detail, fix in doctor_lines():
        report.add(topic, status, detail, fix)
