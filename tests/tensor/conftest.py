"""Helpers shared by the tensor tests: NumPy comparison and infer_shape checks."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T


def _infer_shape_vars(out):
    """Symbolic shape of ``out`` computed by its owner's ``infer_shape`` (no perform)."""
    node = out.owner
    in_shapes = [tuple(T.shape_i(i, d) for d in range(i.ndim)) if hasattr(i, "ndim") else None
                 for i in node.inputs]
    shapes = node.op.infer_shape(node, in_shapes)
    return [T.as_tensor_variable(s) for s in shapes[out.index]]


def check_infer_shape(inputs, outputs, values):
    """Assert that every output's ``infer_shape`` gives the shape ``perform`` produces."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    real = opcore.function(inputs, outputs, on_unused_input="ignore")(*values)
    for out, val in zip(outputs, real):
        assert out.owner is not None, f"{out} has no owner"
        dims = _infer_shape_vars(out)
        if not dims:
            assert np.shape(val) == (), f"{out.owner.op}: infer_shape says 0-d, got {np.shape(val)}"
            continue
        got = opcore.function(inputs, dims, on_unused_input="ignore")(*values)
        got = tuple(int(g) for g in got)
        assert got == np.shape(val), (
            f"{out.owner.op}: infer_shape gives {got}, perform gives {np.shape(val)}")
        # the static shape of the type must agree with the run-time shape too
        for d, s in enumerate(out.type.shape):
            assert s is None or s == np.shape(val)[d], (
                f"{out.owner.op}: static shape {out.type.shape} vs run-time {np.shape(val)}")


@pytest.fixture
def infer_shape():
    return check_infer_shape


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
