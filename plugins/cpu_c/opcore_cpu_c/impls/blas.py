"""C implementations of ``Dot`` (2-d float through BLAS), ``Gemv``, ``Gemm`` and ``Ger``.

``config.cpu_c__blas`` picks the BLAS: ``numpy`` (NumPy's, through ``PyArray_MatrixProduct2``)
or ``scipy`` (``?gemm``/``?gemv`` through ``scipy.linalg.cython_blas`` function pointers).  Under
``numpy``, a ``Gemv`` of fewer than 9216 matrix entries (which OpenBLAS runs on one thread) still
calls SciPy's ``?gemv`` directly: NumPy's product allocates and dispatches per call, which costs
more than such a product (a scan step's ``h @ U``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.config import config
from opcore.tensor.blas import Gemm, Gemv, Ger
from opcore.tensor.math import Dot

from opcore_cpu_c.ccode import ctype, typenum


def _blas() -> str:
    try:
        return str(config.cpu_c__blas)
    except AttributeError:
        return "numpy"


#: the largest dimension or leading dimension handed to BLAS (its integers are 32-bit); larger
#: products run through NumPy's ``PyArray_MatrixProduct2`` instead
BLAS_INT_MAX = 2**31 - 1


class _Base:
    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (3,)


_BLAS_SUPPORT = r"""
#ifndef OC_BLAS_SUPPORT
#define OC_BLAS_SUPPORT
typedef void (*oc_dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*,
                           int*, double*, double*, int*);
typedef void (*oc_sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*, int*,
                           float*, float*, int*);
static oc_dgemm_t oc_dgemm = NULL;
static oc_sgemm_t oc_sgemm = NULL;
static void* oc_blas_fn(const char* fname)
{
    PyObject* m = PyImport_ImportModule("scipy.linalg.cython_blas");
    PyObject* capi; PyObject* cap; void* p = NULL;
    if (m == NULL) return NULL;
    capi = PyObject_GetAttrString(m, "__pyx_capi__");
    Py_DECREF(m);
    if (capi == NULL) return NULL;
    cap = PyDict_GetItemString(capi, fname);
    if (cap != NULL) p = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
    else PyErr_Format(PyExc_ImportError, "scipy BLAS has no %s", fname);
    Py_DECREF(capi);
    return p;
}
/* operand layout for column-major BLAS on a row-major 2-d array: 'N' when rows are contiguous */
static int oc_layout(PyArrayObject* a, char* tr, int* ld, npy_intp lim)
{
    npy_intp s0 = PyArray_STRIDES(a)[0], s1 = PyArray_STRIDES(a)[1], it = PyArray_ITEMSIZE(a);
    npy_intp r = PyArray_DIMS(a)[0], c = PyArray_DIMS(a)[1];
    if ((s1 == it || c == 1) && s0 % it == 0 && s0 / it >= (c > 1 ? c : 1) && s0 / it <= lim) {
        *tr = 'N'; *ld = (int)(s0 / it); return 1; }
    if ((s0 == it || r == 1) && s1 % it == 0 && s1 / it >= (r > 1 ? r : 1) && s1 / it <= lim) {
        *tr = 'T'; *ld = (int)(s1 / it); return 1; }
    return 0;
}
/* *a as a BLAS operand: a new reference to *a, or to a C-contiguous copy when BLAS cannot read
   its layout; 0, or -1 with a Python exception set */
static int oc_blas_operand(PyArrayObject** a, char* tr, int* ld, npy_intp lim)
{
    Py_INCREF(*a);
    if (!oc_layout(*a, tr, ld, lim)) {
        PyArrayObject* c = (PyArrayObject*)PyArray_NewCopy(*a, NPY_CORDER);
        Py_DECREF(*a); *a = c;
        if (c == NULL) return -1;
        oc_layout(c, tr, ld, lim);
    }
    return 0;
}
#endif
"""


class DotC(_Base):
    """2-d x 2-d float dot through SciPy's ``?gemm`` (function pointers, no link-time BLAS);
    other cases through ``PyArray_MatrixProduct2``."""

    def c_support_code(self, node=None):
        return _BLAS_SUPPORT + _NP_GEMM_SUPPORT

    def c_code_cache_version(self, node=None):
        return (6, _blas(), int(BLAS_INT_MAX))

    def c_code(self, node, name, inputs, outputs, sub):
        (a, b), (z,) = inputs, outputs
        fail = sub["fail"]
        zd = node.outputs[0].type.dtype
        generic = f"""
{{ PyArrayObject* r = (PyArrayObject*)PyArray_MatrixProduct2((PyObject*){a}, (PyObject*){b}, NULL);
  if (r == NULL) {fail}
  if (!PyArray_Check((PyObject*)r)) {{ /* vector . vector: NumPy returns a scalar object */
      PyObject* a0 = PyArray_FromAny((PyObject*)r, NULL, 0, 0, 0, NULL); Py_DECREF(r);
      r = (PyArrayObject*)a0; if (r == NULL) {fail} }}
  if (PyArray_TYPE(r) != {typenum(zd)}) {{
      PyArrayObject* c = (PyArrayObject*)PyArray_Cast(r, {typenum(zd)}); Py_DECREF(r);
      if (c == NULL) {fail} r = c; }}
  Py_XDECREF({z}); {z} = r; }}
