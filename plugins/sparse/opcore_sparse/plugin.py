"""The opcore plugin entry point: ``opcore.sparse`` and the sparse rewrites."""

from __future__ import annotations

from typing import Any

from opcore.plugins import hookimpl

OPS = ("CSM", "CSMProperties", "DenseFromSparse", "SparseFromDense", "Transpose", "StructuredDot",
       "Dot", "Add", "Mul", "SpSum", "StructuredUnary", "RowColScale", "SamplingDot",
       "SparseDenseDotKernel")


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    namespaces.add("opcore.sparse", "opcore_sparse.api", ops=OPS)


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    from opcore_sparse.rewrites import local_sparse_dot_to_kernel

    # specialize: after the gradient graph exists, turn sparse x dense products into the
    # array-level kernel op that carries the C implementation
    rewrites.register("sparse_dot_to_kernel", local_sparse_dot_to_kernel, "fast_run",
                      "sparse", phase="specialize")
