"""Shared C snippets of generated modules; the dtype helpers are :mod:`opcore.cbuild.ctypes`'s.

``ctype(dtype)`` is the NumPy C-API type the C backend computes ``dtype`` in (``KeyError`` when
the C backend cannot handle the dtype); ``C_DTYPES`` are the dtypes it handles.
"""

from __future__ import annotations

import numpy as np

from opcore.cbuild.ctypes import NPY_DTYPES as C_DTYPES
from opcore.cbuild.ctypes import c_string, typenum
from opcore.cbuild.ctypes import npy_ctype as ctype

__all__ = ["C_DTYPES", "HELPERS", "PRELUDE", "c_string", "ctype", "params_struct", "typenum",
           "var_typedefs"]


PRELUDE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_math.h>
#include <math.h>
#include <tgmath.h>
#include <string.h>
"""

HELPERS = r"""
static int oc_in(PyObject* cell, int typenum, int nd, const npy_intp* sshape,
                 PyArrayObject** out, const char* who)
{
    PyObject* o = PyList_GET_ITEM(cell, 0);
    PyArrayObject* a;
    int d;
    if (o == NULL || o == Py_None) {
        PyErr_Format(PyExc_RuntimeError, "%s: the input value is missing", who);
        return -1;
    }
    if (PyArray_Check(o)) {
        a = (PyArrayObject*)o;
        if (PyArray_TYPE(a) != typenum && !PyArray_EquivTypenums(PyArray_TYPE(a), typenum)) {
            PyArray_Descr* want = PyArray_DescrFromType(typenum);
            PyErr_Format(PyExc_TypeError, "%s: expected dtype %S, got an array of dtype %S",
                         who, (PyObject*)want, (PyObject*)PyArray_DESCR(a));
            Py_XDECREF(want);
            return -1;
        }
        if (PyArray_ISBYTESWAPPED(a) || !PyArray_ISALIGNED(a)) {
            a = (PyArrayObject*)PyArray_FromAny(o, PyArray_DescrFromType(typenum), 0, 0,
                                                NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED, NULL);
            if (a == NULL) return -1;
        } else {
            Py_INCREF(o);
        }
    } else {
        a = (PyArrayObject*)PyArray_FromAny(o, PyArray_DescrFromType(typenum), 0, 0,
                                            NPY_ARRAY_FORCECAST | NPY_ARRAY_ALIGNED, NULL);
        if (a == NULL) return -1;
    }
    if (PyArray_NDIM(a) != nd) {
        PyErr_Format(PyExc_TypeError, "%s: expected a %d-d array, got %d-d (shape %R)", who, nd,
                     PyArray_NDIM(a), PyObject_GetAttrString((PyObject*)a, "shape"));
        Py_DECREF(a);
        return -1;
    }
    for (d = 0; d < nd; d++) {
        if (sshape[d] >= 0 && PyArray_DIMS(a)[d] != sshape[d]) {
            PyErr_Format(PyExc_ValueError,
                         "%s: dimension %d has length %zd, but the variable's type says %zd",
                         who, d, (Py_ssize_t)PyArray_DIMS(a)[d], (Py_ssize_t)sshape[d]);
            Py_DECREF(a);
            return -1;
        }
    }
    *out = a;
    return 0;
}

/* (re)allocate *o unless it already is a writeable C-contiguous array of this shape/type */
static int oc_alloc(PyArrayObject** o, int nd, const npy_intp* dims, int typenum)
{
    PyArrayObject* a = *o;
    int d;
    if (a != NULL && PyArray_NDIM(a) == nd && PyArray_TYPE(a) == typenum
        && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISWRITEABLE(a) && PyArray_ISALIGNED(a)
        && PyArray_BASE(a) == NULL) {
        for (d = 0; d < nd; d++) if (PyArray_DIMS(a)[d] != dims[d]) break;
        if (d == nd) return 0;
    }
    Py_XDECREF(a);
    *o = (PyArrayObject*)PyArray_EMPTY(nd, (npy_intp*)dims, typenum, 0);
    return *o == NULL ? -1 : 0;
}

static void oc_store(PyObject* cell, PyArrayObject* v)
{
    PyObject* old = PyList_GET_ITEM(cell, 0);
    PyList_SET_ITEM(cell, 0, (PyObject*)v);
    Py_XDECREF(old);
}

static PyArrayObject* oc_cur(PyObject* cell)
{
    PyObject* o = PyList_GET_ITEM(cell, 0);
    if (o != NULL && PyArray_CheckExact(o)) { Py_INCREF(o); return (PyArrayObject*)o; }
    return NULL;
}
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
