"""Kernels (libgpuarray dialect) for opcore-nnet's ``Images2Neibs`` and its transpose
``Neibs2ImagesGrad`` (all five modes), any strides.

* ``neibs_source``: one thread per output element ``(row, col)``: the row is (image, channel,
  patch row, patch column), the column the position inside the patch; padding reads 0 and
  ``wrap_centered`` wraps around.
* ``neibs_grad_source``: one thread per image element; it visits the patches that read it (a
  range per axis; three image copies for ``wrap_centered``) and sums their values, so
  overlapping patches add up without atomics.

The patch grid (counts and shifts) comes from opcore-nnet's public ``patch_grid`` (the same
rules and errors as the CPU op), computed on the host from the host-side shape inputs.
"""

from __future__ import annotations

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.dialect import GA_SSIZE, dtype_to_ctype
from opcore_gpu_cuda.nnet_kernels import _arr, _arr_args, _arr_params, _at, _unravel

# per axis a (rows r, cols c): image size N, patch size P, step S, shift Z, patch count G
_GEOM = ["Bn", "Cn"] + [f"{p}{a}" for a in "rc" for p in ("N", "P", "S", "Z", "G")] + ["wrap"]
_PARAMS = ", ".join(f"ga_ssize {g}" for g in _GEOM)


def neibs_source(name: str, dtype: str) -> str:
    t = dtype_to_ctype(dtype)
    return f"""KERNEL void {name}({_PARAMS}, {_arr('x', 4)}, {_arr('z', 2)}) {{
  ga_size total = (ga_size)(Bn * Cn * Gr * Gc * Pr * Pc);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'c', 'gr', 'gc', 'ir', 'ic'], ['Bn', 'Cn', 'Gr', 'Gc', 'Pr', 'Pc'])}
    ga_ssize yr = gr * Sr + ir - Zr, yc = gc * Sc + ic - Zc;
    if (wrap) {{ yr = ((yr % Nr) + Nr) % Nr; yc = ((yc % Nc) + Nc) % Nc; }}
    {t} v = 0;
    if (yr >= 0 && yr < Nr && yc >= 0 && yc < Nc)
      v = *(GLOBAL_MEM {t} *){_at('x', ['b', 'c', 'yr', 'yc'])};
    ga_ssize row = ((b * Cn + c) * Gr + gr) * Gc + gc;
    *(GLOBAL_MEM {t} *){_at('z', ['row', 'ir * Pc + ic'])} = v;
  }}
}}"""


def _patches(a: str, body: str) -> str:
    """Loops over the patches ``g<a>`` whose element ``i<a>`` reads image position ``e<a>``
    (shifted by ``m<a>`` image lengths for wrap_centered)."""
    return f"""for (ga_ssize m{a} = (wrap ? -1 : 0); m{a} <= (wrap ? 1 : 0); m{a}++) {{
      ga_ssize t{a} = e{a} + m{a} * N{a} + Z{a};
      ga_ssize lo{a} = t{a} - P{a} + 1;
      lo{a} = lo{a} <= 0 ? 0 : (lo{a} + S{a} - 1) / S{a};
      ga_ssize hi{a} = t{a} < 0 ? -1 : t{a} / S{a};
      if (hi{a} > G{a} - 1) hi{a} = G{a} - 1;
      for (ga_ssize g{a} = lo{a}; g{a} <= hi{a}; g{a}++) {{
        ga_ssize i{a} = t{a} - g{a} * S{a};
        {body}
      }}
    }}"""


