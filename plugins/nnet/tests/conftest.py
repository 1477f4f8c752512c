"""Shared fixtures for the opcore-nnet tests."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

# helpers live in a uniquely named module: under --import-mode=importlib every suite shares one
# interpreter, and other suites' conftest modules are importable as 'conftest' too
sys.path.insert(0, os.path.dirname(__file__))
from nnet_backends import c_backend_ok  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning, module="opcore")


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