"""
        ok = (node.inputs[0].type.ndim == 2 and node.inputs[1].type.ndim == 2
              and node.inputs[0].type.dtype == node.inputs[1].type.dtype == zd
              and zd in ("float32", "float64"))
        if not ok:
            return generic
        if _blas() == "numpy":
            # NumPy's own BLAS (the thread pool the rest of the process uses), into our buffer.
            # A few rows times a transposed row-major matrix (an RBM's h @ W.T, batch 20):
            # OpenBLAS's kernel for that layout is ~1.5x slower than for the swapped product
            # W @ h.T (measured on SkylakeX, one thread: 20x500 @ 500x784 0.32 vs 0.22 ms incl.
            # the transposed copy), so that product goes to a scratch array and is copied back
            t = ctype(zd)
            lim = int(BLAS_INT_MAX)
            return f"""
npy_intp zdims[2]; int oc_swapped = 0;
if (PyArray_DIMS({b})[0] != PyArray_DIMS({a})[1]) {{
    PyErr_Format(PyExc_ValueError, "Dot: shapes (%zd,%zd) and (%zd,%zd) are not aligned",
        (Py_ssize_t)PyArray_DIMS({a})[0], (Py_ssize_t)PyArray_DIMS({a})[1],
        (Py_ssize_t)PyArray_DIMS({b})[0], (Py_ssize_t)PyArray_DIMS({b})[1]); {fail} }}
zdims[0] = PyArray_DIMS({a})[0]; zdims[1] = PyArray_DIMS({b})[1];
if (oc_alloc(&{z}, 2, zdims, {typenum(zd)})) {fail}
{{ npy_intp m = zdims[0], n = zdims[1], k = PyArray_DIMS({a})[1], it = sizeof({t});
  npy_intp as0 = PyArray_STRIDES({a})[0], as1 = PyArray_STRIDES({a})[1];
  npy_intp bs0 = PyArray_STRIDES({b})[0], bs1 = PyArray_STRIDES({b})[1];
  if (m >= 2 && m <= 32 && n >= 4 * m && k >= 64 && n <= {lim} && k <= {lim}
      && as1 == it && as0 % it == 0 && as0 / it >= k && as0 / it <= {lim}
      && bs0 == it && bs1 % it == 0 && bs1 / it >= k && bs1 / it <= {lim}
      && PyArray_IS_C_CONTIGUOUS({z})) {{
    if (oc_np_blas_load() < 0) {fail}
    if (oc_np_width > 0) {{
      npy_intp tdims[2]; PyArrayObject* T; npy_intp i, j;
      tdims[0] = n; tdims[1] = m;
      T = (PyArrayObject*)PyArray_EMPTY(2, tdims, {typenum(zd)}, 0);
      if (T == NULL) {fail}
      /* T (n x m) = (b's rows as stored, n x k) @ a^T: W @ h.T for h @ W.T */
      oc_np_gemm({int(zd == "float64")}, 'N', 'T', n, m, k, 1.0, PyArray_DATA({b}), bs1 / it,
                 PyArray_DATA({a}), as0 / it, 0.0, PyArray_DATA(T), m);
      {{ const {t}* tp = (const {t}*)PyArray_DATA(T); {t}* zp = ({t}*)PyArray_DATA({z});
        for (j = 0; j < n; j++) for (i = 0; i < m; i++) zp[i * n + j] = tp[j * m + i]; }}
      Py_DECREF(T);
      oc_swapped = 1;
    }}
  }}
}}
if (!oc_swapped) {{ PyObject* r = PyArray_MatrixProduct2((PyObject*){a}, (PyObject*){b}, {z});
  if (r == NULL) {fail}
  Py_DECREF(r); }}
"""
        t = ctype(zd)
        pre = "d" if zd == "float64" else "s"
        lim = int(BLAS_INT_MAX)
        return f"""
npy_intp m = PyArray_DIMS({a})[0], k = PyArray_DIMS({a})[1], n = PyArray_DIMS({b})[1];
npy_intp zdims[2]; char ta, tb; int lda, ldb;
PyArrayObject* A = {a}; PyArrayObject* B = {b};
if (PyArray_DIMS({b})[0] != k) {{
    PyErr_Format(PyExc_ValueError, "Dot: shapes (%zd,%zd) and (%zd,%zd) are not aligned",
        (Py_ssize_t)m, (Py_ssize_t)k, (Py_ssize_t)PyArray_DIMS({b})[0], (Py_ssize_t)n); {fail} }}
