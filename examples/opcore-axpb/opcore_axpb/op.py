"""The AXPBOp op: ``z = a * x + b`` elementwise on a float tensor.

This is the op to change.  An opcore op is a class with:

- ``__props__``: the attributes that define it; opcore derives ``__eq__``, ``__hash__`` and
  ``__str__`` from them, so two ops with equal props are merged in a graph and cached together;
- ``make_node(*inputs)``: checks the inputs and returns an ``Apply`` with the output types;
- ``perform(node, inputs, output_storage)``: the Python/NumPy computation (the reference every
  other backend is tested against);
- ``infer_shape(node, input_shapes)``: output shapes from input shapes, without computing;
- ``grad(inputs, output_grads)``: symbolic gradients with respect to each input.
- ``c_code`` & co.: the C implementation (Theano's C op protocol), compiled by the
  ``opcore-cpu-c`` backend when it is installed; ``perform`` is used everywhere else.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import opcore.tensor as T
from opcore import Apply, Op

FLOAT_DTYPES = ("float32", "float64")


class AXPBOp(Op):
    """``AXPBOp(a, b)(x)`` computes ``a * x + b`` for a float tensor ``x``."""

    __props__ = ("a", "b")

    def __init__(self, a: float = 2.0, b: float = 1.0) -> None:
        self.a = float(a)
        self.b = float(b)

    def make_node(self, x: Any) -> Apply:
        x = T.as_tensor_variable(x)
        if x.type.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{type(self).__name__}: input x must be a float32 or float64 tensor, "
                            f"got {x.type} (dtype {x.type.dtype})")
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray],
                output_storage: list[list[Any]]) -> None:
        (x,) = inputs
        dtype = node.outputs[0].type.dtype
        output_storage[0][0] = np.asarray(self.a * x + self.b, dtype=dtype)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def grad(self, inputs: Sequence[Any], output_grads: Sequence[Any]) -> list[Any]:
        (x,) = inputs
        (gz,) = output_grads
        return [T.cast(gz * self.a, x.type.dtype)]

    # -- C implementation (used by the opcore-cpu-c backend) -----------------------------------
    def c_code_cache_version(self) -> tuple:
        """Bump whenever the C below changes: compiled modules are cached under this version."""
        return (1,)

    def c_support_code_apply(self, node: Apply, name: str) -> str:
        """A helper function, unique to this node (``name``), placed at module scope."""
        ctype = "npy_" + node.outputs[0].type.dtype
        return """
static int %(name)s_affine(PyArrayObject* x, PyArrayObject** z, double a, double b)
{
    PyArrayIterObject* it;
    %(ctype)s* out;
    npy_intp i = 0;
    /* reuse the previous output only when it has the right shape and is C-contiguous */
    if (*z == NULL || PyArray_NDIM(*z) != PyArray_NDIM(x)
        || !PyArray_CompareLists(PyArray_DIMS(*z), PyArray_DIMS(x), PyArray_NDIM(x))
        || !PyArray_IS_C_CONTIGUOUS(*z)) {
        Py_XDECREF(*z);
        *z = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(x), PyArray_DIMS(x),
                                           PyArray_TYPE(x), 0);
        if (*z == NULL) return -1;
    }
    if (PyArray_SIZE(x) == 0) return 0;
    /* the iterator walks x in C order whatever its strides (views, negative steps) */
    it = (PyArrayIterObject*)PyArray_IterNew((PyObject*)x);
    if (it == NULL) return -1;
    out = (%(ctype)s*)PyArray_DATA(*z);
    while (it->index < it->size) {
        out[i++] = (%(ctype)s)(a * (double)(*(%(ctype)s*)it->dataptr) + b);
        PyArray_ITER_NEXT(it);
    }
    Py_DECREF(it);
    return 0;
}
""" % {"name": name, "ctype": ctype}

    def c_code(self, node: Apply, name: str, inputs: Sequence[str], outputs: Sequence[str],
               sub: dict) -> str:
        """The node's body: ``inputs``/``outputs`` name its ``PyArrayObject*`` variables,
        ``sub['fail']`` jumps to the error exit, ``sub['params']`` is this op object (so the
        props are read at run time and one compiled module serves every ``a`` and ``b``)."""
        return """
{
    PyObject* pa = PyObject_GetAttrString(%(params)s, "a");
    PyObject* pb = PyObject_GetAttrString(%(params)s, "b");
    double a = pa ? PyFloat_AsDouble(pa) : 0.0;
    double b = pb ? PyFloat_AsDouble(pb) : 0.0;
    Py_XDECREF(pa);
    Py_XDECREF(pb);
    if (PyErr_Occurred()) %(fail)s
    if (%(name)s_affine(%(x)s, &%(z)s, a, b) != 0) %(fail)s
}
""" % {"params": sub["params"], "fail": sub["fail"], "name": name, "x": inputs[0],
       "z": outputs[0]}


def axpb(x: Any, a: float = 2.0, b: float = 1.0) -> Any:
    """Symbolic ``a * x + b`` (elementwise) for a float tensor ``x``."""
    return AXPBOp(a, b)(x)
