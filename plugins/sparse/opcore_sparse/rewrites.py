"""Graph rewrites of the sparse plugin."""

from __future__ import annotations

import sys
from typing import Any


def local_sparse_dot_to_kernel(fgraph: Any, node: Any) -> list | None:
    """``StructuredDot(A, b)`` / ``Dot(A, b)`` (sparse A, dense float matrix b) ->
    ``SparseDenseDotKernel(*csm_properties(A), b)``, the form the C backend compiles.

    Runs in phase ``specialize``, after gradients are built. A graph can hold a sparse product
    only once ``opcore_sparse.dot`` has been imported (building one imports it), so until then
    the rule answers "no" without importing it: registering the plugin's rewrites must not
    import SciPy into every process's first compile.
    """
    dot = sys.modules.get("opcore_sparse.dot")
    if dot is None or not isinstance(node.op, (dot.StructuredDot, dot.Dot)):
        return None
    a, b = node.inputs
    if not dot.is_sparse(a) or dot.is_sparse(b) or b.ndim != 2:
        return None
    if a.type.dtype not in ("float32", "float64"):
        return None
    return [dot.sparse_dense_dot_kernel(a, b)]
