"""``dot(x, y).T`` -> ``dot(y.T, x.T)`` when the transpose is the product's only reader:
the unrewritten graph's values; a product read elsewhere is computed once."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.elemwise import DimShuffle
from opcore.tensor.math import Dot

ON = Mode(linker="py").excluding("blas")
OFF = Mode(linker="py").excluding("blas", "transpose_of_dot")


def _nodes(f, cls) -> list:
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, cls)]


def _transposed_dots(f) -> int:
    return sum(n.op.new_order == (1, 0) and n.inputs[0].owner is not None
               and isinstance(n.inputs[0].owner.op, Dot) for n in _nodes(f, DimShuffle))


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64", "complex128"])
def test_transpose_moves_into_the_operands(dtype):
    x, y, z = (T.matrix(n, dtype=dtype) for n in "xyz")
    out = T.dot(x, y).T + z
    f = opcore.function([x, y, z], out, mode=ON)
    g = opcore.function([x, y, z], out, mode=OFF)
    assert _transposed_dots(f) == 0 and _transposed_dots(g) == 1
    rng = np.random.default_rng(0)
    vals = [(rng.normal(size=s) * 3).astype(dtype) for s in ((3, 4), (4, 5), (5, 3))]
    got, want = f(*vals), g(*vals)
    assert got.dtype == want.dtype and got.shape == (5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_product_read_elsewhere_stays_one_dot():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    d = T.dot(x, y)
    f = opcore.function([x, y], [d.T, d], mode=ON)
    assert len(_nodes(f, Dot)) == 1
    xv, yv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    a, b = f(xv, yv)
    np.testing.assert_array_equal(a, (xv @ yv).T)
    np.testing.assert_array_equal(b, xv @ yv)
