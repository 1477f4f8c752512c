"""Theano's C protocol on the C backend: per-variable ``dtype_%(x)s``/``type_num_%(x)s``/
``itemsize_%(x)s``, ``COp`` sections and macros, ``ParamsType`` as ``sub['params']``.

Every op's ``perform`` raises, so a pass proves the C ran; results are checked against NumPy.
"""

import os

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.graph.basic import Apply
from opcore.graph.cop import COp
from opcore.graph.op import Op
from opcore.graph.params import EnumList, Generic, ParamsType

DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint8", "bool"]


class _NoPerform:
    def perform(self, *args):
        raise RuntimeError("perform ran: the C code should have")


class Negate(_NoPerform, Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inp, out, sub):
        x, = inp
        z, = out
        return """
        Py_XDECREF(%(z)s);
        %(z)s = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(%(x)s), PyArray_DIMS(%(x)s),
                                              type_num_%(z)s, 0);
        if (!%(z)s) %(fail)s;
        if (PyArray_ITEMSIZE(%(z)s) != itemsize_%(z)s || type_num_%(x)s != PyArray_TYPE(%(x)s)) {
            PyErr_SetString(PyExc_RuntimeError, "typedef mismatch"); %(fail)s;
        }
        {
            NpyIter* it;
            npy_intp i, n = PyArray_SIZE(%(x)s);
            dtype_%(z)s* o = (dtype_%(z)s*)PyArray_DATA(%(z)s);
            PyArrayObject* c = (PyArrayObject*)PyArray_FROMANY((PyObject*)%(x)s, type_num_%(x)s,
                                                                0, 0, NPY_ARRAY_C_CONTIGUOUS);
            if (!c) %(fail)s;
            for (i = 0; i < n; i++) o[i] = (dtype_%(z)s)(0 - ((dtype_%(x)s*)PyArray_DATA(c))[i]);
            Py_DECREF(c);
            (void)it;
        }
        """ % dict(x=x, z=z, fail=sub["fail"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_typedefs_for_every_dtype(dtype):
    x = T.tensor(dtype, (False, False))
    f = opcore.function([x], Negate()(x), mode=Mode(backend="c"))
    assert f.linker.c_nodes
    a = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    with np.errstate(over="ignore"):
        ref = (0 - a.astype("int64")).astype(dtype) if dtype != "bool" else a
        np.testing.assert_array_equal(f(a[:, ::-1]), ref[:, ::-1])


class Counter(_NoPerform, COp):
    __props__ = ("factor",)
    params_type = ParamsType(factor=T.dscalar)

    def __init__(self, factor):
        COp.__init__(self, ["counter_cop.c"])
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


def test_cop_sections_macros_and_params_struct():
    x = T.dvector("x")
    f = opcore.function([x], Counter(0.5)(x), mode=Mode(backend="c"))
    assert f.linker.c_nodes
    v = np.array([1.0, 2.0])
    # the struct-level counter starts at 100 (init_code_struct) and grows by one per call
    np.testing.assert_allclose(f(v), v + 101 * 0.5)
    np.testing.assert_allclose(f(v), v + 102 * 0.5)


class Choose(_NoPerform, Op):
    __props__ = ("how", "obj")
    params_type = ParamsType(how=EnumList("FIRST", "SECOND"), obj=Generic())

    def __init__(self, how, obj):
        self.how, self.obj = how, obj

    def make_node(self, x, y):
        x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
        return Apply(self, [x, y], [x.type()])

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inp, out, sub):
        x, y = inp
        z, = out
        p = sub["params"]
        return """
        if (!PyLong_Check(%(p)s->obj)) {
            PyErr_SetString(PyExc_TypeError, "obj field"); %(fail)s;
        }
        Py_XDECREF(%(z)s);
        %(z)s = (PyArrayObject*)PyArray_NewCopy(%(p)s->how == FIRST ? %(x)s : %(y)s, NPY_CORDER);
        if (!%(z)s) %(fail)s;
        """ % dict(x=x, y=y, z=z, p=p, fail=sub["fail"])


def test_params_type_enum_and_generic_fields():
    x, y = T.dvectors("x", "y")
    f = opcore.function([x, y], [Choose(0, 7)(x, y), Choose(1, 7)(x, y)], mode=Mode(backend="c"))
    assert len(f.linker.c_nodes) == 2
    a, b = f(np.array([1.0]), np.array([2.0]))
    assert a.tolist() == [1.0] and b.tolist() == [2.0]


class GenericParams(_NoPerform, Op):
    __props__ = ()
    params_type = Generic()

    def get_params(self, node):
        return 3

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inp, out, sub):
        return """
        Py_XDECREF(%(z)s);
        %(z)s = (PyArrayObject*)PyArray_NewCopy(%(x)s, NPY_CORDER);
        if (!%(z)s) %(fail)s;
        ((dtype_%(z)s*)PyArray_DATA(%(z)s))[0] *= PyLong_AsLong(%(p)s);
        """ % dict(x=inp[0], z=out[0], p=sub["params"], fail=sub["fail"])


def test_generic_params_is_the_get_params_object():
    x = T.dvector("x")
    f = opcore.function([x], GenericParams()(x), mode=Mode(backend="c"))
    assert f(np.array([2.0, 5.0])).tolist() == [6.0, 5.0]


def test_counter_file_is_next_to_this_module():
    assert os.path.isfile(os.path.join(os.path.dirname(__file__), "counter_cop.c"))
