"""GPU drivers: a context per device with memory, transfers, program compilation and launches.

Two drivers share one small interface (:class:`GpuContext`): OpenCL through PyOpenCL (PoCL on a
CPU makes this testable anywhere) and CUDA through CuPy (memory, launches, cuBLAS) with kernels
compiled by NVRTC.  Contexts are created once per device name and cached, and so are compiled
programs (per context and source), because PoCL and NVRTC compiles cost tens of milliseconds.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Sequence

import numpy as np

from opcore_gpu_cuda.dialect import GA_BUFFER, full_source, typecode_to_dtype


class GpuError(RuntimeError):
    """A GPU driver, compile or launch failure, with the driver's message."""


class GpuContext:
    """One device.  Subclasses implement the driver; arrays and kernels only use these methods."""

    kind = "?"

    def __init__(self, name: str) -> None:
        self.name = name
        self._programs: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    # memory
    def alloc(self, nbytes: int) -> Any:
        raise NotImplementedError

    def write(self, buf: Any, offset: int, host: np.ndarray) -> None:
        raise NotImplementedError

    def read(self, host: np.ndarray, buf: Any, offset: int) -> None:
        raise NotImplementedError

    def copy_bytes(self, dst: Any, dst_off: int, src: Any, src_off: int, nbytes: int) -> None:
        raise NotImplementedError

    def memset0(self, buf: Any, offset: int, nbytes: int) -> None:
        raise NotImplementedError

    # kernels
    def compile(self, code: str, name: str) -> Any:
        """The compiled kernel ``name`` of ``code`` (dialect source, preamble added), cached."""
        key = (code, name)
        with self._lock:
            kern = self._programs.get(key)
        if kern is None:
            kern = self._compile(full_source(code, self.kind), name)
            with self._lock:
                self._programs[key] = kern
        return kern

    def _compile(self, source: str, name: str) -> Any:
        raise NotImplementedError

    def launch(self, kern: Any, gs: Sequence[int], ls: Sequence[int], shmem: int,
               typecodes: Sequence[Any], args: Sequence[Any]) -> None:
        """Run ``kern`` on ``gs`` groups of ``ls`` threads (libgpuarray's grid/block sizes)."""
        raise NotImplementedError

    def sync(self) -> None:
        raise NotImplementedError

    def devname(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<GpuContext {self.name} ({self.devname()})>"


class OpenCLContext(GpuContext):
    """OpenCL device ``opencl<platform>:<device>`` through PyOpenCL."""

    kind = "opencl"

    def __init__(self, name: str, platform: int, device: int) -> None:
        super().__init__(name)
        import pyopencl as cl

        self.cl = cl
        platforms = cl.get_platforms()
        if platform >= len(platforms):
            raise GpuError(f"{name}: no OpenCL platform {platform} "
                           f"({len(platforms)} platform(s) found)")
        devices = platforms[platform].get_devices()
        if device >= len(devices):
            raise GpuError(f"{name}: platform {platform} has no device {device} "
                           f"({len(devices)} device(s))")
        self.device = devices[device]
        self.ctx = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.ctx)
        self.align = max(1, self.device.mem_base_addr_align // 8)
        self.max_local = int(self.device.max_work_group_size)

    def devname(self) -> str:
        return f"{self.device.platform.name}: {self.device.name}"

    def alloc(self, nbytes: int) -> Any:
        return self.cl.Buffer(self.ctx, self.cl.mem_flags.READ_WRITE, size=max(int(nbytes), 1))

    def write(self, buf: Any, offset: int, host: np.ndarray) -> None:
        if host.nbytes:
            self.cl.enqueue_copy(self.queue, buf, np.ascontiguousarray(host),
                                 dst_offset=int(offset))

    def read(self, host: np.ndarray, buf: Any, offset: int) -> None:
        if host.nbytes:
            self.cl.enqueue_copy(self.queue, host, buf, src_offset=int(offset))

    def copy_bytes(self, dst: Any, dst_off: int, src: Any, src_off: int, nbytes: int) -> None:
        if nbytes:
            self.cl.enqueue_copy(self.queue, dst, src, byte_count=int(nbytes),
                                 src_offset=int(src_off), dst_offset=int(dst_off))

    def memset0(self, buf: Any, offset: int, nbytes: int) -> None:
        if nbytes:
            self.cl.enqueue_fill_buffer(self.queue, buf, np.uint8(0), int(offset), int(nbytes))

    def sub_buffer(self, buf: Any, offset: int) -> Any:
        """``buf`` seen from byte ``offset`` (for kernels that take a bare buffer)."""
        if offset == 0:
            return buf
        if offset % self.align:
            raise GpuError(f"OpenCL: a GpuArray with byte offset {offset} cannot be passed as a "
                           f"bare buffer (offsets must be multiples of {self.align}); pass the "
                           "offset as a separate gpuarray.SIZE parameter instead")
        return buf.get_sub_region(int(offset), buf.size - int(offset))

    def _compile(self, source: str, name: str) -> Any:
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prog = self.cl.Program(self.ctx, source).build()
        except self.cl.RuntimeError as exc:
            raise GpuError(f"OpenCL kernel {name!r} failed to compile on {self.devname()}:\n"
                           f"{exc}") from None
        return getattr(prog, name)

    def launch(self, kern: Any, gs: Sequence[int], ls: Sequence[int], shmem: int,
               typecodes: Sequence[Any], args: Sequence[Any]) -> None:
        cl_args = []
        for code, arg in zip(typecodes, args):
            if code == GA_BUFFER:
                cl_args.append(arg)
            else:
                cl_args.append(np.array(arg, dtype=typecode_to_dtype(code)))
        if shmem:
            cl_args.append(self.cl.LocalMemory(int(shmem)))
        glob = tuple(int(g) * int(l) for g, l in zip(gs, ls))
        if not all(glob):
            return
        kern(self.queue, glob, tuple(int(l) for l in ls), *cl_args)

    def sync(self) -> None:
        self.queue.finish()


class CudaContext(GpuContext):
    """CUDA device ``cuda<N>`` through CuPy; kernels compiled by NVRTC (CuPy's RawModule)."""

    kind = "cuda"

    def __init__(self, name: str, device: int) -> None:
        super().__init__(name)
        import cupy

        self.cupy = cupy
        self.device = cupy.cuda.Device(device)
        self.device.use()
        self.max_local = 1024

    def devname(self) -> str:
        props = self.cupy.cuda.runtime.getDeviceProperties(self.device.id)
        return props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])

    def alloc(self, nbytes: int) -> Any:
        return self.cupy.cuda.alloc(max(int(nbytes), 1))

    def write(self, buf: Any, offset: int, host: np.ndarray) -> None:
        host = np.ascontiguousarray(host)
        if host.nbytes:
            (buf + int(offset)).copy_from_host(host.ctypes.data, host.nbytes)

    def read(self, host: np.ndarray, buf: Any, offset: int) -> None:
        if host.nbytes:
            (buf + int(offset)).copy_to_host(host.ctypes.data, host.nbytes)

    def copy_bytes(self, dst: Any, dst_off: int, src: Any, src_off: int, nbytes: int) -> None:
        if nbytes:
            (dst + int(dst_off)).copy_from_device(src + int(src_off), int(nbytes))

    def memset0(self, buf: Any, offset: int, nbytes: int) -> None:
        if nbytes:
            (buf + int(offset)).memset(0, int(nbytes))

    def sub_buffer(self, buf: Any, offset: int) -> Any:
        return buf + int(offset)

    def _compile(self, source: str, name: str) -> Any:
        try:
            mod = self.cupy.RawModule(code=source, options=("--std=c++14",))
            return mod.get_function(name)
        except Exception as exc:
            raise GpuError(f"CUDA kernel {name!r} failed to compile: {exc}") from None

    def launch(self, kern: Any, gs: Sequence[int], ls: Sequence[int], shmem: int,
               typecodes: Sequence[Any], args: Sequence[Any]) -> None:
        cu_args = []
        for code, arg in zip(typecodes, args):
            if code == GA_BUFFER:
                cu_args.append(np.uint64(int(arg.ptr)))
            else:
                cu_args.append(np.array(arg, dtype=typecode_to_dtype(code))[()])
        gs3 = tuple(int(g) for g in gs) + (1,) * (3 - len(gs))
        ls3 = tuple(int(g) for g in ls) + (1,) * (3 - len(ls))
        if not all(gs3):
            return
        kern(gs3, ls3, tuple(cu_args), shared_mem=int(shmem))

    def sync(self) -> None:
        self.cupy.cuda.runtime.deviceSynchronize()