zdims[0] = m; zdims[1] = n;
if (oc_alloc(&{z}, 2, zdims, {typenum(zd)})) {fail}
if (m > 0 && n > 0) {{
  if (k == 0) {{
    memset(PyArray_DATA({z}), 0, m * n * sizeof({t}));
  }} else if (m > {lim} || n > {lim} || k > {lim}) {{
    /* too large for BLAS's 32-bit integers: NumPy's product, into our buffer */
    PyObject* r = PyArray_MatrixProduct2((PyObject*){a}, (PyObject*){b}, {z});
    if (r == NULL) {fail}
    Py_DECREF(r);
  }} else {{
    if (oc_blas_operand(&A, &ta, &lda, {lim})) {fail}
    if (oc_blas_operand(&B, &tb, &ldb, {lim})) {{ Py_DECREF(A); {fail} }}
    if (oc_{pre}gemm == NULL) oc_{pre}gemm = (oc_{pre}gemm_t)oc_blas_fn("{pre}gemm");
    if (oc_{pre}gemm == NULL) {{ Py_DECREF(A); Py_DECREF(B); {fail} }}
    {{ int M = (int)m, N = (int)n, K = (int)k, ldc = (int)n; {t} one = 1, zero = 0;
      /* row-major C = A B  <=>  column-major C^T = B^T A^T */
      oc_{pre}gemm(&tb, &ta, &N, &M, &K, &one, ({t}*)PyArray_DATA(B), &ldb,
                  ({t}*)PyArray_DATA(A), &lda, &zero, ({t}*)PyArray_DATA({z}), &ldc); }}
    Py_DECREF(A); Py_DECREF(B);
  }}
}}
"""


_GEMV_SUPPORT = r"""
typedef void (*oc_dgemv_t)(char*, int*, int*, double*, double*, int*, double*, int*, double*,
                           double*, int*);
typedef void (*oc_sgemv_t)(char*, int*, int*, float*, float*, int*, float*, int*, float*,
                           float*, int*);
