"""Floating-point sums and products in NumPy's order, bit for bit.

NumPy's ``add.reduce`` (``np.sum``, and so ``np.mean``) adds pairwise: each call of its inner
loop over a run of ``n`` elements (``pairwise_sum`` in ``numpy/_core/src/umath/loops_utils.h.src``)
sums ``n < 8`` elements in order from ``-0.0``, ``n <= 128`` with eight accumulators over blocks
of eight combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`` and the rest added in order, and
larger runs as two halves split at ``n/2`` rounded down to a multiple of eight; each run's sum is
added to the output, which starts at the identity.  ``multiply.reduce`` multiplies in iteration
order.  Which elements form one run is decided by NumPy's iterator (``nditer_constr.c``): axes are
sorted by decreasing ``|stride|``, adjacent axes that are both reduced (or both kept) and
contiguous coalesce, and an operand that is cast (``float32`` or integer data accumulated in
``float64``) or misaligned is copied through buffers of 8192 elements
(``npyiter_find_buffering_setup``).  For an input that is contiguous once its axes are sorted
that gives, with ``M`` the length of the innermost run of reduced axes:

- all axes reduced: one run of the whole array, or runs of 8192 when the input is cast;
- otherwise one run per ``M`` elements, split into runs of 8192 when cast and ``M > 8192``;
- when the innermost axes are kept, every output element adds its inputs one at a time, in
  memory order.

Any other layout (strided, negative strides, broadcast, misaligned) goes to NumPy's own ``ufunc.reduce``.
The rule was established against NumPy 2.4 and is checked by
``plugins/cpu_c/tests/test_reduce_order.py`` against the installed NumPy.
"""

from __future__ import annotations

from opcore_cpu_c.ccode import c_string, ctype

#: elements in one buffer of NumPy's iterator (``NPY_BUFSIZE``)
BUFSIZE = 8192


def float_accumulator(kind: str, accd: str) -> bool:
    """Whether ``kind`` accumulated in ``accd`` depends on the order of the operations (only
    floating-point sums and products do; integer arithmetic wraps the same in any order)."""
    return kind in ("sum", "prod") and accd in ("float32", "float64")


def support_code(xd: str, accd: str) -> str:
    """C helpers for data ``xd`` accumulated in ``accd``: ``oc_pw_<xd>_<accd>`` (NumPy's pairwise
    sum of a contiguous run) and ``oc_np_reduce`` (NumPy's ``ufunc.reduce`` for other layouts)."""
    xt, at = ctype(xd), ctype(accd)
    name = f"oc_pw_{xd}_{accd}"
    v = "(({at})a[{i}])"
    blk = "\n".join(f"            r[{j}] += {v.format(at=at, i=f'i + {j}')};" for j in range(8))
    init = " ".join(f"r[{j}] = {v.format(at=at, i=j)};" for j in range(8))
    return f"""
#ifndef OC_PW_{xd}_{accd}
#define OC_PW_{xd}_{accd}
static {at} {name}(const {xt}* a, npy_intp n)
{{
    if (n < 8) {{
        {at} res = -0.0; npy_intp i;
        for (i = 0; i < n; i++) res += (({at})a[i]);
        return res;
    }}
    else if (n <= 128) {{
        {at} r[8], res; npy_intp i;
        {init}
        for (i = 8; i < n - (n % 8); i += 8) {{
{blk}
        }}
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += (({at})a[i]);
        return res;
    }}
    else {{
        npy_intp n2 = n / 2;
        n2 -= n2 % 8;
        return {name}(a, n2) + {name}(a + n2, n - n2);
    }}
}}
#endif
#ifndef OC_NP_REDUCE
#define OC_NP_REDUCE
/* NumPy's ufunc.reduce(x, axis, dtype) copied into z (cast as NumPy casts): the layouts whose
   run structure the generated loop does not reproduce */
static int oc_np_reduce(const char* ufunc, PyArrayObject* x, PyObject* axis, int acc_typenum,
                        PyArrayObject* z)
{{
    PyObject *np = NULL, *uf = NULL, *r = NULL, *ra = NULL;
    PyArray_Descr* dt = PyArray_DescrFromType(acc_typenum);
    int rc = -1;
    if (dt == NULL) return -1;
    np = PyImport_ImportModule("numpy");
    if (np != NULL) uf = PyObject_GetAttrString(np, ufunc);
    if (uf != NULL) r = PyObject_CallMethod(uf, "reduce", "OOO", (PyObject*)x, axis, (PyObject*)dt);
    if (r != NULL) ra = PyArray_FROM_O(r);
    if (ra != NULL) rc = PyArray_CopyInto(z, (PyArrayObject*)ra);
    Py_XDECREF(ra); Py_XDECREF(r); Py_XDECREF(uf); Py_XDECREF(np); Py_DECREF(dt);
    return rc;
}}
#endif
"""


