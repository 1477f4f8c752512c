#section support_code
/* a*x + b over any strides (negative ones included), one element at a time */


#section support_code_apply
static int APPLY_SPECIFIC(axpb)(PyArrayObject* x, PyArrayObject** out, double a, double b)
{
    PyArrayIterObject* it;
    DTYPE_OUTPUT_0* z;
    npy_intp i = 0;
    if (*out == NULL || PyArray_NDIM(*out) != PyArray_NDIM(x)
        || !PyArray_CompareLists(PyArray_DIMS(*out), PyArray_DIMS(x), PyArray_NDIM(x))
        || !PyArray_IS_C_CONTIGUOUS(*out)) {
        Py_XDECREF(*out);
        *out = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(x), PyArray_DIMS(x),
                                             TYPENUM_OUTPUT_0, 0);
        if (*out == NULL) return -1;
    }
    if (PyArray_SIZE(x) == 0) return 0;
    it = (PyArrayIterObject*)PyArray_IterNew((PyObject*)x);
    if (it == NULL) return -1;
    z = (DTYPE_OUTPUT_0*)PyArray_DATA(*out);
    while (it->index < it->size) {
        z[i++] = (DTYPE_OUTPUT_0)(a * (*(DTYPE_INPUT_0*)it->dataptr) + b);
        PyArray_ITER_NEXT(it);
    }
    Py_DECREF(it);
    return 0;
}

#section code
{
    PyObject* pa = PyObject_GetAttrString(PARAMS, "a");
    PyObject* pb = PyObject_GetAttrString(PARAMS, "b");
    double a = pa ? PyFloat_AsDouble(pa) : 0.0, b = pb ? PyFloat_AsDouble(pb) : 0.0;
    Py_XDECREF(pa); Py_XDECREF(pb);
    if (PyErr_Occurred()) FAIL
    if (APPLY_SPECIFIC(axpb)(INPUT_0, &OUTPUT_0, a, b) != 0) FAIL
}
