"""Kernels (libgpuarray dialect) for opcore-nnet's fixed-parameter ``Pool`` / ``PoolGrad`` over the
last 2 or 3 axes (max, sum, average_inc_pad, average_exc_pad), any input rank and strides.

* ``pool_source``: one thread per output element; the window is read in row-major order (the
  order of the CPU code), accumulating in the array's dtype and skipping padding; max
  propagates NaN.
* ``pool_grad_source``: one thread per input element; it visits the windows that cover it
  (a range per pooled axis) and adds ``gz`` (max: where the element equals the window's
  maximum, every tie included; averages: divided by the window's count).

The generated sources are recorded in :data:`opcore_gpu_cuda.kernels.GENERATED`.
"""

from __future__ import annotations

from typing import Any

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.dialect import GA_SSIZE, dtype_to_ctype
from opcore_gpu_cuda.nnet_kernels import _arr, _arr_args, _arr_params, _at, _unravel

_AX = "zyx"  # names of the pooled axes, innermost last


def _names(dtype: str, nd: int, k: int, over: str) -> tuple:
    """(C type, leading index names, pooled axis names, the dims a thread index runs over:
    the leading ones then ``over`` (``O``: outputs, ``N``: inputs) per pooled axis)."""
    ax = list(_AX[3 - k:])
    dims = [f"L{i}" for i in range(nd - k)] + [f"{over}{a}" for a in ax]
    return dtype_to_ctype(dtype), [f"l{i}" for i in range(nd - k)], ax, dims


#: where the window of output ``o`` starts along axis ``<a>``
_ORIGIN = "o<a> * s<a> - p<a>"


def _geom_params(nd: int, k: int) -> str:
    lead = [f"L{i}" for i in range(nd - k)]
    per = [f"{p}{a}" for a in _AX[3 - k:] for p in ("N", "O", "w", "s", "p")]
    return ", ".join(f"ga_ssize {g}" for g in lead + per)


def _window_loops(k: int, body: str, origin: str) -> str:
    """Nested loops over the window taps ``t<a>`` with in-image positions ``i<a>``
    (``origin`` gives each window start, e.g. ``o<a> * s<a> - p<a>``)."""
    code = body
    for a in reversed(_AX[3 - k:]):
        start = origin.replace("<a>", a)
        code = (f"for (ga_ssize t{a} = 0; t{a} < w{a}; t{a}++) {{\n"
                f"  ga_ssize i{a} = {start} + t{a};\n"
                f"  if (i{a} < 0 || i{a} >= N{a}) continue;\n  {code}\n}}")
    return code


def _count(k: int, mode: str, origin: str) -> str:
    """The divisor of the window starting at ``origin`` (per axis) for the average modes."""
    terms = []
    for a in _AX[3 - k:]:
        o = f"({origin.replace('<a>', a)})"
        if mode == "average_inc_pad":
            terms.append(f"((({o} + w{a}) < (N{a} + p{a}) ? ({o} + w{a}) : (N{a} + p{a})) - {o})")
        else:
            terms.append(f"((({o} + w{a}) < N{a} ? ({o} + w{a}) : N{a}) - ({o} > 0 ? {o} : 0))")
    return " * ".join(f"(ga_ssize){t}" for t in terms)


def _window_max(k: int, t: str, lead: list, origin: str, into: str) -> str:
    read = _at("x", lead + [f"i{a}" for a in _AX[3 - k:]])
    body = (f"{t} v = *(GLOBAL_MEM {t} *){read};\n"
            f"  if (!seen || v > {into} || v != v) {{ if ({into} == {into}) {into} = v; }}\n"
            f"  seen = 1;")
    return f"int seen = 0; {t} {into} = 0;\n" + _window_loops(k, body, origin)


def pool_source(name: str, dtype: str, nd: int, k: int, mode: str) -> str:
    t, lead, ax, dims = _names(dtype, nd, k, "O")
    origin = _ORIGIN
    if mode == "max":
        body = _window_max(k, t, lead, origin, "acc") + "\nres = acc;"
    else:
        read = _at("x", lead + [f"i{a}" for a in ax])
        body = (f"{t} acc = 0;\n"
                + _window_loops(k, f"acc += *(GLOBAL_MEM {t} *){read};", origin)
                + ("\nres = acc;" if mode == "sum"
                   else f"\nres = acc / ({t})({_count(k, mode, origin)});"))
    return f"""KERNEL void {name}({_geom_params(nd, k)}, {_arr('x', nd)}, {_arr('z', nd)}) {{
  ga_size total = (ga_size)({' * '.join(dims)});
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(lead + [f'o{a}' for a in ax], dims)}
    {t} res;
    {{ {body} }}
    *(GLOBAL_MEM {t} *){_at('z', lead + [f'o{a}' for a in ax])} = ({t})res;
  }}
}}"""