static oc_dgemv_t oc_dgemv = NULL;
static oc_sgemv_t oc_sgemv = NULL;
"""

class GemvC(_Base):
    """``b*y + a*dot(A, x)`` through SciPy's ``?gemv`` (a new output; y is not destroyed)."""

    def c_supports(self, node):
        dts = {v.type.dtype for v in node.inputs + node.outputs}
        return len(dts) == 1 and dts.pop() in ("float32", "float64")

    def c_support_code(self, node=None):
        return _BLAS_SUPPORT + _GEMV_SUPPORT

    def c_code_cache_version(self, node=None):
        return (4, _blas(), int(BLAS_INT_MAX))

    def c_code(self, node, name, inputs, outputs, sub):
        (y, a, A, x, b), (z,) = inputs, outputs
        fail = sub["fail"]
        zd = node.outputs[0].type.dtype
        t = ctype(zd)
        pre = "d" if zd == "float64" else "s"
        lim = int(BLAS_INT_MAX)
        numpy_code = f"""
npy_intp m = PyArray_DIMS({A})[0], i; PyArrayObject* r;
{t} alpha = *({t}*)PyArray_DATA({a}), beta = *({t}*)PyArray_DATA({b});
if (PyArray_DIMS({x})[0] != PyArray_DIMS({A})[1] || PyArray_DIMS({y})[0] != m) {{
    PyErr_Format(PyExc_ValueError, "Gemv: shapes y(%zd,), A(%zd,%zd), x(%zd,) do not match",
        (Py_ssize_t)PyArray_DIMS({y})[0], (Py_ssize_t)m, (Py_ssize_t)PyArray_DIMS({A})[1],
        (Py_ssize_t)PyArray_DIMS({x})[0]); {fail} }}
r = (PyArrayObject*)PyArray_MatrixProduct2((PyObject*){A}, (PyObject*){x}, NULL);
if (r == NULL) {fail}
if (oc_alloc(&{z}, 1, &m, {typenum(zd)})) {{ Py_DECREF(r); {fail} }}
{{ const {t}* rv = (const {t}*)PyArray_DATA(r); {t}* q = ({t}*)PyArray_DATA({z});
  const char* yp = (const char*)PyArray_DATA({y}); npy_intp ys = PyArray_STRIDES({y})[0];
  for (i = 0; i < m; i++)
      q[i] = alpha * rv[i] + (beta == 0 ? ({t})0 : beta * *(const {t}*)(yp + i * ys)); }}
Py_DECREF(r);
"""
        blas_code = f"""
npy_intp m = PyArray_DIMS({A})[0], k = PyArray_DIMS({A})[1]; char ta; int lda;
PyArrayObject* AA = {A}; PyArrayObject* X = {x};
{t} alpha = *({t}*)PyArray_DATA({a}), beta = *({t}*)PyArray_DATA({b});
if (PyArray_DIMS({x})[0] != k || PyArray_DIMS({y})[0] != m) {{
    PyErr_Format(PyExc_ValueError, "Gemv: shapes y(%zd,), A(%zd,%zd), x(%zd,) do not match",
        (Py_ssize_t)PyArray_DIMS({y})[0], (Py_ssize_t)m, (Py_ssize_t)k,
        (Py_ssize_t)PyArray_DIMS({x})[0]); {fail} }}
if (oc_alloc(&{z}, 1, &m, {typenum(zd)})) {fail}
if (PyArray_CopyInto({z}, {y}) < 0) {fail}
if (m > 0) {{
  if (k == 0) {{
    npy_intp i; {t}* q = ({t}*)PyArray_DATA({z});
    for (i = 0; i < m; i++) q[i] = (beta == 0 ? 0 : beta * q[i]);
  }} else if (m > {lim} || k > {lim}) {{
    /* too large for BLAS's 32-bit integers: NumPy's product, combined here */
    npy_intp i; {t}* q = ({t}*)PyArray_DATA({z}); const {t}* rv;
    PyArrayObject* r = (PyArrayObject*)PyArray_MatrixProduct2((PyObject*){A}, (PyObject*){x},
                                                              NULL);
    if (r == NULL) {fail}
    rv = (const {t}*)PyArray_DATA(r);
    for (i = 0; i < m; i++) q[i] = alpha * rv[i] + (beta == 0 ? 0 : beta * q[i]);
    Py_DECREF(r);
  }} else {{
    int M = (int)m, K = (int)k, incx, one = 1; char tr;
    Py_INCREF(X);
    if (oc_blas_operand(&AA, &ta, &lda, {lim})) {{ Py_DECREF(X); {fail} }}
    if (PyArray_STRIDES(X)[0] <= 0 || PyArray_STRIDES(X)[0] % sizeof({t})
        || PyArray_STRIDES(X)[0] / (npy_intp)sizeof({t}) > {lim}) {{
        PyArrayObject* c = (PyArrayObject*)PyArray_NewCopy(X, NPY_CORDER);
        Py_DECREF(X); X = c; if (!X) {{ Py_DECREF(AA); {fail} }} }}
    incx = (int)(PyArray_STRIDES(X)[0] / sizeof({t}));
    if (oc_{pre}gemv == NULL) oc_{pre}gemv = (oc_{pre}gemv_t)oc_blas_fn("{pre}gemv");
    if (oc_{pre}gemv == NULL) {{ Py_DECREF(AA); Py_DECREF(X); {fail} }}
    if (ta == 'N') {{ tr = 'T'; oc_{pre}gemv(&tr, &K, &M, &alpha, ({t}*)PyArray_DATA(AA), &lda,
                   ({t}*)PyArray_DATA(X), &incx, &beta, ({t}*)PyArray_DATA({z}), &one); }}
    else {{ tr = 'N'; oc_{pre}gemv(&tr, &M, &K, &alpha, ({t}*)PyArray_DATA(AA), &lda,
                   ({t}*)PyArray_DATA(X), &incx, &beta, ({t}*)PyArray_DATA({z}), &one); }}
    Py_DECREF(AA); Py_DECREF(X);
  }}
}}
"""
        if _blas() != "numpy":
            return blas_code
        # NumPy's BLAS for the products it would thread; OpenBLAS runs a gemv of fewer than
        # 9216 entries on one thread, so SciPy's ?gemv (no second thread pool busy) skips
        # PyArray_MatrixProduct2's allocation and dispatch, which dominates small products (a
        # scan step's h @ U)
        return f"""
{{ int oc_small_ = (double)PyArray_DIMS({A})[0] * (double)PyArray_DIMS({A})[1] < 9216.0;
  if (oc_small_ && oc_{pre}gemv == NULL) {{
      oc_{pre}gemv = (oc_{pre}gemv_t)oc_blas_fn("{pre}gemv");
      if (oc_{pre}gemv == NULL) {{ PyErr_Clear(); oc_small_ = 0; }} }}
  if (oc_small_) {{
{blas_code}
  }} else {{
{numpy_code}
  }}
}}
"""


def same_float(node: Any) -> bool:
    dts = {v.type.dtype for v in node.inputs + node.outputs}
    return len(dts) == 1 and dts.pop() in ("float32", "float64")


_OVERLAP = r"""
#ifndef OC_OVERLAP
#define OC_OVERLAP
/* whether the memory spanned by a and b may overlap (a conservative byte-range test) */
static int oc_may_overlap(PyArrayObject* a, PyArrayObject* b)
{
    PyArrayObject* v[2]; npy_intp lo[2], hi[2]; int k, d;
    if (PyArray_SIZE(a) == 0 || PyArray_SIZE(b) == 0) return 0;
    v[0] = a; v[1] = b;
    for (k = 0; k < 2; k++) {
        lo[k] = hi[k] = (npy_intp)PyArray_DATA(v[k]);
        for (d = 0; d < PyArray_NDIM(v[k]); d++) {
            npy_intp span = PyArray_STRIDES(v[k])[d] * (PyArray_DIMS(v[k])[d] - 1);
            if (span < 0) lo[k] += span; else hi[k] += span;
        }
        hi[k] += PyArray_ITEMSIZE(v[k]);
    }
    return lo[0] < hi[1] && lo[1] < hi[0];
}
#endif
"""


