"""``x * x`` -> ``sqr(x)``: the same values as the unrewritten graph for every dtype family, and a
gradient's ``x * x`` merged with the cost's ``x ** 2`` (one square computed)."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.elemwise import Elemwise

ON = Mode(linker="py").excluding("fusion")
OFF = Mode(linker="py").excluding("fusion", "mul_self_to_sqr")


def _names(f) -> list:
    return [str(n.op.scalar_op) for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)]


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64", "float32", "float64", "complex128"])
def test_self_product_is_a_square(dtype):
    x = T.vector("x", dtype=dtype)
    f = opcore.function([x], x * x, mode=ON)
    g = opcore.function([x], x * x, mode=OFF)
    assert _names(f) == ["sqr"] and _names(g) == ["mul"]
    v = np.array([0, 1, -3, 12, 100, -128], dtype="int64")
    v = (v + 0.5j * v if dtype == "complex128" else v).astype(dtype)
    with np.errstate(over="ignore"):
        want = v * v
    got = f(v)
    assert got.dtype == want.dtype == g(v).dtype
    np.testing.assert_array_equal(got, want)


def test_product_of_two_different_variables_stays():
    x, y = T.dvectors("x", "y")
    f = opcore.function([x, y], x * y, mode=ON)
    assert _names(f) == ["mul"]


def test_gradient_square_merges_with_the_cost_square():
    """``sum(x ** 2) + sum(x * x * y)``: both squares are one node."""
    x, y = T.dvectors("x", "y")
    out = T.sum(x ** 2) + T.sum(x * x * y)
    f = opcore.function([x, y], out, mode=ON)
    assert _names(f).count("sqr") == 1
    xv, yv = np.array([1.0, -2.0, 3.0]), np.array([0.5, 2.0, -1.0])
    np.testing.assert_allclose(f(xv, yv), np.sum(xv ** 2) + np.sum(xv * xv * yv))
