"""The ``gpu`` backend's linker: per-node thunks from the ``gpu`` implementation table.

Ops written with C host code (``gpu_kernels`` + ``c_code``) reach the table through the backend's
adapter and run their compiled host code; ``GpuRule`` s run inside ``GpuOp`` nodes; everything
else runs its ``py`` implementation or ``perform``."""

from __future__ import annotations

from typing import Any

from opcore.compile.linker import Linker

from opcore_gpu_cuda.ops import GpuRule


class GpuLinker(Linker):
    """Thunks for the ``gpu`` backend."""

    backend_name = "gpu"

    def make_thunk(self, node: Any, storage_map: dict) -> Any:
        if self.impl_lookup is not None:
            impl = self.impl_lookup("gpu", node)
            if impl is None or isinstance(impl, GpuRule):  # GpuRules run inside GpuOp nodes
                impl = self.impl_lookup("py", node.op)
            if impl is not None:
                return impl(node, storage_map)
        return node.op.make_py_thunk(node, storage_map)
