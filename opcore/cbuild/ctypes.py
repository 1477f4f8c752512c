"""The one dtype -> C type table of every plugin that generates C-family code.

One row per NumPy dtype, one column per naming convention:

- ``npy``: the NumPy C-API type (``npy_float64``) the C backend computes in; ``None`` for
  ``float16``, which the C backend does not compute in (NumPy's ``npy_half`` is a bit pattern);
- ``c``: the plain C type of the same width (``double``; ``float16`` as its 16-bit pattern,
  ``unsigned short``), for host code compiled without the NumPy headers;
- ``ga``: the libgpuarray kernel type (``ga_double``, ``ga_half``) that the CUDA and OpenCL
  preambles define.

Imports nothing but NumPy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class CTypes(NamedTuple):
    """The C spellings of one dtype (see the module docstring)."""

    npy: str | None
    c: str
    ga: str


#: dtype name -> its C types.
C_TYPES: dict[str, CTypes] = {
    "bool": CTypes("npy_bool", "unsigned char", "ga_bool"),
    "int8": CTypes("npy_int8", "signed char", "ga_byte"),
    "uint8": CTypes("npy_uint8", "unsigned char", "ga_ubyte"),
    "int16": CTypes("npy_int16", "short", "ga_short"),
    "uint16": CTypes("npy_uint16", "unsigned short", "ga_ushort"),
    "int32": CTypes("npy_int32", "int", "ga_int"),
    "uint32": CTypes("npy_uint32", "unsigned int", "ga_uint"),
    "int64": CTypes("npy_int64", "long long", "ga_long"),
    "uint64": CTypes("npy_uint64", "unsigned long long", "ga_ulong"),
    "float16": CTypes(None, "unsigned short", "ga_half"),
    "float32": CTypes("npy_float32", "float", "ga_float"),
    "float64": CTypes("npy_float64", "double", "ga_double"),
}

#: dtype names the NumPy C-API column covers (what the C backend computes in).
NPY_DTYPES: frozenset[str] = frozenset(d for d, t in C_TYPES.items() if t.npy is not None)


def _row(dtype: object) -> CTypes:
    if dtype.__class__ is str and dtype in C_TYPES:  # a canonical name (no np.dtype: its .name
        return C_TYPES[dtype]  # is computed in Python by NumPy 2, microseconds per call)
    name = np.dtype(dtype).name  # type: ignore[call-overload]
    try:
        return C_TYPES[name]
    except KeyError:
        raise KeyError(f"no C type for dtype {name!r}; known: {', '.join(C_TYPES)}") from None


def npy_ctype(dtype: object) -> str:
    """The NumPy C-API type of ``dtype`` (``'float32'`` -> ``'npy_float32'``).

    Raises ``KeyError`` for a dtype without one (``float16``, ``complex64``, object)."""
    t = _row(dtype).npy
    if t is None:
        name = np.dtype(dtype).name  # type: ignore[call-overload]
        raise KeyError(f"no NumPy C-API compute type for dtype {name!r}")
    return t


def plain_ctype(dtype: object) -> str:
    """The plain C type of ``dtype`` (``'int64'`` -> ``'long long'``); ``KeyError`` if none."""
    return _row(dtype).c


def ga_ctype(dtype: object) -> str:
    """The libgpuarray kernel type of ``dtype`` (``'float32'`` -> ``'ga_float'``)."""
    return _row(dtype).ga


def typenum(dtype: object) -> str:
    """The NumPy C type-number macro of ``dtype`` (``'float64'`` -> ``'NPY_FLOAT64'``)."""
    name = dtype if dtype.__class__ is str and dtype in C_TYPES else np.dtype(dtype).name  # type: ignore[call-overload]
    return "NPY_" + name.upper()


def c_string(s: str) -> str:
    """``s`` as a C string literal (backslashes, quotes and newlines escaped)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
