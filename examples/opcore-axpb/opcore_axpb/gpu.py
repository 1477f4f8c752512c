"""``GpuAXPBOp``: the AXPBOp op on the device, as a kernel
in the libgpuarray dialect (run by the ``gpu`` backend of opcore-gpu-cuda, on CUDA or OpenCL).

- ``gpu_kernels(node, name)`` returns the kernel source and its parameter types.  The dialect's
  macros (``KERNEL``, ``GLOBAL_MEM``, ``GID_0``, ``LDIM_0``, ``ga_size``, ``ga_float``...) compile
  for both CUDA and OpenCL.
- ``perform`` is the host code: it allocates the output on the device and launches the kernel
  (``kernel.call(ctx, nd, gs, ls, shmem, *args)`` is libgpuarray's ``<name>_call``).
- :func:`lift_axpb` is a ``gpu_lift`` rewrite (registered by ``plugin.py``):
  when a function is compiled for the ``gpu`` backend, each ``AXPBOp`` node
  becomes ``HostFromGpu(GpuAXPBOp(x))`` and the transfers between neighbouring
  device nodes cancel.

This module imports opcore-gpu-cuda: it is only imported when that plugin is installed.
"""

from __future__ import annotations

from typing import Any, Sequence

from opcore import Apply, Op
from opcore_gpu_cuda.api import (
    GpuArray, Kernel, as_gpuarray_variable, dtype_to_ctype, empty, get_context, host_from_gpu,
)
from opcore_gpu_cuda.pygpu.gpuarray import SIZE

from opcore_axpb.op import FLOAT_DTYPES, AXPBOp

#: threads per group; the kernel loops, so any group count covers any size
LOCAL_SIZE = 256


class GpuAXPBOp(Op):
    """``a * x + b`` on a ``GpuArrayType`` input; the output is a new C-contiguous device array."""

    __props__ = ("a", "b", "context_name")

    def __init__(self, a: float = 2.0, b: float = 1.0, context_name: str | None = None) -> None:
        self.a = float(a)
        self.b = float(b)
        self.context_name = context_name

    def make_node(self, x: Any) -> Apply:
        x = as_gpuarray_variable(x, self.context_name)
        if x.type.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{type(self).__name__}: input x must be float32 or float64, "
                            f"got {x.type}")
        return Apply(self, [x], [x.type()])

    def gpu_kernels(self, node: Apply, name: str) -> list[Kernel]:
        """The kernel: a grid-stride loop, one element per thread per step."""
        dtype = node.inputs[0].type.dtype
        ctype = dtype_to_ctype(dtype)
        kname = f"axpb_{dtype}"
        code = """
KERNEL void KNAME(GLOBAL_MEM CTYPE *x, GLOBAL_MEM CTYPE *z, ga_size n, CTYPE a, CTYPE b)
{
    for (ga_size i = GID_0 * LDIM_0 + LID_0; i < n; i += LDIM_0 * GDIM_0) {
        z[i] = a * x[i] + b;
    }
}
""".replace("KNAME", kname).replace("CTYPE", ctype)
        return [Kernel(code=code, name=kname, params=[GpuArray, GpuArray, SIZE, dtype, dtype],
                       flags=Kernel.get_flags(dtype), objvar=f"k_{kname}_{name}")]

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        (x,) = inputs
        if not x.c_contiguous:  # the kernel indexes x linearly
            x = x.copy()
        ctx = get_context(self.context_name)
        z = empty(x.shape, x.dtype, ctx)
        n = x.size
        if n:
            (kernel,) = self.gpu_kernels(node, "node")
            groups = max(1, min((n + LOCAL_SIZE - 1) // LOCAL_SIZE, 1024))
            dt = x.dtype.type
            kernel.call(ctx, 1, [groups], [LOCAL_SIZE], 0, x, z, n, dt(self.a), dt(self.b))
        output_storage[0][0] = z

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [input_shapes[0]]


def lift_axpb(fgraph: Any, node: Any) -> list | None:
    """``gpu_lift`` rewrite: run ``AXPBOp`` nodes on the device."""
    if type(node.op) is not AXPBOp:
        return None
    if node.inputs[0].type.dtype not in FLOAT_DTYPES:
        return None
    out = GpuAXPBOp(node.op.a, node.op.b)(node.inputs[0])
    return [host_from_gpu(out)]


__all__ = ["GpuAXPBOp", "lift_axpb"]
