"""C bodies (Theano ``c_code`` protocol) for the softmax family and the fused crossentropy.

The ``cpu_c`` backend passes ``PyArrayObject*`` names for inputs and outputs; an output name may
hold NULL or a previous result, which ``oc_alloc`` reuses when it fits.  ``oc_alloc`` is one of
the shared C helpers documented in ``opcore/cbuild/include/opcore_helpers.h``; the ops list that
header in ``c_headers`` (:data:`HEADERS`), and the build layer puts its directory on the include
path.  Inputs are made C-contiguous first, so the loops below read plain row-major memory.
"""

from __future__ import annotations

from opcore.cbuild.ctypes import npy_ctype, typenum

#: The headers these C bodies need (``oc_alloc``).
HEADERS = ("opcore_helpers.h",)

_EXP = {"float32": "expf", "float64": "exp"}
_LOG = {"float32": "logf", "float64": "log"}


def softmax_c(x: str, z: str, dtype: str, fail: str, log: bool) -> str:
    """Row-wise (log-)softmax of the 2-d array ``x`` into ``z``."""
    ct, tn, ex, lg = npy_ctype(dtype), typenum(dtype), _EXP[dtype], _LOG[dtype]
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
    ct, tn = npy_ctype(dtype), typenum(dtype)
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
    ct, tn, ex, lg = npy_ctype(dtype), typenum(dtype), _EXP[dtype], _LOG[dtype]
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
    ct, tn = npy_ctype(dtype), typenum(dtype)
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


# ---------------------------------------------------------------------------- pooling

POOL_SUPPORT = r"""
/* opcore-nnet pooling: the number of windows along one axis (pool.py's _out_len) */
static npy_intp ocnn_pool_len(npy_intp n, npy_intp ws, npy_intp st, npy_intp pad, int ib)
{
    npy_intp t;
    n += 2 * pad;
    if (ib) return n >= ws ? (n - ws) / st + 1 : 0;
    if (st >= ws) return n == 0 ? 0 : (n - 1) / st + 1;
    t = n - 1 - ws + st;
    return (t > 0 ? t / st : 0) + 1;
}
"""


def _geom(op: object) -> tuple:
    """(ws, stride, pad) as (depth, rows, cols) triples; 2-d pooling has a depth of one."""
    if op.ndim == 3:
        return op.ws, op.stride, op.pad
    return (1,) + tuple(op.ws), (1,) + tuple(op.stride), (0,) + tuple(op.pad)


def _pool_prologue(op: object, x: str, fail: str, extra_decref: str = "") -> str:
    """Make ``x`` contiguous (``xc``), read (N, dz, r, c) (``dz`` = 1 for 2-d pooling), compute
    (nz, nr, nc) and ``odims``."""
    (wd, w0, w1), (sd, s0, s1), (pd, p0, p1) = _geom(op)
    ib, k = int(op.ignore_border), op.ndim
    depth = (f"dz = PyArray_DIMS(xc)[nd - 3]; nz = ocnn_pool_len(dz, {wd}, {sd}, {pd}, {ib});"
             f" odims[nd - 3] = nz;" if k == 3 else "dz = 1; nz = 1;")
    return f"""
    PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
    npy_intp N = 1, dz, r, c, nz, nr, nc, n, z, e, i, j, a, b;
    (void)b; (void)e; (void)z;
    npy_intp odims[NPY_MAXDIMS];
    int nd, d;
    if (xc == NULL) {{ {extra_decref} {fail} }}
    nd = PyArray_NDIM(xc);
    r = PyArray_DIMS(xc)[nd - 2]; c = PyArray_DIMS(xc)[nd - 1];
    nr = ocnn_pool_len(r, {w0}, {s0}, {p0}, {ib});
    nc = ocnn_pool_len(c, {w1}, {s1}, {p1}, {ib});
    for (d = 0; d < nd - {k}; d++) {{ N *= PyArray_DIMS(xc)[d]; odims[d] = PyArray_DIMS(xc)[d]; }}
    {depth}
    odims[nd - 2] = nr; odims[nd - 1] = nc;
"""


