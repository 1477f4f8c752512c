"""The ``gpu`` backend's linker: per-node thunks; ops written with C host code (``gpu_kernels`` +
``c_code``) run their compiled host code, everything else its impl or ``perform``."""

from __future__ import annotations

from typing import Any

from opcore.compile.linker import Linker

from opcore_gpu_cuda.chost import has_host_code, make_host_thunk
from opcore_gpu_cuda.ops import GpuRule


class GpuLinker(Linker):
    """Thunks for the ``gpu`` backend."""

    backend_name = "gpu"

    def __init__(self, impl_lookup: Any = None) -> None:
        super().__init__(impl_lookup)
        self._count = 0

    def make_thunk(self, node: Any, storage_map: dict) -> Any:
        if has_host_code(node.op):
            self._count += 1
            return make_host_thunk(node, storage_map, f"node{self._count}")
        if self.impl_lookup is not None:
            impl = self.impl_lookup("gpu", node.op)
            if impl is None or isinstance(impl, GpuRule):  # GpuRules run inside GpuOp nodes
                impl = self.impl_lookup("py", node.op)
            if impl is not None:
                return impl(node, storage_map)
        return node.op.make_py_thunk(node, storage_map)
