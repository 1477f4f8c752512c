"""NVRTC through ctypes: compile CUDA kernels without a GPU (to check them, or to load them).

The library comes from the ``nvidia-cuda-nvrtc-cu12`` wheel, ``cuda-bindings``' search path or the
system (``libnvrtc.so``).  No GPU and no driver are needed to compile.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import lru_cache

from opcore_gpu_cuda.dialect import full_source


class NVRTCError(RuntimeError):
    """A CUDA kernel failed to compile; the message carries NVRTC's log and the source name."""


def _candidates() -> list[str]:
    found = []
    try:
        import nvidia.cuda_nvrtc as pkg  # the pip wheel

        for base in pkg.__path__:
            found += sorted(glob.glob(os.path.join(base, "lib", "libnvrtc.so*")))
    except Exception:
        pass
    found = [f for f in found if "builtins" not in f and ".alt." not in f]
    for env in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(env):
            found += glob.glob(os.path.join(os.environ[env], "lib64", "libnvrtc.so*"))
    found += ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]
    return found


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL | None:
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        return lib
    return None


def available() -> bool:
    """True when an NVRTC library could be loaded."""
    return _lib() is not None


def version() -> tuple[int, int] | None:
    """NVRTC's (major, minor), or None when it is not installed."""
    lib = _lib()
    if lib is None:
        return None
    major, minor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


def _check(lib, status: int, what: str) -> None:
    if status != 0:
        raise NVRTCError(f"NVRTC {what}: {lib.nvrtcGetErrorString(status).decode()}")


def compile_cuda(code: str, name: str = "kernel.cu", arch: str = "sm_75",
                 with_preamble: bool = True, options: tuple[str, ...] = ()) -> bytes:
    """Compile ``code`` for ``arch`` and return the cubin (``sm_*``) or PTX (``compute_*``).

    Raises :class:`NVRTCError` with the compiler log when the kernel does not compile, and
    ``RuntimeError`` when NVRTC is not installed (``pip install nvidia-cuda-nvrtc-cu12``).
    """
    lib = _lib()
    if lib is None:
        raise RuntimeError("NVRTC is not installed: pip install nvidia-cuda-nvrtc-cu12")
    src = full_source(code, "cuda") if with_preamble else code
    prog = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), name.encode(), 0,
                                       None, None), "create")
    try:
        opts = [f"--gpu-architecture={arch}", "--std=c++14", *options]
        arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
        status = lib.nvrtcCompileProgram(prog, len(opts), arr)
        if status != 0:
            size = ctypes.c_size_t()
            lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetProgramLog(prog, log)
            raise NVRTCError(f"CUDA kernel {name!r} failed to compile for {arch}:\n"
                             f"{log.value.decode(errors='replace')}")
        size = ctypes.c_size_t()
        if arch.startswith("sm_"):
            _check(lib, lib.nvrtcGetCUBINSize(prog, ctypes.byref(size)), "cubin size")
            out = ctypes.create_string_buffer(size.value)
            _check(lib, lib.nvrtcGetCUBIN(prog, out), "cubin")
        else:
            _check(lib, lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), "ptx size")
            out = ctypes.create_string_buffer(size.value)
            _check(lib, lib.nvrtcGetPTX(prog, out), "ptx")
        return out.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
