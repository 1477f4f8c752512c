"""The ``cblas_?gemm`` functions of the BLAS library NumPy itself calls.

The C backend's in-place ``Gemm`` lets ``?gemm`` scale and accumulate straight into ``z``
(``beta``), which NumPy's Python/C API cannot do (``PyArray_MatrixProduct2`` only writes a
product).  Calling the very library NumPy's ``dot`` uses keeps one BLAS thread pool in the
process: SciPy's BLAS is a second OpenBLAS with its own threads, which would spin against
NumPy's on a small machine.  NumPy's wheels ship OpenBLAS with 64-bit integers and the symbol
names ``scipy_cblas_sgemm64_``/``scipy_cblas_dgemm64_`` in ``numpy.libs`` (Linux, Windows) or
``numpy/.dylibs`` (macOS); the library is already loaded (NumPy links it), so opening it again
with :mod:`ctypes` returns the same handle.  Anything else (NumPy built against a system BLAS
or MKL) gives no functions, and the C code keeps its NumPy-only path.
"""

from __future__ import annotations

import ctypes
import functools
import os

import numpy as np

#: (symbol prefix, symbol suffix, bytes of a BLAS integer) of the builds recognised
_NAMES = (("scipy_", "64_", 8), ("", "64_", 8), ("scipy_", "", 4), ("", "", 4))


def _libraries() -> list[str]:
    """The OpenBLAS files inside NumPy's package (its wheels' bundled libraries)."""
    pkg = os.path.dirname(os.path.realpath(np.__file__))
    found = []
    for d in (pkg + ".libs", os.path.join(pkg, ".dylibs")):
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        found += [os.path.join(d, n) for n in names if "openblas" in n.lower()]
    return found


@functools.lru_cache(maxsize=None)
def cblas_gemm() -> tuple[int, int, int]:
    """``(address of cblas_sgemm, address of cblas_dgemm, bytes of a BLAS integer)`` in the
    OpenBLAS library shipped inside NumPy's package, or ``(0, 0, 0)`` when there is none."""
    for path in _libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, width in _NAMES:
            try:
                s = getattr(lib, f"{prefix}cblas_sgemm{suffix}")
                d = getattr(lib, f"{prefix}cblas_dgemm{suffix}")
            except AttributeError:
                continue
            addr = (ctypes.cast(s, ctypes.c_void_p).value, ctypes.cast(d, ctypes.c_void_p).value)
            if addr[0] and addr[1]:
                return (int(addr[0]), int(addr[1]), width)
    return (0, 0, 0)
