"""Dead arithmetic folds away: zero gradients, products/quotients/dots/sums of zeros, and
reductions over length-1 axes; every rule checked against the unrewritten graph on each dtype."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.tensor.basic import Alloc
from opcore.tensor.elemwise import CAReduce, Elemwise
from opcore.tensor.math import Dot

warnings.filterwarnings("ignore", message=".*installed but unavailable.*")

FAST = Mode(linker="py", optimizer="fast_run")
NONE = Mode(linker="py", optimizer=None)
INTS = ("int8", "int32", "int64", "uint8")
FLOATS = ("float32", "float64")
ALL = ("bool",) + INTS + FLOATS + ("complex128",)


def compare(inputs, outputs, values):
    f = opcore.function(inputs, outputs, mode=FAST, on_unused_input="ignore")
    g = opcore.function(inputs, outputs, mode=NONE, on_unused_input="ignore")
    got, want = f(*values), g(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    return [n.op for n in f.maker.fgraph.toposort()]


def values(dtype, shape, rng):
    v = rng.integers(1, 5, size=shape)
    return (v > 2) if dtype == "bool" else v.astype(dtype)


def scalar_names(ops):
    return [getattr(getattr(op, "scalar_op", None), "name", None) for op in ops]


@pytest.mark.parametrize("dtype", ALL)
def test_product_with_zeros_is_zeros_of_the_broadcast_shape(dtype):
    rng = np.random.default_rng(0)
    x = T.matrix("x", dtype=dtype)
    y = T.vector("y", dtype=dtype)
    z = T.zeros_like(y).dimshuffle("x", 0)  # broadcast against x
    ops = compare([x, y], x * z, [values(dtype, (3, 4), rng), values(dtype, (4,), rng)])
    assert "mul" not in scalar_names(ops)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_zeros_divided_is_zeros(dtype):
    rng = np.random.default_rng(1)
    y = T.matrix("y", dtype=dtype)
    z = T.zeros_like(y)
    out = z / y if dtype in FLOATS else z // y
    ops = compare([y], out, [values(dtype, (3, 4), rng)])
    assert not {"true_div", "int_div"} & set(scalar_names(ops))


@pytest.mark.parametrize("dtype", FLOATS + ("int64",))
@pytest.mark.parametrize("zero_left", [True, False])
def test_dot_with_zeros_is_zeros(dtype, zero_left):
    rng = np.random.default_rng(2)
    x = T.matrix("x", dtype=dtype)
    y = T.matrix("y", dtype=dtype)
    out = T.dot(T.zeros_like(x), y) if zero_left else T.dot(x, T.zeros_like(y))
    ops = compare([x, y], out, [values(dtype, (3, 4), rng), values(dtype, (4, 5), rng)])
    assert not any(isinstance(op, Dot) for op in ops)


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sum_of_zeros_is_zeros_in_the_sums_dtype(dtype, axis):
    rng = np.random.default_rng(3)
    x = T.matrix("x", dtype=dtype)
    ops = compare([x], T.sum(T.zeros_like(x), axis=axis), [values(dtype, (3, 4), rng)])
    assert not any(isinstance(op, CAReduce) for op in ops)


def test_a_nonzero_alloc_is_not_taken_for_zeros():
    x = T.dmatrix("x")
    c = T.dscalar("c")
    out = T.sum(T.alloc(c, 3, 4) * x, axis=0)
    ops = compare([x, c], out, [np.ones((3, 4)), np.float64(0.5)])
    assert "mul" in scalar_names(ops) or any(isinstance(op, Elemwise) for op in ops)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min", "all", "any"])
@pytest.mark.parametrize("dtype", ALL)
def test_reducing_a_broadcast_axis_is_the_input(kind, dtype):
    rng = np.random.default_rng(4)
    v = T.vector("v", dtype=dtype)
    red = getattr(T, kind)
    ops = compare([v], red(v.dimshuffle("x", 0), axis=0), [values(dtype, (5,), rng)])
    assert not any(isinstance(op, CAReduce) for op in ops)


@pytest.mark.parametrize("kind", ["sum", "max", "any"])
@pytest.mark.parametrize("dtype", ("int8", "float32", "float64"))
def test_only_the_length_one_axes_of_a_reduction_go(kind, dtype):
    rng = np.random.default_rng(5)
    m = T.matrix("m", dtype=dtype)
    red = getattr(T, kind)
    out = red(m.dimshuffle(0, "x", 1), axis=(1, 2))
    ops = compare([m], out, [values(dtype, (3, 4), rng)])
    reds = [op for op in ops if isinstance(op, CAReduce)]
    assert len(reds) == 1 and reds[0].axis == (1,)


@pytest.mark.parametrize("floatX", FLOATS)
def test_zero_gradient_of_a_floor_division_disappears(floatX):
    """The contractive autoencoder's penalty ``sum(J**2) // batch`` has a zero gradient: no
    zeros alloc, product or sum of it is left in the compiled gradient."""
    rng = np.random.default_rng(6)
    x = T.matrix("x", dtype=floatX)
    W = T.matrix("W", dtype=floatX)
    b = T.vector("b", dtype=floatX)
    h = T.tanh(T.dot(x, W) + b)
    J = (1 - h ** 2).dimshuffle(0, "x", 1) * W.dimshuffle("x", 0, 1)
    cost = T.sum(h ** 2) + T.sum(J ** 2) // x.shape[0]
    gW = T.grad(cost, W)
    f = opcore.function([x, W, b], gW, mode=FAST)
    g = opcore.function([x, W, b], gW, mode=NONE)
    vals = [rng.standard_normal(s).astype(floatX) for s in ((4, 6), (6, 5), (5,))]
    np.testing.assert_allclose(f(*vals), g(*vals), rtol=1e-5 if floatX == "float32" else 1e-12)
    ops = [n.op for n in f.maker.fgraph.toposort()]
    assert not any(isinstance(op, Alloc) for op in ops)
    assert all(o.ndim < 3 for n in f.maker.fgraph.toposort() for o in n.outputs)