_CONTEXTS: dict[str, GpuContext] = {}
_DEVICE_RE = re.compile(r"^(cuda)(\d*)$|^(opencl)(\d+):(\d+)$")


def parse_device(name: str) -> tuple[str, tuple[int, ...]]:
    """``'cuda'`` -> ``('cuda', (0,))``, ``'opencl0:1'`` -> ``('opencl', (0, 1))``."""
    m = _DEVICE_RE.match(name or "")
    if not m:
        raise ValueError(f"device {name!r} is not a GPU device: expected 'cuda', 'cudaN' or "
                         "'openclP:D'")
    if m.group(1):
        return "cuda", (int(m.group(2) or 0),)
    return "opencl", (int(m.group(4)), int(m.group(5)))


def open_context(name: str) -> GpuContext:
    """The (cached) context of device ``name``; raises :class:`GpuError` when it cannot open."""
    ctx = _CONTEXTS.get(name)
    if ctx is not None:
        return ctx
    kind, idx = parse_device(name)
    try:
        ctx = CudaContext(name, *idx) if kind == "cuda" else OpenCLContext(name, *idx)
    except GpuError:
        raise
    except ImportError as exc:
        pkg = "cupy-cuda12x" if kind == "cuda" else "pyopencl"
        raise GpuError(f"device {name!r}: {exc}; install it with pip install {pkg}") from None
    except Exception as exc:
        raise GpuError(f"device {name!r} could not be opened: {type(exc).__name__}: {exc}") \
            from None
    _CONTEXTS[name] = ctx
    return ctx