_NP_GEMM_SUPPORT = r"""
#ifndef OC_NP_GEMM
#define OC_NP_GEMM
/* cblas_?gemm of the BLAS NumPy calls (opcore_cpu_c.numpy_blas): 64- or 32-bit integers */
typedef void (*oc_cbs64_t)(int, int, int, npy_int64, npy_int64, npy_int64, float, const float*,
                           npy_int64, const float*, npy_int64, float, float*, npy_int64);
typedef void (*oc_cbd64_t)(int, int, int, npy_int64, npy_int64, npy_int64, double,
                           const double*, npy_int64, const double*, npy_int64, double, double*,
                           npy_int64);
typedef void (*oc_cbs32_t)(int, int, int, int, int, int, float, const float*, int, const float*,
                           int, float, float*, int);
typedef void (*oc_cbd32_t)(int, int, int, int, int, int, double, const double*, int,
                           const double*, int, double, double*, int);
static void* oc_np_sgemm = NULL;
static void* oc_np_dgemm = NULL;
static int oc_np_width = -1;  /* bytes of a BLAS integer; 0: no such functions; -1: not asked */
static int oc_np_blas_load(void)
{
    PyObject* m; PyObject* r; unsigned long long sa, da; int w;
    if (oc_np_width >= 0) return 0;
    m = PyImport_ImportModule("opcore_cpu_c.numpy_blas");
    if (m == NULL) return -1;
    r = PyObject_CallMethod(m, "cblas_gemm", NULL);
    Py_DECREF(m);
    if (r == NULL) return -1;
    if (!PyArg_ParseTuple(r, "KKi", &sa, &da, &w)) { Py_DECREF(r); return -1; }
    Py_DECREF(r);
    oc_np_sgemm = (void*)(size_t)sa; oc_np_dgemm = (void*)(size_t)da;
    oc_np_width = (sa && da && (w == 4 || w == 8)) ? w : 0;
    return 0;
}
/* row-major C = alpha op(A) op(B) + beta C through NumPy's cblas; tr 'N'/'T' as oc_layout
   gives them for a row-major operand */
static void oc_np_gemm(int dbl, char ta, char tb, npy_intp m, npy_intp n, npy_intp k,
                       double alpha, const void* A, npy_intp lda, const void* B, npy_intp ldb,
                       double beta, void* C, npy_intp ldc)
{
    const int RowMajor = 101, NoTrans = 111, Trans = 112;
    int TA = ta == 'N' ? NoTrans : Trans, TB = tb == 'N' ? NoTrans : Trans;
    if (oc_np_width == 8 && dbl)
        ((oc_cbd64_t)oc_np_dgemm)(RowMajor, TA, TB, m, n, k, alpha, (const double*)A, lda,
                                  (const double*)B, ldb, beta, (double*)C, ldc);
    else if (oc_np_width == 8)
        ((oc_cbs64_t)oc_np_sgemm)(RowMajor, TA, TB, m, n, k, (float)alpha, (const float*)A, lda,
                                  (const float*)B, ldb, (float)beta, (float*)C, ldc);
    else if (dbl)
        ((oc_cbd32_t)oc_np_dgemm)(RowMajor, TA, TB, (int)m, (int)n, (int)k, alpha,
                                  (const double*)A, (int)lda, (const double*)B, (int)ldb, beta,
                                  (double*)C, (int)ldc);
    else
        ((oc_cbs32_t)oc_np_sgemm)(RowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha,
                                  (const float*)A, (int)lda, (const float*)B, (int)ldb,
                                  (float)beta, (float*)C, (int)ldc);
}
#endif
"""


