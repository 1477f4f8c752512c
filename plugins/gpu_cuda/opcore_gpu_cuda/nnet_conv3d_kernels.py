"""Kernels (libgpuarray dialect) for opcore-nnet's ``Conv3d``, ``Conv3dGradWeights`` and
``Conv3dGradInputs``: direct convolution over (depth, rows, cols), one thread per output element,
with padding, strides, dilation, groups and filter flipping (the semantics of the 2-d kernels
in :mod:`opcore_gpu_cuda.nnet_kernels`, with a depth axis).

They launch through :func:`opcore_gpu_cuda.nnet_kernels.conv_run`, which records the generated
sources in :data:`opcore_gpu_cuda.kernels.GENERATED`.
"""

from __future__ import annotations

from typing import Any, Sequence

from opcore_gpu_cuda import nnet_kernels as NK
from opcore_gpu_cuda.array import GpuArray
from opcore_gpu_cuda.dialect import dtype_to_ctype
from opcore_gpu_cuda.nnet_kernels import _arr, _at, _unravel

_AX = "zyx"
#: per spatial axis: input size, filter size, output size, padding, stride, dilation
_PER = ("N", "F", "O", "p", "s", "d")
_GEOM = ["B", "C", "K", "CG", "flip"] + [f"{p}{a}" for a in _AX for p in _PER]
_PARAMS = ", ".join(f"ga_ssize {g}" for g in _GEOM)


def _tap(a: str) -> str:
    """The filter index read for tap ``t<a>`` (flipped or not)."""
    return f"(flip ? F{a} - 1 - t{a} : t{a})"


def _loops(body: str, pos: str, skip: str) -> str:
    """Nested loops over the filter taps; ``pos`` gives each axis' position (``<a>``),
    ``skip`` the condition under which a tap is skipped."""
    for a in reversed(_AX):
        body = (f"for (ga_ssize t{a} = 0; t{a} < F{a}; t{a}++) {{\n"
                f"  ga_ssize q{a} = {pos.replace('<a>', a)};\n"
                f"  if ({skip.replace('<a>', a)}) continue;\n  {body}\n}}")
    return body


def conv3d_fwd_source(name: str, dtype: str) -> str:
    """``z[b, k, o]`` = the sum over channels and taps of ``x[b, g*CG + c, o*s - p + t*d]``
    times the (flipped) filter tap."""
    t = dtype_to_ctype(dtype)
    xi = _at("x", ["b", "g * CG + c"] + [f"q{a}" for a in _AX])
    wi = _at("w", ["k", "c"] + [_tap(a) for a in _AX])
    body = f"acc += *(GLOBAL_MEM {t} *){xi} * *(GLOBAL_MEM {t} *){wi};"
    loops = _loops(body, "o<a> * s<a> - p<a> + t<a> * d<a>", "q<a> < 0 || q<a> >= N<a>")
    return f"""KERNEL void {name}({_PARAMS}, {_arr('x', 5)}, {_arr('w', 5)}, {_arr('z', 5)}) {{
  ga_size total = (ga_size)(B * K * Oz * Oy * Ox);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'k', 'oz', 'oy', 'ox'], ['B', 'K', 'Oz', 'Oy', 'Ox'])}
    ga_ssize g = k / (K / (C / CG));
    {t} acc = 0;
    for (ga_ssize c = 0; c < CG; c++) {{
      {loops}
    }}
    *(GLOBAL_MEM {t} *){_at('z', ['b', 'k', 'oz', 'oy', 'ox'])} = acc;
  }}
}}"""


