#section support_code_struct
static npy_int64 APPLY_SPECIFIC(calls);

#section init_code_struct
APPLY_SPECIFIC(calls) = 100;

#section code
{
    npy_intp n = PyArray_SIZE(INPUT_0);
    npy_intp i;
    DTYPE_INPUT_0* in;
    DTYPE_OUTPUT_0* out;
    if (ITEMSIZE_INPUT_0 != sizeof(DTYPE_INPUT_0) || TYPENUM_OUTPUT_0 != TYPENUM_INPUT_0) {
        PyErr_SetString(PyExc_RuntimeError, "macro mismatch");
        FAIL;
    }
    Py_XDECREF(OUTPUT_0);
    OUTPUT_0 = (PyArrayObject*)PyArray_FROMANY((PyObject*)INPUT_0, TYPENUM_OUTPUT_0, 0, 0,
                                               NPY_ARRAY_ENSURECOPY | NPY_ARRAY_C_CONTIGUOUS);
    if (OUTPUT_0 == NULL) FAIL;
    APPLY_SPECIFIC(calls) += 1;
    out = (DTYPE_OUTPUT_0*)PyArray_DATA(OUTPUT_0);
    for (i = 0; i < n; i++) out[i] += (DTYPE_OUTPUT_0)(APPLY_SPECIFIC(calls) * *(DTYPE_PARAM_factor*)PyArray_DATA(PARAMS->factor));
    (void)in;
}
