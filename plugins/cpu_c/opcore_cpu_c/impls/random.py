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
static inline npy_int32 oc_mrg_w(npy_uint32 v) { return (npy_int32)v; }
#define OC_ADD(a, b) oc_mrg_w((npy_uint32)(a) + (npy_uint32)(b))
#define OC_SUB(a, b) oc_mrg_w((npy_uint32)(a) - (npy_uint32)(b))
/* one MRG31k3p step of the state s[0..5]; returns k in [1, m1] */
static inline npy_int32 oc_mrg_next(npy_int32* s)
{
    const npy_int32 M1 = 2147483647, M2 = 2147462579;
    npy_int32 x11 = s[0], x12 = s[1], x13 = s[2], x21 = s[3], x22 = s[4], x23 = s[5];
    npy_int32 y1, y2, z1;
    y1 = OC_ADD(OC_ADD((npy_int32)((npy_uint32)(x12 & 511) << 22), x12 >> 9),
                OC_ADD((npy_int32)((npy_uint32)(x13 & 16777215) << 7), x13 >> 24));
    if (y1 < 0 || y1 >= M1) y1 = OC_SUB(y1, M1);
    y1 = OC_ADD(y1, x13);
    if (y1 < 0 || y1 >= M1) y1 = OC_SUB(y1, M1);
    z1 = OC_ADD((npy_int32)((npy_uint32)(x21 & 65535) << 15),
                (npy_int32)((npy_uint32)21069 * (npy_uint32)(x21 >> 16)));
    if (z1 < 0 || z1 >= M2) z1 = OC_SUB(z1, M2);
    y2 = OC_ADD((npy_int32)((npy_uint32)(x23 & 65535) << 15),
                (npy_int32)((npy_uint32)21069 * (npy_uint32)(x23 >> 16)));
    if (y2 < 0 || y2 >= M2) y2 = OC_SUB(y2, M2);
    y2 = OC_ADD(y2, x23);
    if (y2 < 0 || y2 >= M2) y2 = OC_SUB(y2, M2);
    y2 = OC_ADD(y2, z1);
    if (y2 < 0 || y2 >= M2) y2 = OC_SUB(y2, M2);
    s[2] = x12; s[1] = x11; s[0] = y1;
    s[5] = x22; s[4] = x21; s[3] = y2;
    return y1 <= y2 ? OC_ADD(OC_SUB(y1, y2), M1) : OC_SUB(y1, y2);
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
        return (1,)

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
npy_int32* st_; {ctype}* out_;
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
Py_BEGIN_ALLOW_THREADS
for (r_ = 0; r_ < n_; r_ += ns_) {{
    k_ = (n_ - r_ < ns_) ? (n_ - r_) : ns_;
    for (s_ = 0; s_ < k_; s_++)
        out_[r_ + s_] = ({ctype})oc_mrg_next(st_ + 6 * s_) * {scale};
}}
Py_END_ALLOW_THREADS
}}
"""


def register(impls: Any) -> None:
    """Give backend ``c`` the MRG31k3p kernel."""
    impls.register("c", mrg_uniform, MrgUniformC())
