"""C bodies (Theano ``c_code`` protocol) for the softmax family and the fused crossentropy.

The ``cpu_c`` backend passes ``PyArrayObject*`` names for inputs and outputs; an output name may
hold NULL or a previous result, which ``oc_alloc`` (the backend's helper) reuses when it fits.
Inputs are made C-contiguous first, so the loops below read plain row-major memory.
"""

from __future__ import annotations

_CT = {"float32": "npy_float32", "float64": "npy_float64"}
_TN = {"float32": "NPY_FLOAT32", "float64": "NPY_FLOAT64"}
_EXP = {"float32": "expf", "float64": "exp"}
_LOG = {"float32": "logf", "float64": "log"}


def softmax_c(x: str, z: str, dtype: str, fail: str, log: bool) -> str:
    """Row-wise (log-)softmax of the 2-d array ``x`` into ``z``."""
    ct, tn, ex, lg = _CT[dtype], _TN[dtype], _EXP[dtype], _LOG[dtype]
    if log:
        write = f"for (j = 0; j < M; j++) zr[j] = (xr[j] - mx) - ({ct}){lg}(s);"
        accum = f"for (j = 0; j < M; j++) s += {ex}(xr[j] - mx);"
    else:
        accum = f"for (j = 0; j < M; j++) {{ zr[j] = {ex}(xr[j] - mx); s += zr[j]; }}"
        write = f"{{ {ct} inv = ({ct})(1.0 / s); for (j = 0; j < M; j++) zr[j] *= inv; }}"
    return f"""
    PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
    npy_intp N, M, i, j;
    if (xc == NULL) {fail}
    N = PyArray_DIMS(xc)[0]; M = PyArray_DIMS(xc)[1];
    if (oc_alloc(&{z}, 2, PyArray_DIMS(xc), {tn})) {{ Py_DECREF(xc); {fail} }}
    {{
        const {ct}* xd = (const {ct}*)PyArray_DATA(xc);
        {ct}* zd = ({ct}*)PyArray_DATA({z});
        for (i = 0; i < N; i++) {{
            const {ct}* xr = xd + i * M;
            {ct}* zr = zd + i * M;
            {ct} mx = -NPY_INFINITY;
            double s = 0.0;
            for (j = 0; j < M; j++) if (xr[j] > mx) mx = xr[j];
            {accum}
            {write}
        }}
    }}
    Py_DECREF(xc);
"""


def softmax_grad_c(dy: str, sm: str, z: str, dtype: str, fail: str) -> str:
    """``z = (dy - sum(dy * sm, row)) * sm`` for 2-d arrays."""
    ct, tn = _CT[dtype], _TN[dtype]
    return f"""
    PyArrayObject* dc = PyArray_GETCONTIGUOUS({dy});
    PyArrayObject* sc = PyArray_GETCONTIGUOUS({sm});
    npy_intp N, M, i, j;
    if (dc == NULL || sc == NULL) {{ Py_XDECREF(dc); Py_XDECREF(sc); {fail} }}
    N = PyArray_DIMS(sc)[0]; M = PyArray_DIMS(sc)[1];
    if (PyArray_DIMS(dc)[0] != N || PyArray_DIMS(dc)[1] != M) {{
        PyErr_Format(PyExc_ValueError, "SoftmaxGrad: dy has shape (%zd, %zd), sm (%zd, %zd)",
                     (Py_ssize_t)PyArray_DIMS(dc)[0], (Py_ssize_t)PyArray_DIMS(dc)[1],
                     (Py_ssize_t)N, (Py_ssize_t)M);
        Py_DECREF(dc); Py_DECREF(sc); {fail}
    }}
    if (oc_alloc(&{z}, 2, PyArray_DIMS(sc), {tn})) {{ Py_DECREF(dc); Py_DECREF(sc); {fail} }}
    {{
        const {ct}* d = (const {ct}*)PyArray_DATA(dc);
        const {ct}* s = (const {ct}*)PyArray_DATA(sc);
        {ct}* o = ({ct}*)PyArray_DATA({z});
        for (i = 0; i < N; i++) {{
            double acc = 0.0;
            for (j = 0; j < M; j++) acc += d[i * M + j] * s[i * M + j];
            for (j = 0; j < M; j++) o[i * M + j] = ({ct})((d[i * M + j] - acc) * s[i * M + j]);
        }}
    }}
    Py_DECREF(dc); Py_DECREF(sc);
"""


def _labels(y: str, n: str, fail: str, extra_decref: str) -> str:
    return f"""
    PyArrayObject* yc = (PyArrayObject*)PyArray_FROMANY((PyObject*){y}, NPY_INT64, 1, 1,
                                                        NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    if (yc == NULL) {{ {extra_decref} {fail} }}
    if (PyArray_DIMS(yc)[0] != {n}) {{
        PyErr_Format(PyExc_ValueError, "crossentropy: %zd rows but %zd labels",
                     (Py_ssize_t){n}, (Py_ssize_t)PyArray_DIMS(yc)[0]);
        Py_DECREF(yc); {extra_decref} {fail}
    }}
"""


