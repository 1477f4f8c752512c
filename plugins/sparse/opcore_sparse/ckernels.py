"""C source for the sparse x dense product: plain C kernels plus the Theano-protocol glue.

The kernels (``SUPPORT_CODE``) use only ``<stdint.h>``: the tests and the benchmark compile them
alone into a shared library and call them through ctypes, so the arithmetic is checked even where
no C backend is installed.  ``c_code`` is the glue a C backend inlines: it validates the arrays
(shapes, index bounds, monotone ``indptr``), so bad input raises instead of crashing.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

from opcore.cbuild import CompileError, build_library
from opcore.cbuild.ctypes import plain_ctype
from opcore.cbuild.ctypes import typenum as c_typenum

VERSION = 6

# OPCORE_SPARSE_API is `static` when inlined in a backend's module and empty in the ctypes build.
SUPPORT_CODE = r"""
#include <stdint.h>
#include <string.h>
#ifndef OPCORE_SPARSE_API
#define OPCORE_SPARSE_API static
#endif
/* OpenMP only on request (config.openmp, which makes the build layer pass -fopenmp): on a busy
   or small machine the thread start-up costs more than the product (measured: slower than one
   thread on 2 shared cores) */
#if defined(_OPENMP)
#define OPCORE_OMP(x) _Pragma(x)
#else
#define OPCORE_OMP(x)
#endif
/* CSC scatters into z: threads take blocks of 16 columns of z; one thread takes them all */
#if defined(_OPENMP)
#define OPCORE_CSC_BLOCK(k) 16
#else
#define OPCORE_CSC_BLOCK(k) (k)
#endif
/* the backend may build at -O2; the axpy loops want -O3 vectorisation and unrolling */
#if defined(__GNUC__) && !defined(__clang__)
#define OPCORE_SPARSE_HOT __attribute__((optimize("O3", "unroll-loops")))
#else
#define OPCORE_SPARSE_HOT
#endif

/* 0 when (indices, indptr) describe a valid matrix with n_major rows (CSR) or columns (CSC),
   n_minor columns (CSR) or rows (CSC) and nnz stored entries; else an error code. */
OPCORE_SPARSE_API int opcore_sparse_check(const int32_t *indices, const int32_t *indptr,
                                          int64_t n_major, int64_t n_minor, int64_t nnz)
{
    if (indptr[0] != 0) return 1;
    if (indptr[n_major] > nnz) return 2;
    for (int64_t i = 0; i < n_major; ++i)
        if (indptr[i + 1] < indptr[i]) return 3;
    for (int64_t p = 0; p < indptr[n_major]; ++p)
        if (indices[p] < 0 || indices[p] >= n_minor) return 4;
    return 0;
}

/* z (n_rows x k, C order) = A (CSR, n_rows rows) @ b (n_cols x k, C order) */
#define OPCORE_SPMM_CSR(NAME, VT)                                                           \
OPCORE_SPARSE_API OPCORE_SPARSE_HOT void NAME(const VT *data, const int32_t *indices,      \
        const int32_t *indptr, int64_t n_rows, const VT *restrict b, int64_t k,             \
        VT *restrict z)                                                                    \
{                                                                                          \
    int64_t i;                                                                             \
    OPCORE_OMP("omp parallel for schedule(static, 64) if (n_rows * k > 200000)")             \
    for (i = 0; i < n_rows; ++i) {                                                         \
        VT *restrict zi = z + i * k;                                                       \
        memset(zi, 0, (size_t)k * sizeof(VT));                                             \
        for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {                              \
            const VT v = data[p];                                                          \
            const VT *restrict bj = b + (int64_t)indices[p] * k;                           \
            for (int64_t c = 0; c < k; ++c) zi[c] += v * bj[c];                            \
        }                                                                                  \
    }                                                                                      \
}

