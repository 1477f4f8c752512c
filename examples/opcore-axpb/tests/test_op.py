"""Tests of AXPBOp against an independent NumPy reference, finite differences
and the Op contract.  They run on every backend installed and healthy (``check_op_contract``
compiles the op with each one), so a C or GPU implementation that disagrees with ``perform`` fails
here too."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.testing import check_op_contract, verify_grad

from opcore_axpb import AXPBOp, axpb

RNG = np.random.default_rng(1234)


def reference(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """What the op must compute, written independently of the op."""
    return (a * x.astype("float64") + b).astype(x.dtype)


def _tol(dtype: str) -> float:
    return 1e-5 if dtype == "float32" else 1e-12


def test_op_keeps_the_op_contract():
    report = check_op_contract(AXPBOp(3.0, -0.5),
                               [RNG.standard_normal((3, 4))])
    for part in ("perform", "infer_shape", "grad"):
        assert part in report.checked, report.skipped
    assert "backend:py" in report.checked


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0, 3), (2, 3, 4)])
def test_matches_numpy(dtype, shape):
    x = T.TensorType(dtype, shape=(None,) * len(shape))("x")
    f = opcore.function([x], axpb(x, 2.5, -1.25))
    xv = RNG.standard_normal(shape).astype(dtype)
    got = f(xv)
    assert got.dtype == np.dtype(dtype) and got.shape == xv.shape
    np.testing.assert_allclose(got, reference(xv, 2.5, -1.25), rtol=_tol(dtype), atol=_tol(dtype))


def test_strided_and_reversed_views():
    x = T.dmatrix("x")
    f = opcore.function([x], AXPBOp(-2.0, 0.5)(x))
    base = RNG.standard_normal((6, 8))
    for view in (base[::2, 1::3], base[::-1, ::-2], base.T):
        np.testing.assert_allclose(f(view), reference(view, -2.0, 0.5), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_matches_finite_differences(dtype):
    point = RNG.standard_normal((3, 2)).astype(dtype)
    verify_grad(lambda x: AXPBOp(1.5, 2.0)(x) ** 2, [point], rng=RNG)


def test_gradient_value():
    x = T.dvector("x")
    g = opcore.grad(axpb(x, 4.0, 5.0).sum(), x)
    np.testing.assert_allclose(opcore.function([x], g)(np.arange(3.0)), [4.0, 4.0, 4.0])


def test_infer_shape_without_computing():
    x = T.dtensor3("x")
    f = opcore.function([x], axpb(x).shape)
    assert tuple(f(np.zeros((2, 5, 3)))) == (2, 5, 3)
    node = AXPBOp()(x).owner
    assert node.op.infer_shape(node, [("d0", "d1", "d2")]) == [("d0", "d1", "d2")]


def test_props_define_equality_hash_and_str():
    op = AXPBOp(4, 5)
    assert op == AXPBOp(4.0, 5.0) and hash(op) == hash(AXPBOp(4, 5))
    assert op != AXPBOp(4, 6)
    assert "a=4.0" in str(op) and "b=5.0" in str(op)
    assert pickle.loads(pickle.dumps(op)) == op


def test_integer_input_is_a_clear_error():
    with pytest.raises(TypeError, match="float32 or float64"):
        AXPBOp()(T.lvector("n"))


def test_reachable_through_the_plugin_namespace():
    import importlib

    ns = importlib.import_module("opcore.axpb")
    assert ns.AXPBOp is AXPBOp