def xent_c(x: str, y: str, nll: str, sm: str, dtype: str, fail: str) -> str:
    """Fused softmax + negative log-likelihood of integer labels: ``nll[i] = lse(x_i) - x_iy``."""
    ct, tn, ex, lg = _CT[dtype], _TN[dtype], _EXP[dtype], _LOG[dtype]
    return f"""
    PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
    npy_intp N, M, i, j;
    if (xc == NULL) {fail}
    N = PyArray_DIMS(xc)[0]; M = PyArray_DIMS(xc)[1];
    {_labels(y, "N", fail, "Py_DECREF(xc);")}
    if (oc_alloc(&{sm}, 2, PyArray_DIMS(xc), {tn}) || oc_alloc(&{nll}, 1, &N, {tn})) {{
        Py_DECREF(xc); Py_DECREF(yc); {fail}
    }}
    {{
        const {ct}* xd = (const {ct}*)PyArray_DATA(xc);
        const npy_int64* yd = (const npy_int64*)PyArray_DATA(yc);
        {ct}* sd = ({ct}*)PyArray_DATA({sm});
        {ct}* nd = ({ct}*)PyArray_DATA({nll});
        for (i = 0; i < N; i++) {{
            const {ct}* xr = xd + i * M;
            {ct}* sr = sd + i * M;
            {ct} mx = -NPY_INFINITY;
            double s = 0.0;
            npy_int64 k = yd[i];
            if (k < 0 || k >= M) {{
                PyErr_Format(PyExc_IndexError,
                             "crossentropy_softmax_1hot: label %lld of row %zd is outside [0, %zd)",
                             (long long)k, (Py_ssize_t)i, (Py_ssize_t)M);
                Py_DECREF(xc); Py_DECREF(yc); {fail}
            }}
            for (j = 0; j < M; j++) if (xr[j] > mx) mx = xr[j];
            for (j = 0; j < M; j++) {{ sr[j] = {ex}(xr[j] - mx); s += sr[j]; }}
            {{ {ct} inv = ({ct})(1.0 / s); for (j = 0; j < M; j++) sr[j] *= inv; }}
            nd[i] = ({ct})({lg}(s) - (xr[k] - mx));
        }}
    }}
    Py_DECREF(xc); Py_DECREF(yc);
"""


def xent_dx_c(dnll: str, sm: str, y: str, dx: str, dtype: str, fail: str) -> str:
    """``dx = dnll[:, None] * (sm - onehot(y))``."""
    ct, tn = _CT[dtype], _TN[dtype]
    return f"""
    PyArrayObject* gc = PyArray_GETCONTIGUOUS({dnll});
    PyArrayObject* sc = PyArray_GETCONTIGUOUS({sm});
    npy_intp N, M, i, j;
    if (gc == NULL || sc == NULL) {{ Py_XDECREF(gc); Py_XDECREF(sc); {fail} }}
    N = PyArray_DIMS(sc)[0]; M = PyArray_DIMS(sc)[1];
    {_labels(y, "N", fail, "Py_DECREF(gc); Py_DECREF(sc);")}
    if (PyArray_DIMS(gc)[0] != N) {{
        PyErr_SetString(PyExc_ValueError, "CrossentropySoftmax1HotDx: dnll and sm rows differ");
        Py_DECREF(gc); Py_DECREF(sc); Py_DECREF(yc); {fail}
    }}
    if (oc_alloc(&{dx}, 2, PyArray_DIMS(sc), {tn})) {{
        Py_DECREF(gc); Py_DECREF(sc); Py_DECREF(yc); {fail}
    }}
    {{
        const {ct}* g = (const {ct}*)PyArray_DATA(gc);
        const {ct}* s = (const {ct}*)PyArray_DATA(sc);
        const npy_int64* yd = (const npy_int64*)PyArray_DATA(yc);
        {ct}* o = ({ct}*)PyArray_DATA({dx});
        for (i = 0; i < N; i++) {{
            npy_int64 k = yd[i];
            if (k < 0 || k >= M) {{
                PyErr_Format(PyExc_IndexError,
                             "CrossentropySoftmax1HotDx: label %lld of row %zd is outside [0, %zd)",
                             (long long)k, (Py_ssize_t)i, (Py_ssize_t)M);
                Py_DECREF(gc); Py_DECREF(sc); Py_DECREF(yc); {fail}
            }}
            for (j = 0; j < M; j++) o[i * M + j] = g[i] * s[i * M + j];
            o[i * M + k] -= g[i];
        }}
    }}
    Py_DECREF(gc); Py_DECREF(sc); Py_DECREF(yc);
"""
