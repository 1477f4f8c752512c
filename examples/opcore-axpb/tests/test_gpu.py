"""The GPU kernel (opcore-gpu-cuda's ``gpu`` backend, CUDA or OpenCL).  Skipped, with the reason,
when the plugin is missing or no device is healthy.  ``OPCORE_TEST_GPU_DEVICE=opencl0:0`` (or
``cuda0``) picks the device; otherwise CUDA is tried, then each OpenCL platform."""

from __future__ import annotations

import os

import numpy as np
import pytest

import opcore
import opcore.tensor as T

from opcore_axpb import AXPBOp, axpb

pytest.importorskip("opcore_gpu_cuda", reason="opcore-gpu-cuda is not installed "
                    "(pip install 'opcore-gpu-cuda[opencl]')")

from opcore_gpu_cuda.api import host_from_gpu  # noqa: E402

from opcore_axpb.gpu import GpuAXPBOp  # noqa: E402

RNG = np.random.default_rng(7)


def _candidates() -> list[str]:
    if os.environ.get("OPCORE_TEST_GPU_DEVICE"):
        return [os.environ["OPCORE_TEST_GPU_DEVICE"]]
    names = ["cuda0"]
    try:
        import pyopencl as cl

        names += [f"opencl{p}:0" for p, plat in enumerate(cl.get_platforms())
                  if plat.get_devices()]
    except Exception:
        names.append("opencl0:0")
    return names


@pytest.fixture(scope="module")
def device():
    from opcore.config import config
    from opcore_gpu_cuda.plugin import gpu_available

    reasons = []
    for name in _candidates():
        with config.change_flags(device=name):
            ok, reason = gpu_available()
        if ok:
            return name
        reasons.append(reason)
    pytest.skip("no healthy GPU or OpenCL device: " + "; ".join(reasons))


@pytest.fixture
def on_device(device):
    from opcore.config import config

    with config.change_flags(device=device):
        yield device


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernel_matches_numpy(on_device, dtype):
    x = T.matrix("x", dtype=dtype)
    f = opcore.function([x], host_from_gpu(GpuAXPBOp(3.0, -2.0)(x)))
    for shape in ((5, 7), (1, 1), (0, 3), (33, 65)):
        xv = RNG.standard_normal(shape).astype(dtype)
        got = f(xv)
        assert isinstance(got, np.ndarray) and got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, 3.0 * xv - 2.0, rtol=1e-5, atol=1e-6)


def test_host_op_is_lifted_to_the_device(on_device):
    x = T.fmatrix("x")
    f = opcore.function([x], axpb(2 * x, 4.0, 5.0) + 4)
    assert f.maker.backend.name == "gpu"
    ops = [n.op for n in f.maker.fgraph.toposort()]
    assert any(isinstance(op, GpuAXPBOp) for op in ops), ops
    assert not any(type(op) is AXPBOp for op in ops)
    xv = RNG.random((3, 4), dtype="float32")
    np.testing.assert_allclose(f(xv), 4 * (2 * xv) + 5 + 4, rtol=1e-5)


def test_gpu_op_props_and_bad_dtype(on_device):
    op = GpuAXPBOp(4, 5)
    assert op == GpuAXPBOp(4.0, 5.0) and "a=4.0" in str(op)
    with pytest.raises(TypeError, match="float32 or float64"):
        op(T.lmatrix("n"))