def _tap_loop(op: object, dtype: str, tap: str) -> str:
    """For each window plane ``e`` and row ``a`` in the image and each tap column ``b``, run
    ``tap`` over the
    output columns ``j`` whose input column ``j*s1+b-p1`` lies inside the image (``v`` the input
    value, ``k`` its index, ``o`` the output index)."""
    w1, s1, p1 = op.ws[-1], op.stride[-1], op.pad[-1]
    return f"""
        for (e = ee0; e < ee1; e++) for (a = rr0; a < rr1; a++) for (b = 0; b < {w1}; b++) {{
            const npy_intp off = b - {p1}, rowk = ((n * dz + e) * r + a) * c;
            npy_intp jlo = off < 0 ? (-off + {s1} - 1) / {s1} : 0;
            npy_intp jhi = c - 1 - off >= 0 ? (c - 1 - off) / {s1} + 1 : 0;
            if (jhi > nc) jhi = nc;
            for (j = jlo; j < jhi; j++) {{
                const npy_intp k = rowk + j * {s1} + off, o = orow + j;
                const {npy_ctype(dtype)} v = xd[k];
                (void)k; (void)o;
                {tap}
            }}
        }}
"""


def _rows(op: object, dtype: str, init: str, tap: str, after: str = "") -> str:
    """Loops over images and output rows (of each output plane): ``init``, the :func:`_tap_loop`
    of ``tap``, ``after``.  Per output element the window is visited in row-major order, as the
    NumPy code does."""
    (wd, w0, _), (sd, s0, _), (pd, p0, _) = _geom(op)
    return f"""
    for (n = 0; n < N; n++) for (z = 0; z < nz; z++) for (i = 0; i < nr; i++) {{
        const npy_intp z0 = z * {sd} - {pd}, r0 = i * {s0} - {p0};
        const npy_intp orow = ((n * nz + z) * nr + i) * nc;
        const npy_intp ee0 = z0 > 0 ? z0 : 0, ee1 = z0 + {wd} < dz ? z0 + {wd} : dz;
        const npy_intp rr0 = r0 > 0 ? r0 : 0, rr1 = r0 + {w0} < r ? r0 + {w0} : r;
        {init}
        {_tap_loop(op, dtype, tap)}
        {after}
    }}
"""


def _counts(op: object) -> str:
    """``cnt[j]``: the divisor of window (i, j) for the average modes."""
    (wd, w0, w1), (_, _, s1), (pd, p0, p1) = _geom(op)
    if op.mode == "average_inc_pad":
        planes = f"(double)((z0 + {wd} < dz + {pd} ? z0 + {wd} : dz + {pd}) - z0)"
        rows = f"(double)((r0 + {w0} < r + {p0} ? r0 + {w0} : r + {p0}) - r0)"
        cols = f"(double)((c0 + {w1} < c + {p1} ? c0 + {w1} : c + {p1}) - c0)"
    else:
        planes = "(double)(ee1 - ee0)"
        rows = "(double)(rr1 - rr0)"
        cols = f"(double)((c0 + {w1} < c ? c0 + {w1} : c) - (c0 > 0 ? c0 : 0))"
    return f"""
        for (j = 0; j < nc; j++) {{
            const npy_intp c0 = j * {s1} - {p1};
            cnt[j] = {planes} * {rows} * {cols};
        }}
"""


def _scratch(n: str, fail: str, decref: str) -> str:
    return f"""
    double* cnt = (double*)malloc(sizeof(double) * ({n} > 0 ? {n} : 1));
    if (cnt == NULL) {{ PyErr_NoMemory(); {decref} {fail} }}
"""


def _max_rows(op: object, dtype: str, z: str, zi: str, after: str = "") -> str:
    """Window maxima into ``z[zi]`` (``zi`` is ``o`` for the output, ``j`` for a row buffer).
    NaN propagates as in np.maximum; since that check stops GCC from using ``maxsd`` (a branch
    per element, mispredicted on random data), one branch-free pass looks for NaN first and the
    common NaN-free case runs the select-only loop."""
    ct = npy_ctype(dtype)
    init = f"for (j = 0; j < nc; j++) {z}[{'orow + j' if zi == 'o' else 'j'}] = -NPY_INFINITY;"
    fast = _rows(op, dtype, init, f"{{ const {ct} m = {z}[{zi}]; {z}[{zi}] = m < v ? v : m; }}",
                 after)
    slow = _rows(op, dtype, init, f"{{ const {ct} m = {z}[{zi}]; "
                                  f"{z}[{zi}] = ((v > m) | (v != v)) ? v : m; }}", after)
    return f"""
    {{
        int has_nan = 0;
        npy_intp q, tot = N * dz * r * c;
        for (q = 0; q < tot; q++) has_nan |= xd[q] != xd[q];
        if (!has_nan) {{ {fast} }}
        else {{ {slow} }}
    }}
"""


