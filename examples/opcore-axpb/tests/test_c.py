"""The C implementation, compiled by the ``c`` backend of opcore-cpu-c.  Skipped, with the reason,
when that plugin or a C compiler is missing."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T

from opcore_axpb import AXPBOp

pytest.importorskip("opcore_cpu_c", reason="opcore-cpu-c is not installed "
                    "(pip install opcore-cpu-c)")

RNG = np.random.default_rng(99)


def _compile_c(inputs, outputs):
    from opcore.plugins import BackendError

    try:
        return opcore.function(inputs, outputs, mode=opcore.Mode(backend="c"))
    except BackendError as exc:
        pytest.skip(f"the C backend is unavailable: {exc}")


def _ran_in_c(f) -> bool:
    return any(isinstance(n.op, AXPBOp) for n in f.linker.c_nodes)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_c_code_matches_numpy_on_views(dtype):
    x = T.matrix("x", dtype=dtype)
    f = _compile_c([x], AXPBOp(2.5, -1.0)(x))
    assert _ran_in_c(f), "the node should run in C, not through perform"
    base = RNG.standard_normal((7, 6)).astype(dtype)
    for view in (base, base[::2, 1::3], base[::-1, ::-2], base.T, base[:0], base[:, :0]):
        got = f(view)
        assert got.dtype == np.dtype(dtype) and got.shape == view.shape
        want = (2.5 * view.astype("float64") - 1.0).astype(dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_one_module_serves_every_a_and_b():
    x = T.dvector("x")
    for a, b in ((1.0, 0.0), (-3.0, 7.5)):
        f = _compile_c([x], AXPBOp(a, b)(x))
        assert _ran_in_c(f)
        np.testing.assert_allclose(f(np.arange(4.0)), a * np.arange(4.0) + b)


def test_output_buffer_is_reused_or_reallocated_correctly():
    x = T.dvector("x")
    f = _compile_c([x], AXPBOp(2.0, 1.0)(x))
    for n in (5, 5, 3, 8):  # same shape twice, then shrinking and growing
        np.testing.assert_allclose(f(np.arange(float(n))), 2.0 * np.arange(float(n)) + 1.0)