class GemmC(_Base):
    """``b*z + a*dot(x, y)``.  With ``cpu_c__blas=scipy``: ``z`` copied into the output and one
    ``?gemm`` call scaling and accumulating in place.  With NumPy's BLAS (the default): the
    product written straight into the output buffer (``PyArray_MatrixProduct2(x, y, out)``),
    then ``out = a*out + b*z`` in one pass, with no temporary product array."""

    c_supports = staticmethod(same_float)

    def c_support_code(self, node=None):
        return _BLAS_SUPPORT + _OVERLAP + _NP_GEMM_SUPPORT

    def c_code_cache_version(self, node=None):
        return (6, _blas(), int(BLAS_INT_MAX))

    def _in_place(self, node, inputs, outputs, sub) -> str:
        """``Gemm{inplace}``: one ``?gemm`` scaling and accumulating in ``z``'s own buffer when
        its rows are contiguous, it overlaps neither operand, and the sizes suit BLAS; sets
        ``oc_done``.  Otherwise the code after it makes a new array."""
        (z0, a, x, y, b), (z,) = inputs, outputs
        fail = sub["fail"]
        zd = node.outputs[0].type.dtype
        t = ctype(zd)
        lim = int(BLAS_INT_MAX)
        common = f"""
npy_intp oc_k = PyArray_DIMS({x})[1], oc_s0 = PyArray_STRIDES({z0})[0];
if (PyArray_ISWRITEABLE({z0}) && dims[0] > 0 && dims[1] > 0 && oc_k > 0
    && dims[0] <= {lim} && dims[1] <= {lim} && oc_k <= {lim}
    && (PyArray_STRIDES({z0})[1] == (npy_intp)sizeof({t}) || dims[1] == 1)
    && oc_s0 % (npy_intp)sizeof({t}) == 0 && oc_s0 / (npy_intp)sizeof({t}) >= dims[1]
    && oc_s0 / (npy_intp)sizeof({t}) <= {lim}
    && !oc_may_overlap({z0}, {x}) && !oc_may_overlap({z0}, {y})) {{
"""
        if _blas() == "numpy":
            call = f"""
  if (oc_np_blas_load() < 0) {fail}
  if (oc_np_width > 0) {{
    PyArrayObject* A = {x}; PyArrayObject* B = {y}; char ta, tb; int lda, ldb;
    if (oc_blas_operand(&A, &ta, &lda, {lim})) {fail}
    if (oc_blas_operand(&B, &tb, &ldb, {lim})) {{ Py_DECREF(A); {fail} }}
    oc_np_gemm({int(zd == "float64")}, ta, tb, dims[0], dims[1], oc_k, (double)alpha,
               PyArray_DATA(A), lda, PyArray_DATA(B), ldb, (double)beta,
               PyArray_DATA({z0}), oc_s0 / (npy_intp)sizeof({t}));
    Py_DECREF(A); Py_DECREF(B);
    oc_done = 1;
  }}
"""
        else:
            pre = "d" if zd == "float64" else "s"
            call = f"""
  PyArrayObject* A = {x}; PyArrayObject* B = {y}; char ta, tb; int lda, ldb;
  if (oc_{pre}gemm == NULL) oc_{pre}gemm = (oc_{pre}gemm_t)oc_blas_fn("{pre}gemm");
  if (oc_{pre}gemm == NULL) {fail}
  if (oc_blas_operand(&A, &ta, &lda, {lim})) {fail}
  if (oc_blas_operand(&B, &tb, &ldb, {lim})) {{ Py_DECREF(A); {fail} }}
  {{ int M = (int)dims[0], N = (int)dims[1], K = (int)oc_k;
    int ldc = (int)(oc_s0 / (npy_intp)sizeof({t}));
    /* row-major Z = a X Y + b Z  <=>  column-major Z^T = a Y^T X^T + b Z^T */
    oc_{pre}gemm(&tb, &ta, &N, &M, &K, &alpha, ({t}*)PyArray_DATA(B), &ldb,
                ({t}*)PyArray_DATA(A), &lda, &beta, ({t}*)PyArray_DATA({z0}), &ldc); }}
  Py_DECREF(A); Py_DECREF(B);
  oc_done = 1;
"""
        return common + call + f"""}}
if (oc_done) {{ Py_XDECREF({z}); {z} = {z0}; Py_INCREF({z}); }}
"""

    def c_code(self, node, name, inputs, outputs, sub):
        (z0, a, x, y, b), (z,) = inputs, outputs
        fail = sub["fail"]
        t = ctype(node.outputs[0].type.dtype)
        check = f"""
npy_intp dims[2]; npy_intp i, j; int oc_done = 0;
{t} alpha = *({t}*)PyArray_DATA({a}), beta = *({t}*)PyArray_DATA({b});
dims[0] = PyArray_DIMS({x})[0]; dims[1] = PyArray_DIMS({y})[1];
if (PyArray_DIMS({x})[1] != PyArray_DIMS({y})[0] || PyArray_DIMS({z0})[0] != dims[0]
    || PyArray_DIMS({z0})[1] != dims[1]) {{
    PyErr_Format(PyExc_ValueError, "Gemm: shapes z(%zd,%zd), x(%zd,%zd), y(%zd,%zd) do not match",
        (Py_ssize_t)PyArray_DIMS({z0})[0], (Py_ssize_t)PyArray_DIMS({z0})[1],
        (Py_ssize_t)PyArray_DIMS({x})[0], (Py_ssize_t)PyArray_DIMS({x})[1],
        (Py_ssize_t)PyArray_DIMS({y})[0], (Py_ssize_t)PyArray_DIMS({y})[1]); {fail} }}
"""
        if node.op.inplace:
            check += self._in_place(node, inputs, outputs, sub)
        body = self._new_array(node, inputs, outputs, sub)
        return check + "if (!oc_done) {\n" + body + "}\n"

    def _new_array(self, node, inputs, outputs, sub) -> str:
        """The result in a new array (or the output's own buffer from the last call)."""
        (z0, a, x, y, b), (z,) = inputs, outputs
        fail = sub["fail"]
        zd = node.outputs[0].type.dtype
        t = ctype(zd)
        tn = typenum(zd)
        pre = "d" if zd == "float64" else "s"
        lim = int(BLAS_INT_MAX)
        head = f"""
if (oc_alloc(&{z}, 2, dims, {tn})) {fail}
if (oc_may_overlap({z}, {z0}) || oc_may_overlap({z}, {x}) || oc_may_overlap({z}, {y})) {{
    Py_DECREF({z}); {z} = (PyArrayObject*)PyArray_EMPTY(2, dims, {tn}, 0);
    if ({z} == NULL) {fail} }}
"""
        combine = f"""
{{ {t}* q = ({t}*)PyArray_DATA({z});
  const char* zp = (const char*)PyArray_DATA({z0});
  npy_intp s0 = PyArray_STRIDES({z0})[0], s1 = PyArray_STRIDES({z0})[1];
  for (i = 0; i < dims[0]; i++) {{
    {t}* qr = q + i * dims[1]; const char* zr = zp + i * s0;
    if (beta == 0) {{ for (j = 0; j < dims[1]; j++) qr[j] = alpha * qr[j]; }}
    else if (s1 == sizeof({t})) {{ const {t}* zc = (const {t}*)zr;
      for (j = 0; j < dims[1]; j++) qr[j] = alpha * qr[j] + beta * zc[j]; }}
    else {{ for (j = 0; j < dims[1]; j++)
      qr[j] = alpha * qr[j] + beta * *(const {t}*)(zr + j * s1); }}
  }} }}
"""
        numpy_path = f"""
{{ PyObject* r = PyArray_MatrixProduct2((PyObject*){x}, (PyObject*){y}, {z});
  if (r == NULL) {fail}
  Py_DECREF(r); }}
{combine}"""
        if _blas() == "numpy":
            return head + numpy_path
        return head + f"""
if (dims[0] > {lim} || dims[1] > {lim} || PyArray_DIMS({x})[1] > {lim}
    || PyArray_DIMS({x})[1] == 0) {{
{numpy_path}
}} else if (dims[0] > 0 && dims[1] > 0) {{
  PyArrayObject* A = {x}; PyArrayObject* B = {y}; char ta, tb; int lda, ldb;
  if (beta != 0 && PyArray_CopyInto({z}, {z0}) < 0) {fail}
  if (oc_blas_operand(&A, &ta, &lda, {lim})) {fail}
  if (oc_blas_operand(&B, &tb, &ldb, {lim})) {{ Py_DECREF(A); {fail} }}
  if (oc_{pre}gemm == NULL) oc_{pre}gemm = (oc_{pre}gemm_t)oc_blas_fn("{pre}gemm");
  if (oc_{pre}gemm == NULL) {{ Py_DECREF(A); Py_DECREF(B); {fail} }}
  {{ int M = (int)dims[0], N = (int)dims[1], K = (int)PyArray_DIMS({x})[1], ldc = (int)dims[1];
    /* row-major Z = a X Y + b Z  <=>  column-major Z^T = a Y^T X^T + b Z^T */
    oc_{pre}gemm(&tb, &ta, &N, &M, &K, &alpha, ({t}*)PyArray_DATA(B), &ldb,
                ({t}*)PyArray_DATA(A), &lda, &beta, ({t}*)PyArray_DATA({z}), &ldc); }}
  Py_DECREF(A); Py_DECREF(B);
}}
"""

