"""Graph rewrites of the sparse plugin."""

from __future__ import annotations

from typing import Any

from opcore_sparse.dot import Dot, StructuredDot, sparse_dense_dot_kernel
from opcore_sparse.type import is_sparse


def local_sparse_dot_to_kernel(fgraph: Any, node: Any) -> list | None:
    """``StructuredDot(A, b)`` / ``Dot(A, b)`` (sparse A, dense float matrix b) ->
    ``SparseDenseDotKernel(*csm_properties(A), b)``, the form the C backend compiles.

    Runs in phase ``specialize``, after gradients are built.
    """
    op = node.op
    if not isinstance(op, (StructuredDot, Dot)):
        return None
    a, b = node.inputs
    if not is_sparse(a) or is_sparse(b) or b.ndim != 2:
        return None
    if a.type.dtype not in ("float32", "float64"):
        return None
    return [sparse_dense_dot_kernel(a, b)]