def pool_c(op: object, x: str, z: str, dtype: str, fail: str) -> str:
    """Max / sum / average pooling of the last ``op.ndim`` (2 or 3) axes of ``x`` (any rank >=
    ``op.ndim``) into ``z``."""
    ct, tn = npy_ctype(dtype), typenum(dtype)
    if op.mode == "max":
        loops = _max_rows(op, dtype, "zd", "o")
    else:
        init = "for (j = 0; j < nc; j++) zd[orow + j] = 0;"
        after = "" if op.mode == "sum" else (
            _counts(op) + f"for (j = 0; j < nc; j++) zd[orow + j] = "
                          f"({ct})((double)zd[orow + j] / cnt[j]);")
        loops = _rows(op, dtype, init, "zd[o] += v;", after)
    return _pool_prologue(op, x, fail) + f"""
    if (oc_alloc(&{z}, nd, odims, {tn})) {{ Py_DECREF(xc); {fail} }}
    {{
        {_scratch("nc", fail, "Py_DECREF(xc);")}
        const {ct}* xd = (const {ct}*)PyArray_DATA(xc);
        {ct}* zd = ({ct}*)PyArray_DATA({z});
        {loops}
        free(cnt);
    }}
    Py_DECREF(xc);
"""


def pool_grad_c(op: object, x: str, gz: str, gx: str, dtype: str, fail: str) -> str:
    """The gradient of :func:`pool_c`: ``gz`` routed to each window's maxima (every tie) or
    spread over the window (divided by the mode's count for the averages)."""
    ct, tn = npy_ctype(dtype), typenum(dtype)
    # non-overlapping windows without padding (the usual CNN case): every element is in at most
    # one window, so the gradient is assigned (no zero-fill of the whole output, no re-read);
    # only the border rows/columns no window covers are zeroed
    tiled = op.ndim == 2 and op.stride == op.ws and op.pad == (0, 0)
    acc = "=" if tiled else "+="
    if tiled:
        w0, w1 = op.ws
        zero = f"""
    {{
        {ct}* gz0 = ({ct}*)PyArray_DATA({gx});
        const npy_intp hr = nr * {w0} < r ? nr * {w0} : r, hc = nc * {w1} < c ? nc * {w1} : c;
        for (n = 0; n < N; n++) for (a = 0; a < r; a++)
            for (b = (a < hr ? hc : 0); b < c; b++) gz0[(n * r + a) * c + b] = 0;
    }}
"""
    else:
        zero = f"memset(PyArray_DATA({gx}), 0, PyArray_NBYTES({gx}));"
    if op.mode == "max":
        # per output row: its window maxima into the row buffer mx, then gz routed to the
        # elements equal to them (a second pass over the same, cache-hot, input rows)
        route = _tap_loop(op, dtype, f"gd[k] {acc} v == mx[j] ? gzd[o] : 0;  /* as np.where */")
        pre = f"""
        {ct}* mx = ({ct}*)malloc(sizeof({ct}) * (nc > 0 ? nc : 1));
        if (mx == NULL) {{ free(cnt); PyErr_NoMemory(); Py_DECREF(xc); Py_DECREF(gc); {fail} }}
"""
        body = _max_rows(op, dtype, "mx", "j", route) + "free(mx);"
    else:
        pre = ""
        init = "" if op.mode == "sum" else _counts(op)
        g = "(double)gzd[o]" if op.mode == "sum" else "gzd[o] / cnt[j]"
        val = f"({ct})({g})" if tiled else f"({ct})((double)gd[k] + {g})"
        body = _rows(op, dtype, init, f"gd[k] = {val};")
    return _pool_prologue(op, x, fail) + f"""
    PyArrayObject* gc = PyArray_GETCONTIGUOUS({gz});
    if (gc == NULL) {{ Py_DECREF(xc); {fail} }}
    if (PyArray_NDIM(gc) != nd) d = 0;
    else for (d = 0; d < nd && PyArray_DIMS(gc)[d] == odims[d]; d++) {{}}
    if (d != nd) {{
        PyErr_Format(PyExc_ValueError, "PoolGrad: gz does not have the pooled shape of x "
                     "(gz is %d-d, x %d-d; expected windows %zd x %zd)", PyArray_NDIM(gc), nd,
                     (Py_ssize_t)nr, (Py_ssize_t)nc);
        Py_DECREF(xc); Py_DECREF(gc); {fail}
    }}
    if (oc_alloc(&{gx}, nd, PyArray_DIMS(xc), {tn})) {{ Py_DECREF(xc); Py_DECREF(gc); {fail} }}
    {zero}
    {{
        {_scratch("nc", fail, "Py_DECREF(xc); Py_DECREF(gc);")}
        const {ct}* xd = (const {ct}*)PyArray_DATA(xc);
        const {ct}* gzd = (const {ct}*)PyArray_DATA(gc);
        {ct}* gd = ({ct}*)PyArray_DATA({gx});
        {pre}
        {body}
        free(cnt);
    }}
    Py_DECREF(xc); Py_DECREF(gc);
"""