class GerC(_Base):
    """``A + a * outer(x, y)`` as one strided loop."""

    c_supports = staticmethod(same_float)

    def c_code(self, node, name, inputs, outputs, sub):
        (A, a, x, y), (z,) = inputs, outputs
        fail = sub["fail"]
        zd = node.outputs[0].type.dtype
        t = ctype(zd)
        return f"""
npy_intp i, j; {t} alpha = *({t}*)PyArray_DATA({a});
if (PyArray_DIMS({A})[0] != PyArray_DIMS({x})[0] || PyArray_DIMS({A})[1] != PyArray_DIMS({y})[0]) {{
    PyErr_Format(PyExc_ValueError, "Ger: shapes A(%zd,%zd), x(%zd,), y(%zd,) do not match",
        (Py_ssize_t)PyArray_DIMS({A})[0], (Py_ssize_t)PyArray_DIMS({A})[1],
        (Py_ssize_t)PyArray_DIMS({x})[0], (Py_ssize_t)PyArray_DIMS({y})[0]); {fail} }}
if (oc_alloc(&{z}, 2, PyArray_DIMS({A}), {typenum(zd)})) {fail}
{{ {t}* q = ({t}*)PyArray_DATA({z}); npy_intp n1 = PyArray_DIMS({A})[1];
  const char* ap = (const char*)PyArray_DATA({A}); const char* xp = (const char*)PyArray_DATA({x});
  const char* yp = (const char*)PyArray_DATA({y});
  npy_intp a0 = PyArray_STRIDES({A})[0], a1 = PyArray_STRIDES({A})[1];
  npy_intp xs = PyArray_STRIDES({x})[0], ys = PyArray_STRIDES({y})[0];
  if (a1 == (npy_intp)sizeof({t}) && ys == (npy_intp)sizeof({t})) {{
    /* unit-stride rows of A and y: a loop the compiler vectorises */
    const {t}* yv = (const {t}*)yp;
    for (i = 0; i < PyArray_DIMS({A})[0]; i++) {{
      const {t} xi = alpha * *(const {t}*)(xp + i * xs);
      const {t}* ar = (const {t}*)(ap + i * a0);
      {t}* qr = q + i * n1;
      for (j = 0; j < n1; j++) qr[j] = ar[j] + xi * yv[j];
    }}
  }} else {{
    for (i = 0; i < PyArray_DIMS({A})[0]; i++) {{
      const {t} xi = alpha * *(const {t}*)(xp + i * xs);
      for (j = 0; j < n1; j++)
        q[i * n1 + j] = *(const {t}*)(ap + i * a0 + j * a1) + xi * *(const {t}*)(yp + j * ys);
    }}
  }} }}
"""


