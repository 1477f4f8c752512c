"""The prelude and dtype helpers of generated modules (the C helpers are in opcore.cbuild)."""

from __future__ import annotations

import numpy as np

C_TYPES = {
    "bool": "npy_bool", "int8": "npy_int8", "int16": "npy_int16", "int32": "npy_int32",
    "int64": "npy_int64", "uint8": "npy_uint8", "uint16": "npy_uint16", "uint32": "npy_uint32",
    "uint64": "npy_uint64", "float32": "npy_float32", "float64": "npy_float64",
}


def ctype(dtype: str) -> str:
    """The C type of a NumPy dtype name (KeyError when the C backend cannot handle it)."""
    return C_TYPES[np.dtype(dtype).name]


def typenum(dtype: str) -> str:
    """The NumPy C type-number macro of a dtype name (``NPY_FLOAT64``)."""
    return "NPY_" + np.dtype(dtype).name.upper()


def c_string(s: str) -> str:
    """``s`` as a C string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


#: The includes every module starts with; ``opcore_helpers.h`` (``oc_in``, ``oc_alloc``,
#: ``oc_store``, ``oc_cur``) is documented in ``opcore/cbuild/include``.
PRELUDE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_math.h>
#include <math.h>
#include <tgmath.h>
#include <string.h>
#include "opcore_helpers.h"
"""
