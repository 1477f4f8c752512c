"""C implementations of ``Shape``, ``Shape_i``, ``Cast``, ``Alloc`` and ``MakeVector``
(``opcore.tensor.basic``)."""

from __future__ import annotations

from typing import Any

from opcore.tensor.basic import Alloc, Cast, MakeVector, Shape, Shape_i

from opcore_cpu_c.ccode import ctype, typenum


class _Base:
    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (3,)


class ShapeC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        nd = node.inputs[0].type.ndim
        return (f"npy_intp n = {nd}; int d; if (oc_alloc(&{z}, 1, &n, NPY_INT64)) {sub['fail']}\n"
                f"for (d = 0; d < {nd}; d++) ((npy_int64*)PyArray_DATA({z}))[d] = "
                f"PyArray_DIMS({x})[d];")


class ShapeIC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        return (f"if (oc_alloc(&{z}, 0, NULL, NPY_INT64)) {sub['fail']}\n"
                f"*(npy_int64*)PyArray_DATA({z}) = PyArray_DIMS({x})[{node.op.i}];")


class CastC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        nd = node.outputs[0].type.ndim
        return f"""
if (oc_alloc(&{z}, {nd}, PyArray_DIMS({x}), {typenum(node.op.dtype)})) {sub['fail']}
if (PyArray_CopyInto({z}, {x}) < 0) {sub['fail']}
"""


class AllocC(_Base):
    def c_code(self, node, name, inputs, outputs, sub):
        v, *shape = inputs
        (z,) = outputs
        nd = len(shape)
        lines = [f"npy_intp d_[{nd + 1}];"]
        for k, s in enumerate(shape):
            lines.append(f"d_[{k}] = (npy_intp)*(npy_int64*)PyArray_DATA({s});")
            lines.append(f"if (d_[{k}] < 0) {{ PyErr_SetString(PyExc_ValueError, \"Alloc: "
                         f"negative dimension\"); {sub['fail']} }}")
        vt = node.inputs[0].type
        lead = nd - vt.ndim
        for d, bc in enumerate(vt.broadcastable):
            if not bc:
                lines.append(f"if (PyArray_DIMS({v})[{d}] != d_[{lead + d}]) {{ PyErr_Format("
                             f"PyExc_ValueError, \"Alloc: cannot broadcast the value's dimension "
                             f"{d} (length %zd, not declared broadcastable) to length %zd\", "
                             f"(Py_ssize_t)PyArray_DIMS({v})[{d}], (Py_ssize_t)d_[{lead + d}]);"
                             f" {sub['fail']} }}")
        lines.append(f"if (oc_alloc(&{z}, {nd}, d_, {typenum(node.outputs[0].type.dtype)})) "
                     f"{sub['fail']}")
        lines.append(f"if (PyArray_CopyInto({z}, {v}) < 0) {sub['fail']}")
        return "\n".join(lines)

    def c_supports(self, node):
        return all(s.type.dtype == "int64" for s in node.inputs[1:])


class MakeVectorC(_Base):
    """The scalars (already of the vector's dtype: ``MakeVector.make_node`` casts them) copied
    into a new 1-d array."""

    def c_code(self, node, name, inputs, outputs, sub):
        (z,) = outputs
        dt = node.outputs[0].type.dtype
        t = ctype(dt)
        lines = [f"npy_intp n_ = {len(inputs)};",
                 f"if (oc_alloc(&{z}, 1, &n_, {typenum(dt)})) {sub['fail']}"]
        for j, x in enumerate(inputs):
            lines.append(f"(({t}*)PyArray_DATA({z}))[{j}] = *({t}*)PyArray_DATA({x});")
        return "\n".join(lines)

    def c_supports(self, node):
        return all(v.type.dtype == node.outputs[0].type.dtype for v in node.inputs)


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Shape, ShapeC())
    impls.register("c", Shape_i, ShapeIC())
    impls.register("c", Cast, CastC())
    impls.register("c", Alloc, AllocC())
    impls.register("c", MakeVector, MakeVectorC())
