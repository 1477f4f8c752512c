"""Kernels (libgpuarray dialect) for opcore-nnet's fused crossentropy and conv2d ops.

* ``xent_source``: ``CrossentropySoftmax1Hot`` in one kernel, one work-group per row: a max and a
  sum reduction in local memory, then ``sm = exp(x - max) / sum`` and
  ``nll = max + log(sum) - x[y]`` (finite where ``sm`` underflows).
* ``xent_dx_source``: its gradient ``dx = dnll[:, None] * sm - dnll * onehot(y)``.
* ``conv_fwd_source``, ``conv_gw_source``, ``conv_gi_source``: direct convolution, one thread
  per output element, with padding, strides, dilation, groups and filter flipping (the same
  semantics as ``opcore_nnet``'s ``Conv2d``, ``Conv2dGradWeights`` and ``Conv2dGradInputs``).

Strides are in bytes (arrays are ``char *`` plus a byte offset), so any view works.  Every source
is recorded in :data:`opcore_gpu_cuda.kernels.GENERATED` when it runs and listed by
:func:`nnet_kernel_sources` for the NVRTC checks.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, asarray, empty
from opcore_gpu_cuda.dialect import GA_SIZE, GA_SSIZE, dtype_to_ctype


def _arr(name: str, nd: int) -> str:
    st = ", ".join(f"ga_ssize {name}s{j}" for j in range(nd))
    return f"GLOBAL_MEM char *{name}_p, ga_size {name}_off, {st}"


def _at(name: str, idx: Sequence[str]) -> str:
    off = " + ".join(f"({i}) * {name}s{j}" for j, i in enumerate(idx))
    return f"({name}_p + {name}_off + {off})"


def _arr_args(a: GpuArray) -> list:
    return [a.data, a.offset, *a.strides]


def _arr_params(nd: int) -> list:
    return [GpuArray, GA_SIZE] + [GA_SSIZE] * nd


def _group_size(ctx, n: int) -> int:
    ls = 1
    while ls * 2 <= min(256, getattr(ctx, "max_local", 256), max(n, 1)):
        ls *= 2
    return ls


# -- crossentropy ----------------------------------------------------------------------------
def xent_source(name: str, dtype: str, ls: int) -> str:
    """Fused softmax + one-hot negative log-likelihood; labels are ``ga_long`` (int64)."""
    t = dtype_to_ctype(dtype)
    neg_inf = "(-1.0 / 0.0)"
    reduce_tree = (
        "    for (ga_size s = LDIM_0 / 2; s > 0; s >>= 1) {{\n"
        "      if (LID_0 < s) {{ {t} a = buf[LID_0], b = buf[LID_0 + s]; buf[LID_0] = {op}; }}\n"
        "      local_barrier();\n"
        "    }}\n")
    return f"""KERNEL void {name}(ga_size n, ga_size m, {_arr('x', 2)}, {_arr('y', 1)},
    {_arr('nll', 1)}, {_arr('sm', 2)}) {{
  LOCAL_MEM {t} buf[{ls}];
  for (ga_size i = GID_0; i < n; i += GDIM_0) {{
    {t} mx = ({t}){neg_inf};
    for (ga_size j = LID_0; j < m; j += LDIM_0) {{
      {t} v = *(GLOBAL_MEM {t} *){_at('x', ['i', 'j'])};
      mx = v > mx ? v : mx;
    }}
    buf[LID_0] = mx;
    local_barrier();
{reduce_tree.format(t=t, op="(a > b ? a : b)")}    mx = buf[0];
    local_barrier();
    {t} s = 0;
    for (ga_size j = LID_0; j < m; j += LDIM_0)
      s += exp(*(GLOBAL_MEM {t} *){_at('x', ['i', 'j'])} - mx);
    buf[LID_0] = s;
    local_barrier();
{reduce_tree.format(t=t, op="a + b")}    s = buf[0];
    local_barrier();
    for (ga_size j = LID_0; j < m; j += LDIM_0)
      *(GLOBAL_MEM {t} *){_at('sm', ['i', 'j'])} =
          exp(*(GLOBAL_MEM {t} *){_at('x', ['i', 'j'])} - mx) / s;
    if (LID_0 == 0) {{
      ga_long lab = *(GLOBAL_MEM ga_long *){_at('y', ['i'])};
      *(GLOBAL_MEM {t} *){_at('nll', ['i'])} =
          mx + log(s) - *(GLOBAL_MEM {t} *){_at('x', ['i', 'lab'])};
    }}
  }}
}}"""


def xent_dx_source(name: str, g_dt: str, sm_dt: str, out_dt: str) -> str:
    """``dx[i, j] = g[i] * sm[i, j] - (j == y[i] ? g[i] : 0)``, grid-stride over ``n * m``."""
    tg, ts, to = dtype_to_ctype(g_dt), dtype_to_ctype(sm_dt), dtype_to_ctype(out_dt)
    return f"""KERNEL void {name}(ga_size n, ga_size m, {_arr('g', 1)}, {_arr('sm', 2)},
    {_arr('y', 1)}, {_arr('dx', 2)}) {{
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < n * m; q += LDIM_0 * GDIM_0) {{
    ga_size i = q / m, j = q % m;
    {to} g = ({to})*(GLOBAL_MEM {tg} *){_at('g', ['i'])};
    {to} v = g * ({to})*(GLOBAL_MEM {ts} *){_at('sm', ['i', 'j'])};
    if ((ga_long)j == *(GLOBAL_MEM ga_long *){_at('y', ['i'])}) v -= g;
    *(GLOBAL_MEM {to} *){_at('dx', ['i', 'j'])} = v;
  }}
}}"""


def _labels(what: str, y: np.ndarray, n: int, m: int, ctx) -> GpuArray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{what}: {n} rows but {y.shape} labels")
    if n and (y.min() < 0 or y.max() >= m):
        bad = y[(y < 0) | (y >= m)][0]
        raise IndexError(f"{what}: label {bad} is outside [0, {m})")
    return asarray(np.ascontiguousarray(y, dtype=np.int64), ctx)


def crossentropy_softmax_1hot(x: GpuArray, y: np.ndarray) -> tuple[GpuArray, GpuArray]:
    """``(nll, sm)`` of a float matrix ``x`` (device) and host integer labels ``y``."""
    ctx = x.context
    n, m = x.shape
    yd = _labels("GpuCrossentropySoftmax1Hot", y, n, m, ctx)
    nll, sm = empty((n,), x.dtype, ctx), empty((n, m), x.dtype, ctx)
    if n == 0 or m == 0:
        return nll, sm
    ls = _group_size(ctx, m)
    name = f"xent_{x.dtype.name}_{ls}"
    src = xent_source(name, x.dtype.name, ls)
    K.GENERATED[name] = src
    params = [GA_SIZE, GA_SIZE] + _arr_params(2) + _arr_params(1) * 2 + _arr_params(2)
    args = [n, m] + _arr_args(x) + _arr_args(yd) + _arr_args(nll) + _arr_args(sm)
    K.Kernel(src, name, params).call(ctx, 1, [min(n, 65535)], [ls], 0, *args)
    return nll, sm


def crossentropy_softmax_1hot_dx(g: GpuArray, sm: GpuArray, y: np.ndarray,
                                 out_dtype: str) -> GpuArray:
    """The gradient of :func:`crossentropy_softmax_1hot` w.r.t. ``x``."""
    ctx = sm.context
    n, m = sm.shape
    if g.shape != (n,):
        raise ValueError(f"GpuCrossentropySoftmax1HotDx: dnll has shape {g.shape}, sm {sm.shape}")
    yd = _labels("GpuCrossentropySoftmax1HotDx", y, n, m, ctx)
    dx = empty((n, m), out_dtype, ctx)
    if n * m == 0:
        return dx
    name = f"xent_dx_{g.dtype.name}_{sm.dtype.name}_{out_dtype}"
    src = xent_dx_source(name, g.dtype.name, sm.dtype.name, out_dtype)
    K.GENERATED[name] = src
    params = [GA_SIZE, GA_SIZE] + _arr_params(1) + _arr_params(2) + _arr_params(1) + \
        _arr_params(2)
    args = [n, m] + _arr_args(g) + _arr_args(sm) + _arr_args(yd) + _arr_args(dx)
    K._launch1d(ctx, K.Kernel(src, name, params), n * m, args)
    return dx


# -- conv2d ----------------------------------------------------------------------------------
_GEOM = ("B", "C", "H", "W", "K", "CG", "FH", "FW", "OH", "OW", "ph", "pw", "sh", "sw", "dh",
         "dw", "flip")
_GEOM_PARAMS = ", ".join(f"ga_ssize {g}" for g in _GEOM)


def _unravel(names: Sequence[str], dims: Sequence[str]) -> str:
    """C statements splitting ``q`` into ``names`` (row-major over ``dims``)."""
    lines = ["ga_ssize r = (ga_ssize)q;"]
    for nm, d in zip(reversed(names[1:]), reversed(dims[1:])):
        lines.append(f"ga_ssize {nm} = r % {d}; r /= {d};")
    lines.append(f"ga_ssize {names[0]} = r;")
    return "\n    ".join(lines)


def conv_fwd_source(name: str, dtype: str) -> str:
    """``z[b, k, oy, ox] = sum_{c, i, j} x[b, g*CG + c, iy, ix] * w[k, c, i', j']``."""
    t = dtype_to_ctype(dtype)
    return f"""KERNEL void {name}({_GEOM_PARAMS}, {_arr('x', 4)}, {_arr('w', 4)},
    {_arr('z', 4)}) {{
  ga_size total = (ga_size)(B * K * OH * OW);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'k', 'oy', 'ox'], ['B', 'K', 'OH', 'OW'])}
    ga_ssize g = k / (K / (C / CG));
    {t} acc = 0;
    for (ga_ssize c = 0; c < CG; c++) {{
      for (ga_ssize i = 0; i < FH; i++) {{
        ga_ssize iy = oy * sh - ph + i * dh;
        if (iy < 0 || iy >= H) continue;
        ga_ssize wi = flip ? FH - 1 - i : i;
        for (ga_ssize j = 0; j < FW; j++) {{
          ga_ssize ix = ox * sw - pw + j * dw;
          if (ix < 0 || ix >= W) continue;
          ga_ssize wj = flip ? FW - 1 - j : j;
          acc += *(GLOBAL_MEM {t} *){_at('x', ['b', 'g * CG + c', 'iy', 'ix'])} *
                 *(GLOBAL_MEM {t} *){_at('w', ['k', 'c', 'wi', 'wj'])};
        }}
      }}
    }}
    *(GLOBAL_MEM {t} *){_at('z', ['b', 'k', 'oy', 'ox'])} = acc;
  }}
}}"""


def conv_gw_source(name: str, dtype: str) -> str:
    """``dw[k, c, i, j]``: the sum over ``b, oy, ox`` of ``dy * x`` at the tap (flipped back)."""
    t = dtype_to_ctype(dtype)
    return f"""KERNEL void {name}({_GEOM_PARAMS}, {_arr('x', 4)}, {_arr('dy', 4)},
    {_arr('dw', 4)}) {{
  ga_size total = (ga_size)(K * CG * FH * FW);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['k', 'c', 'i', 'j'], ['K', 'CG', 'FH', 'FW'])}
    ga_ssize g = k / (K / (C / CG));
    ga_ssize ti = flip ? FH - 1 - i : i, tj = flip ? FW - 1 - j : j;
    {t} acc = 0;
    for (ga_ssize b = 0; b < B; b++) {{
      for (ga_ssize oy = 0; oy < OH; oy++) {{
        ga_ssize iy = oy * sh - ph + ti * dh;
        if (iy < 0 || iy >= H) continue;
        for (ga_ssize ox = 0; ox < OW; ox++) {{
          ga_ssize ix = ox * sw - pw + tj * dw;
          if (ix < 0 || ix >= W) continue;
          acc += *(GLOBAL_MEM {t} *){_at('dy', ['b', 'k', 'oy', 'ox'])} *
                 *(GLOBAL_MEM {t} *){_at('x', ['b', 'g * CG + c', 'iy', 'ix'])};
        }}
      }}
    }}
    *(GLOBAL_MEM {t} *){_at('dw', ['k', 'c', 'i', 'j'])} = acc;
  }}
}}"""


def conv_gi_source(name: str, dtype: str) -> str:
    """``dx[b, c, y, x]``: the sum over the filter taps and outputs that read ``x[b, c, y, x]``."""
    t = dtype_to_ctype(dtype)
    return f"""KERNEL void {name}({_GEOM_PARAMS}, {_arr('w', 4)}, {_arr('dy', 4)},
    {_arr('dx', 4)}) {{
  ga_size total = (ga_size)(B * C * H * W);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'c', 'y', 'x'], ['B', 'C', 'H', 'W'])}
    ga_ssize kg = K / (C / CG), g = c / CG, cc = c % CG;
    {t} acc = 0;
    for (ga_ssize kk = 0; kk < kg; kk++) {{
      ga_ssize k = g * kg + kk;
      for (ga_ssize i = 0; i < FH; i++) {{
        ga_ssize ty = y + ph - i * dh;
        if (ty < 0 || ty % sh != 0 || ty / sh >= OH) continue;
        ga_ssize wi = flip ? FH - 1 - i : i;
        for (ga_ssize j = 0; j < FW; j++) {{
          ga_ssize tx = x + pw - j * dw;
          if (tx < 0 || tx % sw != 0 || tx / sw >= OW) continue;
          ga_ssize wj = flip ? FW - 1 - j : j;
          acc += *(GLOBAL_MEM {t} *){_at('dy', ['b', 'k', 'ty / sh', 'tx / sw'])} *
                 *(GLOBAL_MEM {t} *){_at('w', ['k', 'cc', 'wi', 'wj'])};
        }}
      }}
    }}
    *(GLOBAL_MEM {t} *){_at('dx', ['b', 'c', 'y', 'x'])} = acc;
  }}
}}"""


_CONV_SOURCES = {"fwd": conv_fwd_source, "gw": conv_gw_source, "gi": conv_gi_source}


def conv_geometry(op, xshape: Sequence[int], wshape: Sequence[int]) -> dict:
    """Padding and output size of a conv op (its public props) for these shapes, checked."""
    b, c, h, w = (int(v) for v in xshape)
    k, cg, fh, fw = (int(v) for v in wshape)
    g = op.num_groups
    if c != cg * g or k % g:
        raise ValueError(f"Gpu{op}: input has {c} channels and filters {tuple(wshape)}: with "
                         f"num_groups={g} expected filters (k, {c // g}, fh, fw), k % {g} == 0")
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    ekh, ekw = (fh - 1) * dh + 1, (fw - 1) * dw + 1
    mode = op.border_mode
    ph, pw = {"valid": (0, 0), "full": (ekh - 1, ekw - 1),
              "half": (ekh // 2, ekw // 2)}.get(mode, mode) if isinstance(mode, str) else mode
    oh, ow = (h + 2 * ph - ekh) // sh + 1, (w + 2 * pw - ekw) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"Gpu{op}: the filters {(fh, fw)} (dilation {(dh, dw)}) do not fit the "
                         f"input {(h, w)} with padding {(ph, pw)}")
    return dict(B=b, C=c, H=h, W=w, K=k, CG=cg, FH=fh, FW=fw, OH=oh, OW=ow, ph=ph, pw=pw,
                sh=sh, sw=sw, dh=dh, dw=dw, flip=int(op.filter_flip))


def conv_run(kind: str, geom: dict, a: GpuArray, b: GpuArray, out: GpuArray,
             sources: dict | None = None, keys: Sequence[str] = _GEOM, nd: int = 4,
             label: str = "conv") -> GpuArray:
    """Launch the ``kind`` (``fwd``, ``gw``, ``gi``) kernel over ``out``'s elements.

    ``sources``/``keys``/``nd``/``label`` select another family of the same shape (the 3-d
    kernels pass theirs); by default the 2-d kernels above."""
    ctx = out.context
    if out.size == 0:
        return out
    dt = out.dtype.name
    if a.dtype != out.dtype or b.dtype != out.dtype:
        raise TypeError(f"GPU {label}: one float dtype expected, got {a.dtype}, {b.dtype}, {dt}")
    name = f"{label}_{kind}_{dt}"
    src = (sources or _CONV_SOURCES)[kind](name, dt)
    K.GENERATED[name] = src
    params = [GA_SSIZE] * len(keys) + _arr_params(nd) * 3
    args = [geom[g] for g in keys] + _arr_args(a) + _arr_args(b) + _arr_args(out)
    K._launch1d(ctx, K.Kernel(src, name, params), out.size, args)
    return out


def nnet_kernel_sources() -> list[tuple[str, str]]:
    """Every nnet kernel source, per float dtype (for the NVRTC compile checks)."""
    out = []
    for dt in ("float32", "float64"):
        out.append((f"xent_{dt}", xent_source(f"k_xent_{dt}", dt, 256)))
        out.append((f"xent_dx_{dt}", xent_dx_source(f"k_xent_dx_{dt}", dt, dt, dt)))
        for kind, fn in _CONV_SOURCES.items():
            out.append((f"conv_{kind}_{dt}", fn(f"k_conv_{kind}_{dt}", dt)))
    return out