def conv3d_gw_source(name: str, dtype: str) -> str:
    """``dw[k, c, f]``: the sum over ``b`` and the outputs of ``dy * x`` at the tap (flipped
    back)."""
    t = dtype_to_ctype(dtype)
    dyi = _at("dy", ["b", "k", "oz", "oy", "ox"])
    xi = _at("x", ["b", "g * CG + c"] + [f"i{a}" for a in _AX])
    body = f"acc += *(GLOBAL_MEM {t} *){dyi} * *(GLOBAL_MEM {t} *){xi};"
    for a in reversed(_AX):
        body = (f"for (ga_ssize o{a} = 0; o{a} < O{a}; o{a}++) {{\n"
                f"  ga_ssize i{a} = o{a} * s{a} - p{a} + u{a} * d{a};\n"
                f"  if (i{a} < 0 || i{a} >= N{a}) continue;\n  {body}\n}}")
    taps = " ".join(f"ga_ssize u{a} = flip ? F{a} - 1 - f{a} : f{a};" for a in _AX)
    return f"""KERNEL void {name}({_PARAMS}, {_arr('x', 5)}, {_arr('dy', 5)}, {_arr('dw', 5)}) {{
  ga_size total = (ga_size)(K * CG * Fz * Fy * Fx);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['k', 'c', 'fz', 'fy', 'fx'], ['K', 'CG', 'Fz', 'Fy', 'Fx'])}
    ga_ssize g = k / (K / (C / CG));
    {taps}
    {t} acc = 0;
    for (ga_ssize b = 0; b < B; b++) {{
      {body}
    }}
    *(GLOBAL_MEM {t} *){_at('dw', ['k', 'c', 'fz', 'fy', 'fx'])} = acc;
  }}
}}"""


def conv3d_gi_source(name: str, dtype: str) -> str:
    """``dx[b, c, e]``: the sum over the filters of its group and the taps whose output reads
    ``x[b, c, e]``."""
    t = dtype_to_ctype(dtype)
    dyi = _at("dy", ["b", "k"] + [f"q{a} / s{a}" for a in _AX])
    wi = _at("w", ["k", "cc"] + [_tap(a) for a in _AX])
    body = f"acc += *(GLOBAL_MEM {t} *){dyi} * *(GLOBAL_MEM {t} *){wi};"
    loops = _loops(body, "e<a> + p<a> - t<a> * d<a>",
                   "q<a> < 0 || q<a> % s<a> != 0 || q<a> / s<a> >= O<a>")
    return f"""KERNEL void {name}({_PARAMS}, {_arr('w', 5)}, {_arr('dy', 5)}, {_arr('dx', 5)}) {{
  ga_size total = (ga_size)(B * C * Nz * Ny * Nx);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'c', 'ez', 'ey', 'ex'], ['B', 'C', 'Nz', 'Ny', 'Nx'])}
    ga_ssize kg = K / (C / CG), g = c / CG, cc = c % CG;
    {t} acc = 0;
    for (ga_ssize kk = 0; kk < kg; kk++) {{
      ga_ssize k = g * kg + kk;
      {loops}
    }}
    *(GLOBAL_MEM {t} *){_at('dx', ['b', 'c', 'ez', 'ey', 'ex'])} = acc;
  }}
}}"""


_SOURCES = {"fwd": conv3d_fwd_source, "gw": conv3d_gw_source, "gi": conv3d_gi_source}


def conv3d_geometry(op: Any, xshape: Sequence[int], wshape: Sequence[int]) -> dict:
    """The kernels' geometry for these shapes, checked with the op's own rules (its
    ``_geometry`` raises the CPU op's errors); the padding is symmetric (the rule's
    ``supports`` keeps asymmetric paddings on the CPU)."""
    pad, oshape = op._geometry(tuple(int(v) for v in xshape), tuple(int(v) for v in wshape))
    geom = dict(B=int(xshape[0]), C=int(xshape[1]), K=int(wshape[0]), CG=int(wshape[1]),
                flip=int(op.filter_flip))
    for i, a in enumerate(_AX):
        geom.update({f"N{a}": int(xshape[2 + i]), f"F{a}": int(wshape[2 + i]),
                     f"O{a}": oshape[i], f"p{a}": pad[i][0], f"s{a}": op.subsample[i],
                     f"d{a}": op.filter_dilation[i]})
    return geom


def conv3d_run(kind: str, geom: dict, a: GpuArray, b: GpuArray, out: GpuArray) -> GpuArray:
    """Launch the ``kind`` (``fwd``, ``gw``, ``gi``) kernel over ``out``'s elements."""
    return NK.conv_run(kind, geom, a, b, out, sources=_SOURCES, keys=_GEOM, nd=5,
                       label="conv3d")


def conv3d_kernel_sources() -> list[tuple[str, str]]:
    """Every conv3d kernel source, per float dtype (for the NVRTC compile checks)."""
    return [(f"conv3d_{kind}_{dt}", fn(f"k_conv3d_{kind}_{dt}", dt))
            for dt in ("float32", "float64") for kind, fn in _SOURCES.items()]
