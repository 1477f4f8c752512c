"""Sizes handed to BLAS fit its 32-bit integers: a dimension or leading dimension above
``BLAS_INT_MAX`` makes Dot and Gemv use NumPy's product instead, never a wrong answer.

A real dimension above 2**31 - 1 needs 8 GiB of float32, so the limit is lowered here: the same
generated code path runs with small arrays."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.config import change_flags

blas_impls = pytest.importorskip("opcore_cpu_c.impls.blas")


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(blas_impls, "BLAS_INT_MAX", 7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_and_gemv_above_the_blas_integer_limit(small_limit, dtype):
    rng = np.random.RandomState(1)
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    v, y = T.vector("v", dtype=dtype), T.vector("y", dtype=dtype)
    with change_flags(cpu_c__blas="scipy"):
        f = opcore.function([a, b, v, y], [T.dot(a, b), y * 0.5 + T.dot(a, v) * 2],
                            mode=Mode(backend="c"))
    assert {type(n.op).__name__ for n in f.maker.fgraph.toposort()} >= {"Dot", "Gemv"}
    for m, k, n in [(3, 4, 5), (9, 4, 5), (3, 12, 5), (3, 4, 11), (20, 30, 9)]:
        A = rng.rand(m, k).astype(dtype)
        B = rng.rand(k, n).astype(dtype)
        V = rng.rand(k).astype(dtype)
        Y = rng.rand(m).astype(dtype)
        # a leading dimension above the limit with small dimensions: a strided view
        wide = np.zeros((m, 16), dtype)[:, :k] if k <= 16 else A
        wide[...] = A
        for AA in (A, wide, A.T.copy().T):
            d, g = f(AA, B, V, Y)
            rtol = 1e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(d, A @ B, rtol=rtol)
            np.testing.assert_allclose(g, Y * 0.5 + (A @ V) * 2, rtol=rtol)