/* z (n_rows x k) = A (CSC, n_cols columns) @ b (n_cols x k); threads split the k columns */
#define OPCORE_SPMM_CSC(NAME, VT)                                                           \
OPCORE_SPARSE_API OPCORE_SPARSE_HOT void NAME(const VT *data, const int32_t *indices,      \
        const int32_t *indptr, int64_t n_rows, int64_t n_cols, const VT *restrict b,        \
        int64_t k, VT *restrict z)                                                         \
{                                                                                          \
    int64_t cb;                                                                            \
    memset(z, 0, (size_t)(n_rows * k) * sizeof(VT));                                       \
    OPCORE_OMP("omp parallel for schedule(static) if (n_rows * k > 200000)")               \
    for (cb = 0; cb < k; cb += OPCORE_CSC_BLOCK(k)) {                                      \
        int64_t ce = cb + OPCORE_CSC_BLOCK(k) < k ? cb + OPCORE_CSC_BLOCK(k) : k;          \
        for (int64_t j = 0; j < n_cols; ++j) {                                             \
            const VT *bj = b + j * k;                                                      \
            for (int32_t p = indptr[j]; p < indptr[j + 1]; ++p) {                          \
                const VT v = data[p];                                                      \
                VT *zi = z + (int64_t)indices[p] * k;                                      \
                for (int64_t c = cb; c < ce; ++c) zi[c] += v * bj[c];                      \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
}

OPCORE_SPMM_CSR(opcore_spmm_csr_float64, double)
OPCORE_SPMM_CSR(opcore_spmm_csr_float32, float)
OPCORE_SPMM_CSC(opcore_spmm_csc_float64, double)
OPCORE_SPMM_CSC(opcore_spmm_csc_float32, float)
"""



def c_code(format: str, dtype: str, inputs: list[str], outputs: list[str], sub: dict) -> str:
    """The glue for one node: check the arrays, (re)allocate the output, call the kernel."""
    data, indices, indptr, shape, b = inputs
    (z,) = outputs
    typenum, ctype = c_typenum(dtype), plain_ctype(dtype)
    fail = sub["fail"]
    if format == "csr":
        call = (f"opcore_spmm_csr_{dtype}(({ctype}*)PyArray_DATA({data}), idx, ptr, n_rows, "
                f"({ctype}*)PyArray_DATA(bc), k, ({ctype}*)PyArray_DATA({z}));")
        major, minor = "n_rows", "n_cols"
    else:
        call = (f"opcore_spmm_csc_{dtype}(({ctype}*)PyArray_DATA({data}), idx, ptr, n_rows, "
                f"n_cols, ({ctype}*)PyArray_DATA(bc), k, ({ctype}*)PyArray_DATA({z}));")
        major, minor = "n_cols", "n_rows"
    return f"""
{{
    PyArrayObject *bc = NULL;
    int64_t n_rows, n_cols, k, nnz;
    const int32_t *idx, *ptr;
    int bad;
    if (PyArray_NDIM({shape}) != 1 || PyArray_DIMS({shape})[0] != 2) {{
        PyErr_SetString(PyExc_ValueError, "SparseDenseDotKernel: shape must have 2 entries");
        {fail}
    }}
    n_rows = (int64_t)*(npy_int64 *)PyArray_GETPTR1({shape}, 0);
    n_cols = (int64_t)*(npy_int64 *)PyArray_GETPTR1({shape}, 1);
    if (PyArray_NDIM({b}) != 2 || PyArray_DIMS({b})[0] != n_cols) {{
        PyErr_Format(PyExc_ValueError, "SparseDenseDotKernel: shapes (%lld, %lld) and b are not "
                     "aligned (b has %lld rows)", (long long)n_rows, (long long)n_cols,
                     (long long)(PyArray_NDIM({b}) ? PyArray_DIMS({b})[0] : 0));
        {fail}
    }}
    nnz = PyArray_DIMS({data})[0];
    if (PyArray_DIMS({indices})[0] != nnz || PyArray_DIMS({indptr})[0] != {major} + 1
            || !PyArray_IS_C_CONTIGUOUS({indices}) || !PyArray_IS_C_CONTIGUOUS({indptr})
            || !PyArray_IS_C_CONTIGUOUS({data})) {{
        PyErr_SetString(PyExc_ValueError, "SparseDenseDotKernel: data/indices/indptr lengths do "
                        "not fit the shape (or are not contiguous)");
        {fail}
    }}
    idx = (const int32_t *)PyArray_DATA({indices});
    ptr = (const int32_t *)PyArray_DATA({indptr});
    bad = opcore_sparse_check(idx, ptr, {major}, {minor}, nnz);
    if (bad) {{
        PyErr_Format(PyExc_ValueError, "SparseDenseDotKernel: invalid sparse structure (code %d:"
                     " 1 indptr[0]!=0, 2 indptr end > nnz, 3 indptr decreasing, 4 index out of "
                     "range)", bad);
        {fail}
    }}
    k = PyArray_DIMS({b})[1];
    bc = (PyArrayObject *)PyArray_GETCONTIGUOUS({b});
    if (bc == NULL) {{ {fail} }}
    if ({z} == NULL || PyArray_NDIM({z}) != 2 || PyArray_DIMS({z})[0] != n_rows
            || PyArray_DIMS({z})[1] != k || !PyArray_IS_C_CONTIGUOUS({z})
            || PyArray_TYPE({z}) != {typenum}) {{
        npy_intp dims[2] = {{(npy_intp)n_rows, (npy_intp)k}};
        Py_XDECREF({z});
        {z} = (PyArrayObject *)PyArray_EMPTY(2, dims, {typenum}, 0);
        if ({z} == NULL) {{ Py_DECREF(bc); {fail} }}
    }}
    Py_BEGIN_ALLOW_THREADS
    {call}
    Py_END_ALLOW_THREADS
    Py_DECREF(bc);
}}
"""


# -- standalone build (tests, benchmark) ------------------------------------------------------
_LIB: dict[str, object] = {}


def build_standalone(openmp: bool = True) -> ctypes.CDLL:
    """Compile ``SUPPORT_CODE`` alone into a shared library (in opcore's compile cache) and load it.

    Raises ``RuntimeError`` with the compiler's message when no C compiler works.
    """
    key = f"omp={openmp}"
    if key in _LIB:
        return _LIB[key]  # type: ignore[return-value]
    try:
        lib = build_library(SUPPORT_CODE, "opcore_sparse_kernels",
                            cflags=["-O2", "-DOPCORE_SPARSE_API=", *(["-fopenmp"] if openmp else [])],
                            ops=["SparseDenseDotKernel"])
    except CompileError as exc:
        raise RuntimeError(f"compiling the sparse kernels failed: {exc}") from None
    handle = ctypes.CDLL(lib)
    _LIB[key] = handle
    return handle


def run_standalone(lib: ctypes.CDLL, m, b: np.ndarray) -> np.ndarray:
    """``m @ b`` through the standalone kernels (``m`` a scipy CSR/CSC matrix, float32/64)."""
    dtype = np.dtype(m.dtype).name
    b = np.ascontiguousarray(b, dtype=dtype)
    idx = np.ascontiguousarray(m.indices, dtype=np.int32)
    ptr = np.ascontiguousarray(m.indptr, dtype=np.int32)
    n_rows, n_cols = m.shape
    n_major = n_rows if m.format == "csr" else n_cols
    n_minor = n_cols if m.format == "csr" else n_rows
    p = ctypes.c_void_p
    i64 = ctypes.c_int64
    check = lib.opcore_sparse_check
    check.argtypes = [p, p, i64, i64, i64]
    bad = check(idx.ctypes.data, ptr.ctypes.data, n_major, n_minor, len(m.data))
    if bad:
        raise ValueError(f"invalid sparse structure (code {bad})")
    if b.shape[0] != n_cols:
        raise ValueError(f"shapes {m.shape} and {b.shape} are not aligned")
    z = np.empty((n_rows, b.shape[1]), dtype=dtype)
    data = np.ascontiguousarray(m.data)
    fn = getattr(lib, f"opcore_spmm_{m.format}_{dtype}")
    if m.format == "csr":
        fn.argtypes = [p, p, p, i64, p, i64, p]
        fn(data.ctypes.data, idx.ctypes.data, ptr.ctypes.data, n_rows, b.ctypes.data, b.shape[1],
           z.ctypes.data)
    else:
        fn.argtypes = [p, p, p, i64, i64, p, i64, p]
        fn(data.ctypes.data, idx.ctypes.data, ptr.ctypes.data, n_rows, n_cols, b.ctypes.data,
           b.shape[1], z.ctypes.data)
    return z


if __name__ == "__main__":  # pragma: no cover - quick manual check
    print(build_standalone(), file=sys.stderr)
