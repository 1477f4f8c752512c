"""Shared fixtures for the opcore-nnet tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

warnings.filterwarnings("ignore", category=UserWarning, module="opcore")


def c_backend_ok() -> tuple[bool, str]:
    """Whether the ``c`` backend (opcore-cpu-c) is installed and healthy, with the reason."""
    from opcore.plugins import get_host

    host = get_host().ensure_loaded()
    if "c" not in host.backends:
        return False, "the cpu_c plugin (opcore-cpu-c) is not installed"
    ok, reason = host.health(host.backends["c"])
    return ok, reason


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def c_mode():
    ok, reason = c_backend_ok()
    if not ok:
        pytest.skip(f"C backend unavailable: {reason}")
    from opcore.compile import Mode

    return Mode(backend="c")


@pytest.fixture(autouse=True)
def _py_default_backend():
    """Compile on the Python backend unless a test asks for another one explicitly.

    ``check_op_contract`` still runs every healthy backend (C included); this only keeps the many
    small helper functions (verify_grad, infer_shape) from each compiling a C module.
    """
    from opcore.config import config

    with config.change_flags(backend="py"):
        yield
