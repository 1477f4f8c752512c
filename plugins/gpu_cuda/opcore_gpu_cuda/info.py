"""``opcore gpu-info`` and the plugin's ``opcore doctor`` lines: what the GPU plugin can see
(drivers, devices, NVRTC and whether it suits the CUDA driver)."""

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


def nvrtc_driver_check(nvrtc_ver: tuple[int, int] | None,
                       driver: int | None) -> tuple[str, str, str]:
    """``(status, detail, fix)`` for an NVRTC version against a CUDA driver version (CUDA's
    encoding, ``12040`` = 12.4; ``None`` = no driver).  A newer NVRTC major than the driver's
    cannot work; a newer minor makes PTX the driver cannot load (cubin still loads)."""
    if nvrtc_ver is None:
        return ("note", "NVRTC not installed: no CUDA kernels, no sm_75/sm_90 compile checks",
                "pip install nvidia-cuda-nvrtc-cu12")
    nv = f"{nvrtc_ver[0]}.{nvrtc_ver[1]}"
    if driver is None:
        return "ok", f"NVRTC {nv} (no CUDA driver: compile checks only)", ""
    dmaj, dmin = driver // 1000, (driver % 1000) // 10
    pin = f"pip install 'nvidia-cuda-nvrtc-cu{dmaj}=={dmaj}.{dmin}.*'"
    if nvrtc_ver[0] > dmaj:
        return ("problem", f"NVRTC {nv} is newer than the CUDA driver ({dmaj}.{dmin}): its "
                f"kernels will not load", pin + " or upgrade the NVIDIA driver")
    if nvrtc_ver > (dmaj, dmin):
        return ("note", f"NVRTC {nv} is newer than the CUDA driver ({dmaj}.{dmin}): PTX it "
                f"makes does not load there, cubin does", pin)
    return "ok", f"NVRTC {nv}, CUDA driver {dmaj}.{dmin}: compatible", ""


def doctor_lines() -> list[tuple[str, str, str, str]]:
    """``(topic, status, detail, fix)`` lines for ``opcore doctor``."""
    from opcore.config import config

    from opcore_gpu_cuda import nvrtc

    out: list[tuple[str, str, str, str]] = []
    driver = None
    for topic, detail in gpu_report():
        if topic == "NVRTC":
            continue
        if topic == "CUDA driver":
            driver = int(detail)
            continue
        if detail.startswith("unavailable") or "no platform" in detail:
            fix = ("pip install cupy-cuda12x (needs an NVIDIA driver)" if topic == "CUDA" else
                   "pip install pyopencl, and an ICD (apt install pocl-opencl-icd)")
            out.append((f"GPU: {topic}", "note", detail, fix))
        else:
            out.append((f"GPU device {topic}", "ok", detail, ""))
    status, detail, fix = nvrtc_driver_check(nvrtc.version(), driver)
    out.append(("GPU: NVRTC", status, detail, fix))
    dev = str(config.device)
    if dev.startswith(("cuda", "opencl")):
        from opcore_gpu_cuda.plugin import gpu_available

        ok, reason = gpu_available()
        out.append((f"GPU: device={dev}", "ok" if ok else "problem",
                    "opens; the gpu backend is used" if ok else reason,
                    "" if ok else "see `opcore gpu-info` for the devices, or set device=cpu"))
    return out
