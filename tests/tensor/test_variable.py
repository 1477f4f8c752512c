"""TensorVariable behaviour Theano code relies on: truth values, NumPy operands on the left."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T


def test_every_variable_is_true_except_comparisons():
    # Theano 1.0: ``if not W: W = init()`` works; a < b < c must not silently mean (a<b) and (b<c)
    W = T.dmatrix("W")
    assert bool(W) and bool(T.constant(0)) and bool(W * 2)
    for cmp in (W < 1, W <= 1, W > 1, W >= 1, 1 < W):
        with pytest.raises(TypeError, match="no truth value"):
            bool(cmp)
    a, b, c = T.dscalars("abc")
    with pytest.raises(TypeError, match="no truth value"):
        a < b < c  # noqa: B015 - the chained comparison is what must raise


@pytest.mark.parametrize("left", [np.ones(3), np.float64(2.0), np.arange(3)])
def test_numpy_operand_on_the_left_defers_to_the_variable(left):
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, 3.0])
    for expr, ref in ((left + x, left + xv), (left * x, left * xv), (left - x, left - xv),
                      (left / x, left / xv), (left < x, left < xv)):
        assert isinstance(expr, T.TensorVariable), type(expr)
        np.testing.assert_array_equal(opcore.function([x], expr)(xv), ref)


def test_plural_constructors_make_one_variable_per_character():
    a, b, c = T.scalars("abc")
    assert [v.name for v in (a, b, c)] == ["a", "b", "c"]
    p, t = T.matrices("pt")
    assert (p.name, t.name, p.ndim) == ("p", "t", 2)
    assert [v.name for v in T.dvectors("uv")] == ["u", "v"]
    assert [v.name for v in T.scalars("x, y")] == ["x", "y"]
    assert len(T.scalars(3)) == 3
    x = T.dscalars("x")  # Theano: a one-letter name gives the variable itself
    assert x.name == "x" and x.type == T.dscalar