def ordered(kind: str, x: str, z: str, nd: int, axes: list, kept: list, xd: str, zd: str,
            accd: str, fail: str) -> list:
    """C lines computing ``z`` = the ``kind`` ("sum" or "prod") of ``x`` over ``axes`` in
    ``accd`` in NumPy's order (see the module docstring); ``nout``, ``zdims`` and ``i``, ``j``
    are declared by the caller and ``z`` is allocated."""
    xt, zt, at = ctype(xd), ctype(zd), ctype(accd)
    astr = ["0"] * nd
    for k, d in enumerate(kept):
        astr[d] = " * ".join([f"zdims[{j}]" for j in range(k + 1, len(kept))]) or "1"
    ident = "0" if kind == "sum" else "1"
    ufunc = "add" if kind == "sum" else "multiply"
    axis_fmt = c_string("(" + "n" * len(axes) + ")")
    axis_args = "".join(f", (Py_ssize_t){d}" for d in axes)
    L = [f"{{ npy_intp sh_[{nd}], xs_[{nd}], as_[{nd}], ix_[{nd}]; int rd_[{nd}];",
         "  int q_ = 0, k_, g_, contig_ = 1, cast_;",
         f"  npy_intp size_ = PyArray_SIZE({x}), M_ = 1, s_ = sizeof({xt}), ao_ = 0, c_;",
         f"  const char* b_ = (const char*)PyArray_DATA({x});",
         f"  {at}* acc = ({at}*)PyMem_Malloc((nout > 0 ? nout : 1) * sizeof({at}));",
         f"  if (acc == NULL) {{ PyErr_NoMemory(); {fail} }}",
         f"  for (i = 0; i < nout; i++) acc[i] = ({at}){ident};"]
    # the axes of length > 1, sorted by decreasing |stride| (stable, as NumPy's iterator)
    for d in range(nd):
        L.append(f"  if (PyArray_DIMS({x})[{d}] != 1) {{ sh_[q_] = PyArray_DIMS({x})[{d}]; "
                 f"xs_[q_] = PyArray_STRIDES({x})[{d}]; as_[q_] = {astr[d]}; "
                 f"rd_[q_] = {int(d in axes)}; q_++; }}")
    L += ["  for (k_ = 1; k_ < q_; k_++) { int m_ = k_;",
          "    while (m_ > 0 && (xs_[m_ - 1] < 0 ? -xs_[m_ - 1] : xs_[m_ - 1]) <",
          "           (xs_[m_] < 0 ? -xs_[m_] : xs_[m_])) {",
          "      npy_intp t0 = sh_[m_], t1 = xs_[m_], t2 = as_[m_]; int t3 = rd_[m_];",
          "      sh_[m_] = sh_[m_ - 1]; xs_[m_] = xs_[m_ - 1]; as_[m_] = as_[m_ - 1];",
          "      rd_[m_] = rd_[m_ - 1];",
          "      sh_[m_ - 1] = t0; xs_[m_ - 1] = t1; as_[m_ - 1] = t2; rd_[m_ - 1] = t3; m_--; }",
          "  }",
          "  for (k_ = q_ - 1; k_ >= 0; k_--) { if (xs_[k_] != s_) contig_ = 0; s_ *= sh_[k_]; }",
          f"  cast_ = {int(xd != accd)};",
          # NumPy buffers a misaligned input too; its own reduce reads it without unaligned loads
          f"  if (((npy_uintp)b_ % sizeof({xt})) != 0) contig_ = 0;",
          "  if (size_ > 0 && !contig_) {",
          "    PyMem_Free(acc);",
          f"    {{ PyObject* ax_ = Py_BuildValue({axis_fmt}{axis_args});",
          f"      int rc_ = ax_ == NULL ? -1 : oc_np_reduce({c_string(ufunc)}, {x}, ax_, "
          f"NPY_{accd.upper()}, {z});",
          f"      Py_XDECREF(ax_); if (rc_ < 0) {fail} }}",
          "  } else {",
          "  if (q_ == 0) { sh_[0] = 1; xs_[0] = sizeof(" + xt + "); as_[0] = 0; rd_[0] = 1; "
          "q_ = 1; }",
          # the innermost run: the trailing sorted axes reduced (or kept) like the last one
          "  g_ = q_ - 1; M_ = sh_[g_];",
          "  while (g_ > 0 && rd_[g_ - 1] == rd_[q_ - 1]) { g_--; M_ *= sh_[g_]; }",
          "  for (k_ = 0; k_ < q_; k_++) ix_[k_] = 0;"]
    if kind == "sum":
        run = [f"    {{ const npy_intp step_ = ((g_ == 0 || M_ > {BUFSIZE}) && cast_) ? "
               f"{BUFSIZE} : M_; {at} acc_ = acc[ao_];",
               "      for (c_ = 0; c_ < M_; c_ += step_) acc_ = acc_ + "
               f"oc_pw_{xd}_{accd}((const {xt}*)b_ + c_, (M_ - c_ < step_ ? M_ - c_ : step_));",
               "      acc[ao_] = acc_; }"]
        row = "r_[j * as_[q_ - 1]] = r_[j * as_[q_ - 1]] + v;"
    else:
        run = [f"    {{ {at} acc_ = acc[ao_]; const {xt}* p_ = (const {xt}*)b_;",
               f"      for (j = 0; j < M_; j++) {{ const {at} v = ({at})p_[j]; acc_ = acc_ * v; }}",
               "      acc[ao_] = acc_; }"]
        row = "r_[j * as_[q_ - 1]] = r_[j * as_[q_ - 1]] * v;"
    L += ["  if (size_ > 0) for (;;) {",
          "    if (rd_[q_ - 1]) {", *run,
          # step the axes outside the run (an odometer in memory order)
          "      for (k_ = g_ - 1; k_ >= 0; k_--) {",
          "        b_ += xs_[k_]; ao_ += as_[k_];",
          "        if (++ix_[k_] < sh_[k_]) break;",
          "        b_ -= xs_[k_] * sh_[k_]; ao_ -= as_[k_] * sh_[k_]; ix_[k_] = 0;",
          "      }",
          "    } else {",
          f"      {at}* r_ = acc + ao_; const {xt}* p_ = (const {xt}*)b_;",
          f"      for (j = 0; j < sh_[q_ - 1]; j++) {{ const {at} v = ({at})p_[j]; {row} }}",
          "      for (k_ = q_ - 2; k_ >= 0; k_--) {",
          "        b_ += xs_[k_]; ao_ += as_[k_];",
          "        if (++ix_[k_] < sh_[k_]) break;",
          "        b_ -= xs_[k_] * sh_[k_]; ao_ -= as_[k_] * sh_[k_]; ix_[k_] = 0;",
          "      }",
          "    }",
          "    if (k_ < 0) break;",
          "  }",
          f"  {{ {zt}* q = ({zt}*)PyArray_DATA({z}); for (i = 0; i < nout; i++) q[i] = "
          f"({zt})acc[i]; }}",
          "  PyMem_Free(acc); } }"]
    return L
