"""``opcore gpu-info``: what the GPU plugin can see (drivers, devices, NVRTC)."""

from __future__ import annotations

from typing import Any


def gpu_report() -> list[tuple[str, str]]:
    """(topic, detail) lines: OpenCL platforms and devices, CUDA devices, NVRTC version."""
    lines: list[tuple[str, str]] = []
    try:
        import pyopencl as cl

        plats = cl.get_platforms()
        for p, plat in enumerate(plats):
            for d, dev in enumerate(plat.get_devices()):
                lines.append((f"opencl{p}:{d}", f"{plat.name}: {dev.name}"))
        if not plats:
            lines.append(("OpenCL", "pyopencl installed, no platform (install pocl-opencl-icd)"))
    except Exception as exc:
        lines.append(("OpenCL", f"unavailable: {type(exc).__name__}: {exc}"))
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
        for i in range(n):
            lines.append((f"cuda{i}", str(cupy.cuda.runtime.getDeviceProperties(i)["name"])))
        lines.append(("CUDA driver", str(cupy.cuda.runtime.driverGetVersion())))
    except Exception as exc:
        lines.append(("CUDA", f"unavailable: {type(exc).__name__}: {exc}"))
    from opcore_gpu_cuda import nvrtc

    ver = nvrtc.version()
    lines.append(("NVRTC", f"{ver[0]}.{ver[1]}" if ver else
                  "not installed (pip install nvidia-cuda-nvrtc-cu12)"))
    return lines


def run_gpu_info(args: Any) -> int:
    for topic, detail in gpu_report():
        print(f"{topic:<14} {detail}")
    return 0
