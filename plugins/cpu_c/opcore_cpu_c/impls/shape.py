"""C implementations of ``Reshape`` and ``Join`` (``opcore.tensor.shape``)."""

from __future__ import annotations

from typing import Any

from opcore.tensor.shape import Join, Reshape

from opcore_cpu_c.ccode import typenum


class _Base:
    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (3,)


class ReshapeC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        (x, s), (z,) = inputs, outputs
        nd = node.op.ndim
        fail = sub["fail"]
        return f"""
npy_intp d_[{nd + 1}]; PyArray_Dims nd = {{d_, {nd}}}; int k; PyArrayObject* r;
if (PyArray_SIZE({s}) != {nd}) {{
    PyErr_Format(PyExc_ValueError, "Reshape{{{nd}}}: the shape has %zd entries, expected {nd}",
                 (Py_ssize_t)PyArray_SIZE({s})); {fail} }}
for (k = 0; k < {nd}; k++) d_[k] = (npy_intp)*(npy_int64*)PyArray_GETPTR1({s}, k);
r = (PyArrayObject*)PyArray_Newshape({x}, &nd, NPY_CORDER);
if (r == NULL) {fail}
Py_XDECREF({z}); {z} = r;
"""

    def c_supports(self, node):
        return node.inputs[1].type.dtype == "int64"


class JoinC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        (z,) = outputs
        n = len(inputs)
        items = "".join(f"Py_INCREF({x}); PyTuple_SET_ITEM(t, {k}, (PyObject*){x});\n"
                        for k, x in enumerate(inputs))
        return f"""
PyObject* t = PyTuple_New({n}); PyArrayObject* r;
if (t == NULL) {sub['fail']}
{items}
r = (PyArrayObject*)PyArray_Concatenate(t, {node.op.axis});
Py_DECREF(t);
if (r == NULL) {sub['fail']}
if (PyArray_TYPE(r) != {typenum(node.outputs[0].type.dtype)}) {{
    PyArrayObject* c = (PyArrayObject*)PyArray_Cast(r, {typenum(node.outputs[0].type.dtype)});
    Py_DECREF(r); if (c == NULL) {sub['fail']} r = c; }}
Py_XDECREF({z}); {z} = r;
"""


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Reshape, ReshapeC())
    impls.register("c", Join, JoinC())
