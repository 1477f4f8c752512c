"""``dot(A, alloc(s, n))`` -> ``s * sum(A, axis=1)`` (and the row form): values of the unrewritten
graph, the filled vector never built, integer products and shared fills left alone."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.basic import Alloc
from opcore.tensor.blas import Gemv
from opcore.tensor.math import Dot

FAST = Mode(linker="py", optimizer="fast_run")
NONE = Mode(linker="py", optimizer=None)


def _products(f) -> list:
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, (Dot, Gemv, Alloc))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_product_with_a_filled_vector_is_a_scaled_sum(dtype, side):
    A = T.matrix("A", dtype=dtype)
    s = T.scalar("s", dtype=dtype)
    n = A.shape[1] if side == "right" else A.shape[0]
    filled = T.alloc(s, n)
    out = T.dot(A, filled) if side == "right" else T.dot(filled, A)
    f = opcore.function([A, s], out, mode=FAST)
    assert not _products(f)
    rng = np.random.default_rng(0)
    Av, sv = rng.normal(size=(3, 4)).astype(dtype), np.asarray(0.7, dtype=dtype)
    got, want = f(Av, sv), opcore.function([A, s], out, mode=NONE)(Av, sv)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bias_gradient_under_a_mean_has_no_product(dtype):
    """The gradient of ``mean(dot(V, b))`` w.r.t. ``b`` (an RBM's free energy term) is the
    column sum of V scaled by 1/n."""
    V = T.matrix("V", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    g = opcore.grad(T.mean(T.dot(V, b)), b)
    f = opcore.function([V, b], g, mode=FAST)
    assert not _products(f)
    rng = np.random.default_rng(1)
    Vv, bv = rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=3).astype(dtype)
    np.testing.assert_allclose(f(Vv, bv), Vv.mean(axis=0), rtol=1e-5)


def test_integer_product_and_shared_fill_stay():
    Ai = T.imatrix("Ai")
    si = T.iscalar("si")
    fi = opcore.function([Ai, si], T.dot(Ai, T.alloc(si, Ai.shape[1])), mode=FAST)
    assert _products(fi)
    Av = np.arange(6, dtype="int32").reshape(2, 3)
    np.testing.assert_array_equal(fi(Av, 3), Av @ np.full(3, 3, "int32"))
    A = T.dmatrix("A")
    s = T.dscalar("s")
    filled = T.alloc(s, A.shape[1])
    f = opcore.function([A, s], [T.dot(A, filled), filled], mode=FAST)
    assert any(isinstance(n.op, Alloc) for n in f.maker.fgraph.apply_nodes)
