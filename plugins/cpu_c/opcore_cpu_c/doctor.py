"""The C backend's lines in ``opcore doctor``: the compiler it will call and the BLAS it can use."""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any


def compiler_check(config: Any) -> tuple[str, str, str, str]:
    """``(topic, status, detail, fix)`` for ``config.cxx``."""
    cxx = str(getattr(config, "cxx", "") or "")
    if not cxx.strip():
        return ("C compiler", "ok", "disabled (config.cxx is empty): Python backend only", "")
    path = shutil.which(cxx.split()[0])
    if path is None:
        return ("C compiler", "problem", f"config.cxx={cxx!r} not found on PATH",
                "install gcc (apt install gcc / xcode-select --install), or set "
                "OPCORE_FLAGS=cxx= to run without C")
    return ("C compiler", "ok", f"{cxx} ({path})", "")


def blas_check() -> tuple[str, str, str, str]:
    """Whether SciPy's BLAS (the optional ``cpu_c__blas=scipy`` path) can be used."""
    if importlib.util.find_spec("scipy") is None:
        return ("BLAS", "note", "SciPy not installed: dot/gemm use NumPy's BLAS",
                "pip install scipy")
    return ("BLAS", "ok", "NumPy's BLAS; SciPy's cython_blas available (cpu_c__blas=scipy)", "")


def add_checks(report: Any, config: Any) -> None:
    for line in (compiler_check(config), blas_check()):
        report.add(*line)
