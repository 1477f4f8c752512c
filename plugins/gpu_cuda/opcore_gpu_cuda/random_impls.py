"""``mrg_uniform`` on the device: the MRG31k3p kernel, one thread per stream.

The model is the libgpuarray kernel Theano used (``theano.gpuarray.rng_mrg``): thread ``s`` loads
stream ``s``'s six-number state into registers, produces draws ``s, s + n_streams, ...`` and
writes the state back.  The step uses unsigned 32-bit arithmetic for the wrap-around (signed
overflow is undefined in CUDA and OpenCL C) and the same scaling as the C and NumPy versions
(``(float)k * 4.6566126e-10f``, ``(double)k * 2^-31``), so every backend returns the same bits.
The state matrix moves to the device; ``size`` stays on the host.  float16 draws stay on the
host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.tensor.random.mrg import mrg_uniform

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.dialect import GA_SIZE
from opcore_gpu_cuda.ops import GpuRule


def mrg_kernel_source(name: str, dtype: str) -> str:
    """The kernel for float32 or float64 draws (contiguous state and output)."""
    otype, scale = (("ga_float", "4.6566126e-10f") if dtype == "float32"
                    else ("ga_double", "4.656612873077392578125e-10"))
    add = "((ga_int)((ga_uint)({a}) + (ga_uint)({b})))"
    sub = "((ga_int)((ga_uint)({a}) - (ga_uint)({b})))"

    def A(a, b):
        return add.format(a=a, b=b)

    def S(a, b):
        return sub.format(a=a, b=b)

    def fix(v, m):
        return f"if ({v} < 0 || {v} >= {m}) {v} = {S(v, m)};"

    return f"""KERNEL void {name}(GLOBAL_MEM char *out_p, ga_size out_off,
    GLOBAL_MEM char *st_p, ga_size st_off, ga_size n, ga_size ns) {{
  GLOBAL_MEM {otype} *out = (GLOBAL_MEM {otype} *)(out_p + out_off);
  GLOBAL_MEM ga_int *st = (GLOBAL_MEM ga_int *)(st_p + st_off);
  const ga_int M1 = 2147483647, M2 = 2147462579;
  for (ga_size s = GID_0 * LDIM_0 + LID_0; s < ns && s < n; s += LDIM_0 * GDIM_0) {{
    ga_int x11 = st[s * 6 + 0], x12 = st[s * 6 + 1], x13 = st[s * 6 + 2];
    ga_int x21 = st[s * 6 + 3], x22 = st[s * 6 + 4], x23 = st[s * 6 + 5];
    ga_int y1, y2, z1;
    for (ga_size i = s; i < n; i += ns) {{
      y1 = {A(A("(ga_int)((ga_uint)(x12 & 511) << 22)", "x12 >> 9"),
              A("(ga_int)((ga_uint)(x13 & 16777215) << 7)", "x13 >> 24"))};
      {fix("y1", "M1")}
      y1 = {A("y1", "x13")};
      {fix("y1", "M1")}
      z1 = {A("(ga_int)((ga_uint)(x21 & 65535) << 15)",
              "(ga_int)((ga_uint)21069 * (ga_uint)(x21 >> 16))")};
      {fix("z1", "M2")}
      y2 = {A("(ga_int)((ga_uint)(x23 & 65535) << 15)",
              "(ga_int)((ga_uint)21069 * (ga_uint)(x23 >> 16))")};
      {fix("y2", "M2")}
      y2 = {A("y2", "x23")};
      {fix("y2", "M2")}
      y2 = {A("y2", "z1")};
      {fix("y2", "M2")}
      x13 = x12; x12 = x11; x11 = y1;
      x23 = x22; x22 = x21; x21 = y2;
      ga_int k = y1 <= y2 ? {A(S("y1", "y2"), "M1")} : {S("y1", "y2")};
      out[i] = ({otype})k * {scale};
    }}
    st[s * 6 + 0] = x11; st[s * 6 + 1] = x12; st[s * 6 + 2] = x13;
    st[s * 6 + 3] = x21; st[s * 6 + 4] = x22; st[s * 6 + 5] = x23;
  }}
}}"""


def _supports(op: Any, node: Any) -> str:
    dt = node.outputs[1].type.dtype
    return "" if dt in ("float32", "float64") else f"GPU mrg_uniform draws float32/64, not {dt}"


def mrg_uniform_draws(rstate: GpuArray, size: Any, dtype: str, inplace: bool = False):
    """``(new_rstate, draws)`` on ``rstate``'s device; the NumPy reference's bits."""
    size = tuple(int(s) for s in np.asarray(size).reshape(-1))
    if any(s < 0 for s in size):
        raise ValueError(f"mrg_uniform: negative dimension in size {size}")
    n = int(np.prod(size, dtype="int64"))
    if n > 2147483647:
        raise ValueError("rng_mrg does not support more than 2**31 - 1 samples")
    if rstate.ndim != 2 or rstate.shape[1] != 6 or rstate.dtype != np.int32:
        raise ValueError(f"rstate must be an (n_streams, 6) int32 matrix, got {rstate.dtype} "
                         f"{rstate.shape}")
    ctx = rstate.context
    st = rstate if inplace and rstate.c_contiguous else rstate.copy()
    out = empty(size, dtype, ctx)
    ns = st.shape[0]
    if n:
        name = f"mrg_uniform_{dtype}"
        src = mrg_kernel_source(name, dtype)
        K.GENERATED[name] = src
        kern = K.Kernel(src, name, [GpuArray, GA_SIZE, GpuArray, GA_SIZE, GA_SIZE, GA_SIZE])
        K._launch1d(ctx, kern, min(ns, n), [out.data, out.offset, st.data, st.offset, n, ns])
    return st, out


def _run(op: Any, node: Any, inputs: list) -> list:
    rstate, size = inputs
    return list(mrg_uniform_draws(rstate, size, node.outputs[1].type.dtype, op.inplace))


def register(impls: Any) -> None:
    impls.register("gpu", mrg_uniform, GpuRule(_run, device_inputs=lambda op, n: [0],
                                                supports=_supports))
