"""The prelude of generated modules (the C helpers are in opcore.cbuild); the dtype helpers are
:mod:`opcore.cbuild.ctypes`'s.

``ctype(dtype)`` is the NumPy C-API type the C backend computes ``dtype`` in (``KeyError`` when
the C backend cannot handle the dtype); ``C_DTYPES`` are the dtypes it handles.
"""

from __future__ import annotations

import numpy as np

from opcore.cbuild.ctypes import NPY_DTYPES as C_DTYPES
from opcore.cbuild.ctypes import c_string, typenum
from opcore.cbuild.ctypes import npy_ctype as ctype

#: dtype name -> the NumPy C-API type the C backend computes it in (a view of the one table).
C_TYPES: dict[str, str] = {d: ctype(d) for d in sorted(C_DTYPES)}

__all__ = ["C_DTYPES", "C_TYPES", "PRELUDE", "c_string", "ctype", "params_struct", "typenum",
           "var_typedefs"]


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


def var_typedefs(name: str, dtype: str) -> list[str]:
    """Theano's per-variable C names for ``c_code``: ``dtype_<name>`` (a typedef),
    ``type_num_<name>`` and ``itemsize_<name>`` (constants), for a variable named ``name``."""
    d = np.dtype(dtype)
    return [f"    typedef {ctype(dtype)} dtype_{name};",
            f"    const int type_num_{name} = {typenum(dtype)};",
            f"    const int itemsize_{name} = {d.itemsize};",
            f"    (void)type_num_{name}; (void)itemsize_{name};"]


def _field_ctype(t) -> str:
    if hasattr(t, "dtype") and hasattr(t, "broadcastable"):
        return "PyArrayObject*"
    return getattr(t, "c_type", None) or "PyObject*"


def params_struct(pt) -> str:
    """The C struct of a ``ParamsType`` and ``<struct>_fill(PyObject* params, <struct>* p)``,
    which reads the fields of a ``Params`` object (a dict; references stay borrowed)."""
    name = pt.struct_name
    members = [f"    {_field_ctype(t)} {f};" for f, t in zip(pt.fields, pt.types)]
    fill = []
    for f, t in zip(pt.fields, pt.types):
        ct = _field_ctype(t)
        get = f"PyDict_GetItemString(o, {c_string(f)})"
        fill.append(f"    v = {get};")
        fill.append(f"    if (v == NULL) {{ PyErr_SetString(PyExc_KeyError, "
                    f"{c_string(f'params field {f} missing')}); return -1; }}")
        if ct == "PyArrayObject*":
            fill.append("    if (!PyArray_Check(v)) { PyErr_SetString(PyExc_TypeError, "
                        f"{c_string(f'params field {f}: expected an ndarray')}); return -1; }}")
            fill.append(f"    p->{f} = (PyArrayObject*)v;")
        elif ct == "PyObject*":
            fill.append(f"    p->{f} = v;")
        elif ct in ("float", "double", "npy_float32", "npy_float64"):
            fill.append(f"    p->{f} = ({ct})PyFloat_AsDouble(v);")
            fill.append("    if (PyErr_Occurred()) return -1;")
        else:
            fill.append(f"    p->{f} = ({ct})PyLong_AsLongLong(v);")
            fill.append("    if (PyErr_Occurred()) return -1;")
    enums = "".join(t.c_defines() for t in pt.types if hasattr(t, "c_defines"))
    return "\n".join([f"#ifndef {name}_DEFINED", f"#define {name}_DEFINED", enums,
                      f"typedef struct {{\n{chr(10).join(members)}\n}} {name};",
                      f"static int {name}_fill(PyObject* o, {name}* p)", "{",
                      "    PyObject* v;",
                      "    if (!PyDict_Check(o)) { PyErr_SetString(PyExc_TypeError, "
                      "\"params: expected a Params object\"); return -1; }",
                      *fill, "    return 0;", "}", "#endif"])