def neibs_grad_source(name: str, dtype: str) -> str:
    t = dtype_to_ctype(dtype)
    read = _at("g", ["((b * Cn + c) * Gr + gr) * Gc + gc", "ir * Pc + ic"])
    body = _patches("r", _patches("c", f"acc += *(GLOBAL_MEM {t} *){read};"))
    return f"""KERNEL void {name}({_PARAMS}, {_arr('g', 2)}, {_arr('dx', 4)}) {{
  ga_size total = (ga_size)(Bn * Cn * Nr * Nc);
  for (ga_size q = GID_0 * LDIM_0 + LID_0; q < total; q += LDIM_0 * GDIM_0) {{
    {_unravel(['b', 'c', 'er', 'ec'], ['Bn', 'Cn', 'Nr', 'Nc'])}
    {t} acc = 0;
    {body}
    *(GLOBAL_MEM {t} *){_at('dx', ['b', 'c', 'er', 'ec'])} = acc;
  }}
}}"""


def neibs_geometry(patch_grid, mode: str, shape: tuple, neib_shape, neib_step) -> dict:
    """Counts and shifts per axis from opcore-nnet's public ``patch_grid`` (its rules and
    errors)."""
    if len(neib_shape) != 2 or len(neib_step) != 2:
        raise ValueError(f"GpuImages2Neibs: neib_shape and neib_step must have 2 entries, got "
                         f"{list(neib_shape)} and {list(neib_step)}")
    geom = {"Bn": int(shape[0]), "Cn": int(shape[1]), "wrap": int(mode == "wrap_centered")}
    for k, a in enumerate("rc"):
        n, p, s = int(shape[2 + k]), int(neib_shape[k]), int(neib_step[k])
        count, shift = patch_grid(n, p, s, mode, k)
        geom.update({f"N{a}": n, f"P{a}": p, f"S{a}": s, f"Z{a}": shift, f"G{a}": count})
    return geom


def _launch(kind: str, src_fn, geom: dict, a: GpuArray, out: GpuArray, nds: tuple) -> GpuArray:
    if out.size == 0:
        return out
    dt = out.dtype.name
    name = f"neibs_{kind}_{dt}"
    src = src_fn(name, dt)
    K.GENERATED[name] = src
    params = [GA_SSIZE] * len(_GEOM) + _arr_params(nds[0]) + _arr_params(nds[1])
    args = [geom[g] for g in _GEOM] + _arr_args(a) + _arr_args(out)
    K._launch1d(out.context, K.Kernel(src, name, params), out.size, args)
    return out


def neibs_run(patch_grid, mode: str, x: GpuArray, neib_shape, neib_step,
              out_dtype: str) -> GpuArray:
    """``Images2Neibs`` of ``x`` on its device."""
    geom = neibs_geometry(patch_grid, mode, tuple(x.shape), neib_shape, neib_step)
    rows = geom["Bn"] * geom["Cn"] * geom["Gr"] * geom["Gc"]
    out = empty((rows, geom["Pr"] * geom["Pc"]), out_dtype, x.context)
    return _launch("fwd", neibs_source, geom, x, out, (4, 2))


def neibs_grad_run(patch_grid, mode: str, g: GpuArray, neib_shape, neib_step, shape,
                   out_dtype: str) -> GpuArray:
    """``Neibs2ImagesGrad``: the patches ``g`` summed back into images of ``shape``."""
    shape = tuple(int(v) for v in shape)
    geom = neibs_geometry(patch_grid, mode, shape, neib_shape, neib_step)
    expected = (geom["Bn"] * geom["Cn"] * geom["Gr"] * geom["Gc"], geom["Pr"] * geom["Pc"])
    if tuple(g.shape) != expected:
        raise ValueError(f"GpuNeibs2ImagesGrad: neibs has shape {tuple(g.shape)}, expected "
                         f"{expected} for images {shape} in mode {mode!r}")
    out = empty(shape, out_dtype, g.context)
    return _launch("grad", neibs_grad_source, geom, g, out, (2, 4))


def neibs_kernel_sources() -> list[tuple[str, str]]:
    """The sources per float dtype (for the NVRTC compile checks)."""
    return [(f"neibs_{k}_{dt}", fn(f"k_neibs_{k}_{dt}", dt)) for dt in ("float32", "float64")
            for k, fn in (("fwd", neibs_source), ("grad", neibs_grad_source))]
