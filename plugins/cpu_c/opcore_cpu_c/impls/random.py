"""C implementation of ``mrg_uniform`` (``opcore.tensor.random.mrg``): MRG31k3p in C.

Bit-for-bit equal to the NumPy reference (``opcore.tensor.random.mrg31k3p.uniform_draws``):
the same shift-and-add step with 32-bit wrap-around (done in unsigned arithmetic, so no signed
overflow), draws produced round by round (round ``r`` advances streams ``0..k-1`` and writes draws
``r*n_streams .. r*n_streams+k-1``), and the same scaling to (0, 1): ``(float)k * 4.6566126e-10f``
for float32, ``(double)k * 2^-31`` for float64.  float16 draws stay on the Python reference.
"""

from __future__ import annotations

from typing import Any

from opcore.tensor.random.mrg import mrg_uniform

from opcore_cpu_c.ccode import typenum

_SUPPORT = r"""
#ifndef OC_MRG31K3P
#define OC_MRG31K3P
/* -(cond) as an all-ones mask: branch-free corrections the compiler can vectorise */
#define OC_FIX(v, m) ((v) - ((m) & (0u - (npy_uint32)(((npy_int32)(v) < 0) \
                                                   | ((npy_int32)(v) >= (npy_int32)(m))))))
/* k draws, one from each of the streams s = 0..k-1 (state in structure-of-arrays form) */
static void oc_mrg_round(npy_int32* restrict x1a, npy_int32* restrict x1b, npy_int32* restrict x1c,
                         npy_int32* restrict x2a, npy_int32* restrict x2b, npy_int32* restrict x2c,
                         npy_int32* restrict k_out, npy_intp k)
{
    const npy_uint32 M1 = 2147483647u, M2 = 2147462579u;
    npy_intp s;
    for (s = 0; s < k; s++) {
        npy_uint32 x11 = (npy_uint32)x1a[s], x12 = (npy_uint32)x1b[s], x13 = (npy_uint32)x1c[s];
        npy_uint32 x21 = (npy_uint32)x2a[s], x22 = (npy_uint32)x2b[s], x23 = (npy_uint32)x2c[s];
        npy_uint32 y1, y2, z1, d;
        y1 = ((x12 & 511u) << 22) + (npy_uint32)((npy_int32)x12 >> 9)
             + ((x13 & 16777215u) << 7) + (npy_uint32)((npy_int32)x13 >> 24);
        y1 = OC_FIX(y1, M1);
        y1 = OC_FIX(y1 + x13, M1);
        z1 = ((x21 & 65535u) << 15) + 21069u * (npy_uint32)((npy_int32)x21 >> 16);
        z1 = OC_FIX(z1, M2);
        y2 = ((x23 & 65535u) << 15) + 21069u * (npy_uint32)((npy_int32)x23 >> 16);
        y2 = OC_FIX(y2, M2);
        y2 = OC_FIX(y2 + x23, M2);
        y2 = OC_FIX(y2 + z1, M2);
        x1c[s] = (npy_int32)x12; x1b[s] = (npy_int32)x11; x1a[s] = (npy_int32)y1;
        x2c[s] = (npy_int32)x22; x2b[s] = (npy_int32)x21; x2a[s] = (npy_int32)y2;
        d = y1 - y2;
        k_out[s] = (npy_int32)(d + (M1 & (0u - (npy_uint32)((npy_int32)y1 <= (npy_int32)y2))));
    }
}
#endif
"""


class MrgUniformC:
    """``mrg_uniform`` for float32/float64 draws."""

    def c_supports(self, node: Any) -> bool:
        return node.outputs[1].type.dtype in ("float32", "float64")

    def c_support_code(self, node: Any = None) -> str:
        return _SUPPORT

    def c_code_cache_version(self, node: Any = None) -> tuple:
        return (2,)

    def c_code(self, node, name, inputs, outputs, sub):
        (rs, size), (zs, z) = inputs, outputs
        fail = sub["fail"]
        op = node.op
        nd = op.output_type.ndim
        dt = node.outputs[1].type.dtype
        ctype = "npy_float32" if dt == "float32" else "npy_float64"
        scale = "4.6566126e-10f" if dt == "float32" else "4.656612873077392578125e-10"
        take = (f"if ({int(op.inplace)} && PyArray_IS_C_CONTIGUOUS({rs}) && PyArray_ISWRITEABLE("
                f"{rs})) {{ Py_XDECREF({zs}); {zs} = {rs}; Py_INCREF({zs}); }} else {{ "
                f"Py_XDECREF({zs}); {zs} = (PyArrayObject*)PyArray_NewCopy({rs}, NPY_CORDER); "
                f"if (!{zs}) {fail} }}")
        return f"""
{{
npy_intp dims_[{max(nd, 1)}]; npy_int64 n_ = 1; npy_intp ns_, r_, s_, k_; int d_;
npy_int32* st_; npy_int32* soa_; {ctype}* out_;
if (PyArray_NDIM({size}) != 1 || PyArray_DIMS({size})[0] != {nd}) {{
    PyErr_SetString(PyExc_ValueError, "mrg_uniform: size must be a vector of length {nd}");
    {fail} }}
for (d_ = 0; d_ < {nd}; d_++) {{
    dims_[d_] = (npy_intp)*(npy_int64*)PyArray_GETPTR1({size}, d_);
    if (dims_[d_] < 0) {{ PyErr_SetString(PyExc_ValueError,
        "mrg_uniform: negative dimension in size"); {fail} }}
    n_ *= dims_[d_];
}}
if (n_ > 2147483647) {{ PyErr_SetString(PyExc_ValueError,
    "rng_mrg does not support more than 2**31 - 1 samples"); {fail} }}
if (PyArray_NDIM({rs}) != 2 || PyArray_DIMS({rs})[1] != 6 || PyArray_DIMS({rs})[0] < 1) {{
    PyErr_SetString(PyExc_ValueError, "rstate must be an (n_streams, 6) int32 matrix");
    {fail} }}
{take}
if (oc_alloc(&{z}, {nd}, dims_, {typenum(dt)})) {fail}
ns_ = PyArray_DIMS({zs})[0];
st_ = (npy_int32*)PyArray_DATA({zs});
out_ = ({ctype}*)PyArray_DATA({z});
soa_ = (npy_int32*)malloc(sizeof(npy_int32) * 7 * (size_t)ns_);
if (!soa_) {{ PyErr_NoMemory(); {fail} }}
Py_BEGIN_ALLOW_THREADS
for (s_ = 0; s_ < ns_; s_++) for (d_ = 0; d_ < 6; d_++) soa_[d_ * ns_ + s_] = st_[6 * s_ + d_];
for (r_ = 0; r_ < n_; r_ += ns_) {{
    k_ = (n_ - r_ < ns_) ? (n_ - r_) : ns_;
    oc_mrg_round(soa_, soa_ + ns_, soa_ + 2 * ns_, soa_ + 3 * ns_, soa_ + 4 * ns_,
                 soa_ + 5 * ns_, soa_ + 6 * ns_, k_);
    for (s_ = 0; s_ < k_; s_++) out_[r_ + s_] = ({ctype})soa_[6 * ns_ + s_] * {scale};
}}
for (s_ = 0; s_ < ns_; s_++) for (d_ = 0; d_ < 6; d_++) st_[6 * s_ + d_] = soa_[d_ * ns_ + s_];
Py_END_ALLOW_THREADS
free(soa_);
}}
"""


def register(impls: Any) -> None:
    """Give backend ``c`` the MRG31k3p kernel."""
    impls.register("c", mrg_uniform, MrgUniformC())
