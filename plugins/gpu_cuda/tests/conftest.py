"""Fixtures: the OpenCL context (PoCL on CPU in CI), cached for the whole session."""

from __future__ import annotations

import pytest


def _opencl_device() -> str | None:
    try:
        import pyopencl as cl

        for p, plat in enumerate(cl.get_platforms()):
            if plat.get_devices():
                return f"opencl{p}:0"
    except Exception:
        return None
    return None


OPENCL_DEVICE = _opencl_device()


@pytest.fixture(scope="session")
def ctx():
    if OPENCL_DEVICE is None:
        pytest.skip("no OpenCL device (install pyopencl and pocl-opencl-icd: "
                    "scripts/install_system_deps.sh)")
    from opcore_gpu_cuda.type import get_context

    return get_context(OPENCL_DEVICE)


@pytest.fixture
def gpu_flags(ctx):
    from opcore.config import config

    with config.change_flags(device=ctx.name):
        yield ctx.name
