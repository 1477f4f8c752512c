"""The ``gpu_lift`` phase: move nodes with a GPU implementation onto the device.

Each lifted node reads its device inputs through ``as_gpuarray_variable`` (which turns
``HostFromGpu(y)`` back into ``y``, so transfers between two lifted nodes vanish) and hands its
outputs back as ``HostFromGpu(out)``; the host-side consumers that are lifted later cancel those
too.  Only the borders of the device region keep a transfer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.tensor.type import TensorType

from opcore_gpu_cuda.ops import GpuOp, rule_for, unsupported_reason
from opcore_gpu_cuda.type import GpuArrayType, GpuFromHost, HostFromGpu, host_from_gpu


def _is_shape_arithmetic(node: Any) -> bool:
    """0-d integer results (shape computations) stay on the host."""
    return all(isinstance(o.type, TensorType) and o.type.ndim == 0
               and np.dtype(o.type.dtype).kind in "iub" for o in node.outputs)


def lift_to_gpu(fgraph: Any, node: Any) -> list | None:
    """Replace a host node that has a GPU implementation by ``HostFromGpu(GpuOp(op)(...))``."""
    op = node.op
    if isinstance(op, (GpuOp, GpuFromHost, HostFromGpu)) or rule_for(op) is None:
        return None
    if _is_shape_arithmetic(node) or unsupported_reason(node):
        return None
    new = GpuOp(op, None)(*node.inputs)
    outs = new if isinstance(new, (list, tuple)) else [new]
    return [host_from_gpu(o) for o in outs]


def cancel_transfers(fgraph: Any, node: Any) -> list | None:
    """``GpuFromHost(HostFromGpu(x)) -> x`` and ``HostFromGpu(GpuFromHost(x)) -> x``."""
    x = node.inputs[0] if node.inputs else None
    inner = getattr(x, "owner", None)
    if inner is None:
        return None
    if isinstance(node.op, GpuFromHost) and isinstance(inner.op, HostFromGpu):
        y = inner.inputs[0]
        if isinstance(y.type, GpuArrayType) and y.type.context_name == node.op.context_name:
            return [y]
    if isinstance(node.op, HostFromGpu) and isinstance(inner.op, GpuFromHost):
        return [inner.inputs[0]]
    return None


lift_to_gpu.tracks = None
