"""More C impls (shape ops, casts, BLAS, indexing)."""