def pool_grad_source(name: str, dtype: str, nd: int, k: int, mode: str) -> str:
    t, lead, ax, dims = _names(dtype, nd, k, "N")
    origin = _ORIGIN
    if mode == "max":
        me = _at("x", lead + [f"e{a}" for a in ax])
        contrib = (_window_max(k, t, lead, origin, "mx")
                   + f"\nif (*(GLOBAL_MEM {t} *){me} == mx) acc += g;")
    elif mode == "sum":
        contrib = "acc += g;"
    else:
        contrib = f"acc += g / ({t})({_count(k, mode, origin)});"
    gz = _at("gz", lead + [f"o{a}" for a in ax])
    code = f"{t} g = *(GLOBAL_MEM {t} *){gz};\n{{ {contrib} }}"
    for a in reversed(ax):
        # the windows o with o*s - p <= e < o*s - p + w, clipped to [0, O)
        code = (f"ga_ssize lo{a} = e{a} + p{a} - w{a} + 1;\n"
                f"lo{a} = lo{a} <= 0 ? 0 : (lo{a} + s{a} - 1) / s{a};\n"
                f"ga_ssize hi{a} = (e{a} + p{a}) / s{a};\n"
                f"if (hi{a} > O{a} - 1) hi{a} = O{a} - 1;\n"
                f"for (ga_ssize o{a} = lo{a}; o{a} <= hi{a}; o{a}++) {{\n  {code}\n}}")
    return f"""KERNEL void {name}({_geom_params(nd, k)}, {_arr('x', nd)}, {_arr('gz', nd)},
    {_arr('gx', nd)}) {{
  ga_size total = (ga_size)({' * '.join(dims)});
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(lead + [f'e{a}' for a in ax], dims)}
    {t} acc = 0;
    {code}
    *(GLOBAL_MEM {t} *){_at('gx', lead + [f'e{a}' for a in ax])} = ({t})acc;
  }}
}}"""


def _geom_args(op: Any, xshape: tuple, outs: tuple) -> list:
    k = op.ndim
    args = [int(v) for v in xshape[:-k]]
    for n, o, w, s, p in zip(xshape[-k:], outs, op.ws, op.stride, op.pad):
        args += [int(n), int(o), int(w), int(s), int(p)]
    return args


def pool_run(op: Any, x: GpuArray, out_dtype: str) -> GpuArray:
    """``Pool`` (fixed form) of ``x`` on its device."""
    k, nd = op.ndim, x.ndim
    outs = op.out_shape(*x.shape[-k:])
    out = empty(tuple(x.shape[:-k]) + tuple(outs), out_dtype, x.context)
    if out.size == 0:
        return out
    name = f"pool_{op.mode}_{nd}d{k}_{out_dtype}"
    src = pool_source(name, out_dtype, nd, k, op.mode)
    K.GENERATED[name] = src
    args = _geom_args(op, x.shape, outs) + _arr_args(x) + _arr_args(out)
    params = [GA_SSIZE] * (nd - k + 5 * k) + _arr_params(nd) * 2
    K._launch1d(x.context, K.Kernel(src, name, params), out.size, args)
    return out


def pool_grad_run(op: Any, x: GpuArray, gz: GpuArray, out_dtype: str) -> GpuArray:
    """``PoolGrad`` (fixed form) of ``(x, gz)`` on their device."""
    k, nd = op.ndim, x.ndim
    outs = op.out_shape(*x.shape[-k:])
    if tuple(gz.shape) != tuple(x.shape[:-k]) + tuple(outs):
        raise ValueError(f"Gpu{op}: gz has shape {tuple(gz.shape)}, expected "
                         f"{tuple(x.shape[:-k]) + tuple(outs)}")
    out = empty(tuple(x.shape), out_dtype, x.context)
    if out.size == 0:
        return out
    name = f"pool_grad_{op.mode}_{nd}d{k}_{out_dtype}"
    src = pool_grad_source(name, out_dtype, nd, k, op.mode)
    K.GENERATED[name] = src
    args = _geom_args(op, x.shape, outs) + _arr_args(x) + _arr_args(gz) + _arr_args(out)
    params = [GA_SSIZE] * (nd - k + 5 * k) + _arr_params(nd) * 3
    K._launch1d(x.context, K.Kernel(src, name, params), out.size, args)
    return out


def pool_kernel_sources() -> list[tuple[str, str]]:
    """The pooling kernel sources for 4-d inputs and 5-d 3-d pooling (NVRTC checks)."""
    out = []
    for dt in ("float32", "float64"):
        for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
            for nd, k in ((4, 2), (5, 3)):
                out.append((f"pool_{mode}_{nd}{k}_{dt}",
                            pool_source(f"k_pool_{mode}_{nd}{k}_{dt}", dt, nd, k, mode)))
                out.append((f"pool_grad_{mode}_{nd}{k}_{dt}",
                            pool_grad_source(f"k_pgrad_{mode}_{nd}{k}_{dt}", dt, nd, k, mode)))
    return out
