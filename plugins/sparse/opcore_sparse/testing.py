"""Helpers for testing sparse ops (used by the plugin's own tests; usable by other packages)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

import opcore
from opcore.compile import Mode

PY = Mode(backend="py")


def healthy_backends() -> list[str]:
    """Names of the healthy backends here (``py`` always; ``c`` when opcore-cpu-c works)."""
    from opcore.plugins import get_host

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        host = get_host().ensure_loaded()
        return [b.name for b in host.healthy_backends() if b.name in ("py", "c")]


def rand_sparse(shape, density, fmt="csr", dtype="float64", seed=0):
    """A random CSR/CSC matrix with sorted indices and values in [0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    m = sp.random(shape[0], shape[1], density=density, format=fmt, dtype=dtype,
                  random_state=rng, data_rvs=lambda n: rng.random(n) + 0.5)
    m.sort_indices()
    return m


def compile_fn(inputs, outputs, backend: str = "py"):
    """``opcore.function`` on ``backend`` with plugin warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return opcore.function(inputs, outputs, mode=Mode(backend=backend))


def to_dense(v):
    """A dense ndarray of a sparse or dense value."""
    return v.toarray() if sp.issparse(v) else np.asarray(v)
