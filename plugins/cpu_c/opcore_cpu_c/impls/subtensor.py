"""C implementations of basic ``Subtensor`` and ``IncSubtensor`` (slices, integers, newaxis)."""

from __future__ import annotations

from typing import Any

from opcore.tensor.subtensor import IncSubtensor, Subtensor, _is_advanced

from opcore_cpu_c.ccode import c_string, typenum


class _Base:
    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (3,)


def _index_code(spec, vals, fail):
    """C building ``PyObject* idx`` (a tuple) from an idx_spec and its scalar inputs."""
    # a trailing Ellipsis makes NumPy return a (0-d) array view even when every axis has an
    # integer index, so IncSubtensor can write through it
    lines = [f"PyObject* idx = PyTuple_New({len(spec) + 1}); if (idx == NULL) {fail}",
             f"Py_INCREF(Py_Ellipsis); PyTuple_SET_ITEM(idx, {len(spec)}, Py_Ellipsis);"]
    it = iter(vals)
    for k, s in enumerate(spec):
        if s[0] == "slice":
            lines.append("{ PyObject* a[3] = {NULL, NULL, NULL};")
            for m, has in enumerate(s[1:4]):
                if has:
                    var = next(it)
                    lines.append(f"  a[{m}] = PyArray_ToScalar(PyArray_DATA({var}), {var});")
            lines.append("  PyObject* sl = PySlice_New(a[0], a[1], a[2]);")
            lines.append("  Py_XDECREF(a[0]); Py_XDECREF(a[1]); Py_XDECREF(a[2]);")
            lines.append(f"  if (sl == NULL) {{ Py_DECREF(idx); {fail} }}")
            lines.append(f"  PyTuple_SET_ITEM(idx, {k}, sl); }}")
        elif s[0] == "int":
            var = next(it)
            lines.append(f"{{ PyObject* i = PyArray_ToScalar(PyArray_DATA({var}), {var});")
            lines.append(f"  if (i == NULL) {{ Py_DECREF(idx); {fail} }}")
            lines.append(f"  PyTuple_SET_ITEM(idx, {k}, i); }}")
        else:  # none
            lines.append(f"Py_INCREF(Py_None); PyTuple_SET_ITEM(idx, {k}, Py_None);")
    return "\n".join(lines)


def _basic(node):
    return not _is_advanced(node.op.idx_spec) and all(
        s[0] in ("slice", "int", "none") for s in node.op.idx_spec)

class SubtensorC(_Base):
    def c_supports(self, node):
        return _basic(node)

    def c_code(self, node, name, inputs, outputs, sub):
        x, *vals = inputs
        (z,) = outputs
        fail = sub["fail"]
        return _index_code(node.op.idx_spec, vals, fail) + f"""
{{ PyObject* r = PyObject_GetItem((PyObject*){x}, idx); Py_DECREF(idx);
  if (r == NULL) {fail}
  if (!PyArray_Check(r)) {{ PyObject* a = PyArray_FromAny(r, NULL, 0, 0, 0, NULL);
      Py_DECREF(r); r = a; if (r == NULL) {fail} }}
  Py_XDECREF({z}); {z} = (PyArrayObject*)r; }}
"""


class IncSubtensorC(_Base):
    def c_supports(self, node):
        # x[i, j] = y with every dimension indexed by an integer selects a scalar, not a view
        # this kernel could write through: leave that case to perform()
        n_int = sum(1 for s in node.op.idx_spec if s[0] == "int")
        return _basic(node) and n_int < node.inputs[0].ndim

    def c_code(self, node, name, inputs, outputs, sub):
        x, y, *vals = inputs
        (z,) = outputs
        fail = sub["fail"]
        op = node.op
        nd = node.outputs[0].type.ndim
        if op.inplace:
            get = f"Py_XDECREF({z}); {z} = {x}; Py_INCREF({z});"
        else:
            get = (f"if (oc_alloc(&{z}, {nd}, PyArray_DIMS({x}), "
                   f"{typenum(node.outputs[0].type.dtype)})) {{ Py_DECREF(idx); {fail} }}\n"
                   f"if (PyArray_CopyInto({z}, {x}) < 0) {{ Py_DECREF(idx); {fail} }}")
        if op.set_instead_of_inc:
            act = f"int rc = PyArray_CopyInto((PyArrayObject*)view, {y});"
        else:
            act = (f"PyObject* s = PyNumber_InPlaceAdd(view, (PyObject*){y}); int rc = s ? 0 : -1;"
                   " Py_XDECREF(s);")
        return _index_code(op.idx_spec, vals, fail) + f"""
{get}
{{ PyObject* view = PyObject_GetItem((PyObject*){z}, idx); Py_DECREF(idx);
  if (view == NULL) {fail}
  if (!PyArray_Check(view)) {{ /* an integer index of a 0-d result: write through a 0-d view */
      Py_DECREF(view);
      PyErr_SetString(PyExc_IndexError, {c_string(f"{op}: integer index gives a scalar")});
      {fail} }}
  {{ {act} Py_DECREF(view); if (rc < 0) {fail} }} }}
"""


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Subtensor, SubtensorC())
    impls.register("c", IncSubtensor, IncSubtensorC())
