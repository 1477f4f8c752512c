/* opcore_helpers.h: the C helpers shared by every module opcore builds (opcore.cbuild).
 *
 * Include it after Python.h and numpy/arrayobject.h (the C backend's modules do; ops that use the
 * helpers list "opcore_helpers.h" in c_headers(); the directory is on the include path of every
 * build). The module must call import_array() in its init function. All helpers are static.
 *
 *   int oc_alloc(PyArrayObject** o, int nd, const npy_intp* dims, int typenum)
 *       Make *o a writeable, aligned, C-contiguous array of shape dims[0..nd) and type typenum
 *       that owns its data. An *o that already is one is kept (its contents are NOT cleared);
 *       otherwise *o is released (Py_XDECREF) and replaced by a new uninitialised array.
 *       Returns 0, or -1 with a Python exception set (MemoryError).
 *
 *   int oc_in(PyObject* cell, int typenum, int nd, const npy_intp* sshape, PyArrayObject** out,
 *             PyObject* names, Py_ssize_t who)
 *       Read the value in storage cell `cell` (a one-element list) as an ndarray of type
 *       typenum and rank nd; sshape[d] >= 0 requires that length of dimension d. Non-arrays are
 *       converted, byte-swapped or unaligned arrays copied. On success *out is a new reference
 *       and 0 is returned; else -1 with TypeError/ValueError naming names[who] (a str: the
 *       variable's description, given at run time so that names are not part of the module).
 *
 *   void oc_store(PyObject* cell, PyArrayObject* v)
 *       Put v (a reference that is stolen) in storage cell `cell`, releasing the old value.
 *
 *   PyArrayObject* oc_cur(PyObject* cell)
 *       The ndarray currently in `cell` as a new reference (to be reused as an output buffer),
 *       or NULL when the cell holds no exact ndarray.
 *
 * A module built from several translation units (the C backend's linked modules) compiles the
 * helpers once: the unit that defines OC_HELPERS_DEFINE before including this header gets
 * external definitions, units that define OC_HELPERS_EXTERN get declarations only. Without
 * either (one unit per module, the default) the helpers are static.
 *
 * Scalar helpers of the elementwise loops (the C dialect's spelling of the OPCORE_* names in the
 * scalar ops' C templates, opcore.cbuild.render):
 *
 *   npy_uint64 oc_ipow(npy_uint64 base, npy_uint64 exponent)
 *       base ** exponent modulo 2**64 (square and multiply). Cast to a narrower integer type it
 *       is NumPy's wrapping integer power in that type (multiplication modulo 2**k commutes
 *       with the truncation).
 *
 *   npy_float64 oc_floor_divide(npy_float64 a, npy_float64 b), oc_remainder(a, b)
 *   npy_float32 oc_floor_dividef(npy_float32 a, npy_float32 b), oc_remainderf(a, b)
 *       NumPy's np.floor_divide / np.remainder of floats (its npy_divmod rule, which is
 *       Python's float divmod): the remainder takes the divisor's sign (a zero one is signed
 *       as b), the quotient is (a - remainder) / b snapped to the integer below (or above when
 *       more than half away), a zero quotient signed as a / b; b == 0 gives a / b and
 *       fmod(a, 0) (inf or NaN); NaN and inf propagate as in NumPy.
 *
 *   OC_SETERR(bit)
 *       An expression ORing bit into the int oc_err, which a loop using it declares (0) before
 *       it and tests after it, raising the error the scalar op declares for that bit
 *       (ScalarOp.c_errors), as NumPy's integer power raises for a negative exponent.
 */
#ifndef OPCORE_HELPERS_H
#define OPCORE_HELPERS_H

#ifdef OC_HELPERS_EXTERN
int oc_in(PyObject* cell, int typenum, int nd, const npy_intp* sshape, PyArrayObject** out,
          PyObject* names, Py_ssize_t who_index);
int oc_alloc(PyArrayObject** o, int nd, const npy_intp* dims, int typenum);
void oc_store(PyObject* cell, PyArrayObject* v);
PyArrayObject* oc_cur(PyObject* cell);
#else
#ifdef OC_HELPERS_DEFINE
#define OC_HELPER_FN
#else
#define OC_HELPER_FN static
#endif