# -- the SciPy BLAS fast path of the py backend -----------------------------------------------
# The core's Gemm/Gemv/Ger perform() use NumPy only; this plugin gives the ``py`` backend (and
# the C backend's Python thunks, for the nodes its C declines) SciPy's BLAS routines, which
# scale and accumulate in one call.  SciPy is imported at the first such thunk, never at
# registration or compile time.

def _scipy_blas() -> Any:
    try:
        from scipy.linalg import blas
    except ImportError:
        return None
    return blas


def _scipy_gemm(blas: Any, dt: Any, z: Any, a: Any, x: Any, y: Any, b: Any) -> Any:
    fn = blas.get_blas_funcs("gemm", (x, y, z))
    return fn(alpha=a, a=x, b=y, beta=b, c=np.array(z, dtype=dt, order="F"), overwrite_c=True)


def _scipy_gemv(blas: Any, dt: Any, y: Any, a: Any, A: Any, x: Any, b: Any) -> Any:
    fn = blas.get_blas_funcs("gemv", (A, x, y))
    return fn(alpha=a, a=A, x=x, beta=b, y=np.array(y, dtype=dt), overwrite_y=True)


def _scipy_ger(blas: Any, dt: Any, A: Any, a: Any, x: Any, y: Any) -> Any:
    fn = blas.get_blas_funcs("ger", (x, y, A))
    return fn(alpha=a, x=x, y=y, a=np.array(A, dtype=dt, order="F"), overwrite_a=True)


class ScipyBlasThunk:
    """``impl(node, storage_map)`` for the ``py`` backend: the node through SciPy's BLAS when
    every array operand has the output's float/complex dtype and is non-empty, and the values
    pass the BLAS integer width; else the op's NumPy ``perform``."""

    def __init__(self, call: Any, arrays: tuple[int, ...], shapes_ok: Any) -> None:
        self.call = call
        self.arrays = arrays  # positions of the array operands
        self.shapes_ok = shapes_ok  # (*values) -> bool; else perform() raises NumPy's error

    def __call__(self, node: Any, storage_map: dict) -> Any:
        fallback = node.op.make_py_thunk(node, storage_map)
        blas = _scipy_blas()
        dt = node.outputs[0].type.numpy_dtype
        if blas is None or dt.char not in "fdFD":
            return fallback
        cells = [storage_map[v] for v in node.inputs]
        out = storage_map[node.outputs[0]]
        call, arrays, shapes_ok = self.call, self.arrays, self.shapes_ok

        def thunk() -> None:
            vals = [c[0] for c in cells]
            ok = all(vals[k].dtype == dt and 0 < vals[k].size and max(vals[k].shape) < 2 ** 31
                     for k in arrays)
            if not ok or not shapes_ok(*vals):
                fallback()
                return
            out[0] = np.asarray(call(blas, dt, *vals), dtype=dt)
        thunk.inputs = cells
        thunk.outputs = [out]
        return thunk


def register(impls: Any) -> None:
    """Give backend ``c`` these implementations (``impls`` is the host's ImplRegistry)."""
    impls.register("c", Dot, DotC())
    impls.register("c", Gemv, GemvC())
    impls.register("c", Gemm, GemmC())
    impls.register("c", Ger, GerC())
    impls.register("py", Gemm, ScipyBlasThunk(
        _scipy_gemm, (0, 2, 3),
        lambda z, a, x, y, b: x.shape[1] == y.shape[0] and z.shape == (x.shape[0], y.shape[1])))
    impls.register("py", Gemv, ScipyBlasThunk(
        _scipy_gemv, (0, 2, 3),
        lambda y, a, A, x, b: A.shape[1] == x.shape[0] and y.shape == (A.shape[0],)))
    impls.register("py", Ger, ScipyBlasThunk(
        _scipy_ger, (0, 2, 3), lambda A, a, x, y: A.shape == (x.shape[0], y.shape[0])))