OC_HELPER_FN int oc_in(PyObject* cell, int typenum, int nd, const npy_intp* sshape,
                 PyArrayObject** out, PyObject* names, Py_ssize_t who_index)
{
    PyObject* o = PyList_GET_ITEM(cell, 0);
    PyObject* who = PyTuple_GET_ITEM(names, who_index);
    PyArrayObject* a;
    int d;
    if (o == NULL || o == Py_None) {
        PyErr_Format(PyExc_RuntimeError, "%U: the input value is missing", who);
        return -1;
    }
    if (PyArray_Check(o)) {
        a = (PyArrayObject*)o;
        if (PyArray_TYPE(a) != typenum && !PyArray_EquivTypenums(PyArray_TYPE(a), typenum)) {
            PyArray_Descr* want = PyArray_DescrFromType(typenum);
            PyErr_Format(PyExc_TypeError, "%U: expected dtype %S, got an array of dtype %S",
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
        PyObject* shape = PyObject_GetAttrString((PyObject*)a, "shape");
        PyErr_Format(PyExc_TypeError, "%U: expected a %d-d array, got %d-d (shape %R)", who, nd,
                     PyArray_NDIM(a), shape ? shape : Py_None);
        Py_XDECREF(shape);
        Py_DECREF(a);
        return -1;
    }
    for (d = 0; d < nd; d++) {
        if (sshape[d] >= 0 && PyArray_DIMS(a)[d] != sshape[d]) {
            PyErr_Format(PyExc_ValueError,
                         "%U: dimension %d has length %zd, but the variable's type says %zd",
                         who, d, (Py_ssize_t)PyArray_DIMS(a)[d], (Py_ssize_t)sshape[d]);
            Py_DECREF(a);
            return -1;
        }
    }
    *out = a;
    return 0;
}

OC_HELPER_FN int oc_alloc(PyArrayObject** o, int nd, const npy_intp* dims, int typenum)
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

OC_HELPER_FN void oc_store(PyObject* cell, PyArrayObject* v)
{
    PyObject* old = PyList_GET_ITEM(cell, 0);
    PyList_SET_ITEM(cell, 0, (PyObject*)v);
    Py_XDECREF(old);
}

OC_HELPER_FN PyArrayObject* oc_cur(PyObject* cell)
{
    PyObject* o = PyList_GET_ITEM(cell, 0);
    if (o != NULL && PyArray_CheckExact(o)) { Py_INCREF(o); return (PyArrayObject*)o; }
    return NULL;
}

#endif /* OC_HELPERS_EXTERN */

/* static inline in every translation unit (the loops of any unit call them) */
static inline npy_uint64 oc_ipow(npy_uint64 base, npy_uint64 exponent)
{
    npy_uint64 r = 1;
    while (exponent) {
        if (exponent & 1) r *= base;
        base *= base;
        exponent >>= 1;
    }
    return r;
}

#define OC_DIVMOD(T, SUF)                                                                    \
static inline T oc_divmod##SUF(T a, T b, T* rem)                                              \
{                                                                                             \
    T m = fmod##SUF(a, b), q, f;                                                              \
    if (b == 0) { *rem = m; return a / b; }                                                   \
    q = (a - m) / b;                                                                          \
    if (m != 0) {                                                                             \
        if ((b < 0) != (m < 0)) { m += b; q -= 1; }                                           \
    } else {                                                                                  \
        m = copysign##SUF(0, b);                                                              \
    }                                                                                         \
    if (q != 0) {                                                                             \
        f = floor##SUF(q);                                                                    \
        if (q - f > (T)0.5) f += 1;                                                           \
    } else {                                                                                  \
        f = copysign##SUF(0, a / b);                                                          \
    }                                                                                         \
    *rem = m;                                                                                 \
    return f;                                                                                 \
}                                                                                             \
static inline T oc_floor_divide##SUF(T a, T b) { T r; return oc_divmod##SUF(a, b, &r); }      \
static inline T oc_remainder##SUF(T a, T b) { T r; (void)oc_divmod##SUF(a, b, &r); return r; }
OC_DIVMOD(npy_float64, )
OC_DIVMOD(npy_float32, f)
#undef OC_DIVMOD

#define OC_SETERR(bit) (oc_err |= (bit))
#endif /* OPCORE_HELPERS_H */
