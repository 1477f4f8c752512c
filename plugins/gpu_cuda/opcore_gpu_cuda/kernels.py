"""``Kernel`` (libgpuarray's kernel record and ``<name>_call`` launch) and the generated kernels of
the GPU ops: strided elementwise loops (fused ``Composite`` included), reductions and a tiled GEMM.

Every generated source is also recorded in :data:`GENERATED` so the tests can compile each one with
NVRTC for sm_75 and sm_90, on machines without a GPU.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore.cbuild import render

from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.dialect import (
    GA_BUFFER, GA_SIZE, GA_SSIZE, dtype_to_ctype, dtype_to_typecode,
)
from opcore_gpu_cuda.drivers import GpuContext, GpuError

GA_USE_DOUBLE, GA_USE_HALF, GA_USE_SMALL, GA_USE_COMPLEX = 1, 2, 4, 8
GA_NO_ERROR = 0

#: name -> source of every kernel generated in this process (for the NVRTC checks).
GENERATED: dict[str, str] = {}


def _param_code(p: Any) -> int:
    if p is GpuArray or p == GA_BUFFER or (isinstance(p, str) and p == "buffer"):
        return GA_BUFFER
    if isinstance(p, (int, np.integer)):
        return int(p)
    return dtype_to_typecode(p)


class Kernel:
    """A kernel in the libgpuarray dialect, as ``gpu_kernels(node, name)`` returns it.

    ``params`` are type codes: ``gpuarray.GpuArray`` (a buffer; its byte offset must be passed
    separately or be zero), ``gpuarray.SIZE``, ``gpuarray.SSIZE`` or a dtype's code.
    ``kernel.call(ctx, nd, gs, ls, shmem, *args)`` is ``<name>_call(nd, gs, ls, shmem, ...)``:
    ``gs`` groups of ``ls`` threads per dimension; a 0 in ``ls`` picks a size, a 0 in ``gs``
    then covers ``gs * ls >= 1``.
    """

    def __init__(self, code: str, name: Any = None, params: Any = None, flags: int = 0,
                 objvar: str | None = None, codevar: str | None = None, **_: Any) -> None:
        if isinstance(name, (list, tuple)):  # Theano's positional order: (code, params, name)
            name, params = params, name
        if name is None or params is None:
            raise TypeError("Kernel needs code, name and params")
        self.code = code
        self.name = str(name)
        self.params = list(params)
        self.typecodes = [_param_code(p) for p in self.params]
        self.flags = int(flags)
        self.objvar = objvar or f"k_{self.name}"
        self.codevar = codevar or f"kcode_{self.name}"

    @staticmethod
    def get_flags(*dtypes: Any) -> int:
        """Flags a kernel needs for these dtypes (double, half support)."""
        flags = 0
        for d in dtypes:
            d = np.dtype(d)
            if d == np.float64:
                flags |= GA_USE_DOUBLE
            elif d == np.float16:
                flags |= GA_USE_HALF
            elif d.itemsize < 4:
                flags |= GA_USE_SMALL
        return flags

    def call(self, ctx: GpuContext, nd: int, gs: Sequence[int] | int, ls: Sequence[int] | int,
             shmem: int, *args: Any) -> int:
        """Launch; returns ``GA_NO_ERROR`` (errors raise :class:`GpuError`)."""
        if len(args) != len(self.typecodes):
            raise TypeError(f"{self.name}_call: kernel takes {len(self.typecodes)} arguments, "
                            f"got {len(args)}")
        gs = [int(g) for g in (gs if isinstance(gs, (list, tuple)) else [gs])][:nd]
        ls = [int(v) for v in (ls if isinstance(ls, (list, tuple)) else [ls])][:nd]
        ls = [v or min(256, getattr(ctx, "max_local", 256)) for v in ls]
        gs = [g or 1 for g in gs]
        kern = ctx.compile(self.code, self.name)
        # kernels that compiled on this driver must compile with NVRTC too (see test_nvrtc)
        GENERATED.setdefault(f"{self.name}@{abs(hash(self.code))}", self.code)
        conv = []
        for code, a in zip(self.typecodes, args):
            if code == GA_BUFFER:
                conv.append(ctx.sub_buffer(a.data, a.offset) if isinstance(a, GpuArray) else a)
            else:
                conv.append(a)
        ctx.launch(kern, gs, ls, shmem, self.typecodes, conv)
        return GA_NO_ERROR

    def __repr__(self) -> str:
        return f"Kernel({self.name!r}, params={self.typecodes})"


def _launch1d(ctx: GpuContext, kern: Kernel, n: int, args: list) -> None:
    ls = min(256, getattr(ctx, "max_local", 256))
    gs = max(1, min((n + ls - 1) // ls, 4096))
    kern.call(ctx, 1, [gs], [ls], 0, *args)


# -- elementwise ----------------------------------------------------------------------------
def collapse(shape: Sequence[int], strides_list: Sequence[Sequence[int]]):
    """Merge dimensions that are contiguous in every array, drop length-1 ones (at least 1 left)."""
    dims = [(n, [s[i] for s in strides_list]) for i, n in enumerate(shape) if n != 1]
    out: list = []
    for n, st in dims:
        if out:
            pn, pst = out[-1]
            if all(p == s * n for p, s in zip(pst, st)):
                out[-1] = (pn * n, st)
                continue
        out.append((n, st))
    if not out:
        out = [(1, [0] * len(strides_list))]
    return [n for n, _ in out], [[st[k] for _, st in out] for k in range(len(strides_list))]


def elemwise_source(name: str, nd: int, in_dtypes: Sequence[str], out_dtypes: Sequence[str],
                    body: str) -> str:
    """A strided loop over ``nd`` dimensions; ``body`` reads ``v0..`` and assigns ``o0..``."""
    arrays = [f"i{k}" for k in range(len(in_dtypes))] + [f"o{k}" for k in range(len(out_dtypes))]
    params = ["ga_size n"] + [f"ga_size d{j}" for j in range(nd)]
    for a in arrays:
        params += [f"GLOBAL_MEM char *{a}_p", f"ga_size {a}_off"]
        params += [f"ga_ssize {a}_s{j}" for j in range(nd)]
    lines = [f"KERNEL void {name}({', '.join(params)}) {{",
             "  for (ga_size i = GID_0 * LDIM_0 + LID_0; i < n; i += LDIM_0 * GDIM_0) {",
             "    ga_size r = i, k;"]
    for a in arrays:
        lines.append(f"    GLOBAL_MEM char *{a} = {a}_p + {a}_off;")
    for j in reversed(range(nd)):
        lines.append(f"    k = r % d{j}; r = r / d{j};" if j else "    k = r;")
        for a in arrays:
            lines.append(f"    {a} += (ga_ssize)k * {a}_s{j};")
    for k, dt in enumerate(in_dtypes):
        lines.append(f"    {compute_ctype(dt)} v{k} = {load(dt, f'i{k}')};")
    lines.append("    " + body.replace("\n", "\n    "))
    lines += ["  }", "}"]
    return "\n".join(lines)


def compute_ctype(dtype: str) -> str:
    """The C type a kernel computes ``dtype`` values in: float16 is stored as ``ga_half`` and
    computed in ``ga_float`` (``load_half``/``store_half``), as libgpuarray kernels do."""
    return render.CUDA.compute_ctype(dtype)


def load(dtype: str, ptr: str) -> str:
    """The expression reading a ``dtype`` element at the ``char *`` ``ptr``."""
    if dtype == "float16":
        return f"load_half((GLOBAL_MEM ga_half *)({ptr}))"
    return f"*(GLOBAL_MEM {dtype_to_ctype(dtype)} *)({ptr})"


def store(dtype: str, ptr: str, expr: str) -> str:
    """The statement writing ``expr`` as a ``dtype`` element at the ``char *`` ``ptr``."""
    if dtype == "float16":
        return f"store_half((GLOBAL_MEM ga_half *)({ptr}), (ga_float)({expr}));"
    ct = dtype_to_ctype(dtype)
    return f"*(GLOBAL_MEM {ct} *)({ptr}) = ({ct})({expr});"


def scalar_body(scalar_op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str],
                dialect: render.Dialect = render.CUDA) -> str:
    """Kernel statements computing ``o*`` from ``v*``, rendered by the one renderer of fused
    scalar expressions (:mod:`opcore.cbuild.render`, the C backend's too, so the kernels have
    NumPy's casts, NaN propagation and integer wrapping; the libgpuarray dialect's CUDA and OpenCL
    tables are the same names); raises ``NotImplementedError`` when a scalar op has no C for these
    dtypes."""
    names = [f"v{k}" for k in range(len(in_dtypes))]
    lines, results = render.scalar_lines(scalar_op, names, list(in_dtypes), list(out_dtypes),
                                         dialect)
    stores = [store(dt, f"o{k}", e) for k, (e, dt) in enumerate(zip(results, out_dtypes))]
    return "\n".join(lines + stores)


def run_elemwise(ctx: GpuContext, key: str, body: str, inputs: Sequence[GpuArray],
                 outputs: Sequence[GpuArray]) -> None:
    """Run ``body`` over broadcast ``inputs`` into ``outputs`` (all of the outputs' shape)."""
    shape = outputs[0].shape
    arrays = list(inputs) + list(outputs)
    strides = []
    for a in arrays:
        if a.ndim != len(shape):
            raise ValueError(f"elementwise: {a.ndim}-d operand for a {len(shape)}-d output")
        st = []
        for n, an, s in zip(shape, a.shape, a.strides):
            if an == n:
                st.append(s if n != 1 else 0)
            elif an == 1:
                st.append(0)
            else:
                raise ValueError(f"elementwise: shapes {a.shape} and {shape} do not broadcast")
        strides.append(st)
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return
    dims, cstrides = collapse(shape, strides)
    nd = len(dims)
    in_dt = [a.dtype.name for a in inputs]
    out_dt = [a.dtype.name for a in outputs]
    name = f"elemwise_{abs(hash((key, body, nd, tuple(in_dt), tuple(out_dt)))) % 10**12}"
    src = elemwise_source(name, nd, in_dt, out_dt, body)
    params = [GA_SIZE] * (1 + nd)
    args: list = [n, *dims]
    for a, st in zip(arrays, cstrides):
        params += [GpuArray, GA_SIZE] + [GA_SSIZE] * nd
        args += [a.data, a.offset, *st]
    GENERATED[name] = src
    _launch1d(ctx, Kernel(src, name, params), n, args)


def elemwise_copy(src: GpuArray, dst: GpuArray) -> None:
    """``dst[...] = src`` (broadcasting ``src``, casting to ``dst``'s dtype)."""
    body = _store0(dst.dtype.name, "v0")
    run_elemwise(dst.context, "copy", body, [src], [dst])


def _store0(dtype: str, expr: str) -> str:
    return store(dtype, "o0", expr)


def elemwise_scalar_op(scalar_op: Any, inputs: Sequence[GpuArray],
                       out_dtypes: Sequence[str]) -> list[GpuArray]:
    """Apply an opcore scalar op (or ``Composite``) elementwise, broadcasting: new outputs."""
    ctx = inputs[0].context
    shape = []
    nd = max(a.ndim for a in inputs)
    for d in range(nd):
        sizes = {a.shape[d] for a in inputs if a.shape[d] != 1}
        if len(sizes) > 1:
            raise ValueError(f"{scalar_op}: shapes {[a.shape for a in inputs]} do not broadcast")
        shape.append(sizes.pop() if sizes else 1)
    outs = [empty(shape, dt, ctx) for dt in out_dtypes]
    body = scalar_body(scalar_op, [a.dtype.name for a in inputs], list(out_dtypes))
    run_elemwise(ctx, str(scalar_op), body, inputs, outs)
    return outs


# -- reductions -----------------------------------------------------------------------------
def _identity(kind: str, dtype: str) -> tuple[str, str]:
    d = np.dtype(dtype)
    if kind == "sum":
        return "0", "(a + b)"
    if kind == "prod":
        return "1", "(a * b)"
    if kind == "all":
        return "1", "(a && b)"
    if kind == "any":
        return "0", "(a || b)"
    big = ("(1.0 / 0.0)" if d.kind == "f" else str(np.iinfo(d).max) + ("U" if d.kind == "u"
                                                                        else "LL"))
    small = ("(-1.0 / 0.0)" if d.kind == "f" else
             ("0" if d.kind in "ub" else f"({np.iinfo(d).min + 1}LL - 1)"))
    if kind == "max":
        return small, "((a) > (b) ? (a) : (b))"
    if kind == "min":
        return big, "((a) < (b) ? (a) : (b))"
    raise NotImplementedError(f"GPU reduction of kind {kind!r}")


def reduce_source(name: str, kind: str, nk: int, nr: int, in_dt: str, acc_dt: str,
                  out_dt: str, ls: int) -> str:
    init, comb = _identity(kind, acc_dt)
    at = compute_ctype(acc_dt)
    params = ["ga_size nout", "ga_size nred"] + [f"ga_size k{j}" for j in range(nk)]
    params += [f"ga_size r{j}" for j in range(nr)]
    params += ["GLOBAL_MEM char *x_p", "ga_size x_off"]
    params += [f"ga_ssize xk{j}" for j in range(nk)] + [f"ga_ssize xr{j}" for j in range(nr)]
    params += ["GLOBAL_MEM char *z_p", "ga_size z_off"] + [f"ga_ssize zk{j}" for j in range(nk)]
    L = [f"#define COMBINE(a, b) {comb}",
         f"KERNEL void {name}({', '.join(params)}) {{",
         f"  LOCAL_MEM {at} buf[{ls}];",
         "  for (ga_size o = GID_0; o < nout; o += GDIM_0) {",
         "    ga_size r = o, k;",
         "    GLOBAL_MEM char *x = x_p + x_off; GLOBAL_MEM char *z = z_p + z_off;"]
    for j in reversed(range(nk)):
        L.append(f"    k = r % k{j}; r = r / k{j}; x += (ga_ssize)k * xk{j}; "
                 f"z += (ga_ssize)k * zk{j};")
    L += [f"    {at} acc = ({at})({init});",
          "    for (ga_size j = LID_0; j < nred; j += LDIM_0) {",
          "      ga_size q = j; GLOBAL_MEM char *y = x;"]
    for j in reversed(range(nr)):
        L.append(f"      k = q % r{j}; q = q / r{j}; y += (ga_ssize)k * xr{j};")
    L += [f"      {at} v = ({at})({load(in_dt, 'y')});",
          "      acc = COMBINE(acc, v);",
          "    }",
          "    buf[LID_0] = acc;",
          "    local_barrier();",
          "    for (ga_size s = LDIM_0 / 2; s > 0; s >>= 1) {",
          "      if (LID_0 < s) { " + at + " a = buf[LID_0], b = buf[LID_0 + s];"
          " buf[LID_0] = COMBINE(a, b); }",
          "      local_barrier();",
          "    }",
          f"    if (LID_0 == 0) {store(out_dt, 'z', 'buf[0]')}",
          "    local_barrier();",
          "  }",
          "}",
          "#undef COMBINE"]
    return "\n".join(L)


def reduce(x: GpuArray, kind: str, axis: Sequence[int] | None, out_dtype: str,
           acc_dtype: str | None = None) -> GpuArray:
    """``np.<kind>(x, axis)`` on the device (one work-group per output element)."""
    ctx = x.context
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % max(x.ndim, 1) for a in axis)
    kept = [d for d in range(x.ndim) if d not in axes]
    out = empty([x.shape[d] for d in kept], out_dtype, ctx)
    acc = acc_dtype or (out_dtype if kind not in ("all", "any") else "int32")
    if acc == "float16":  # accumulate half values in float, as libgpuarray does
        acc = "float32"
    kdims = [x.shape[d] for d in kept]
    rdims = [x.shape[d] for d in axes] or [1]
    xk = [x.strides[d] for d in kept]
    xr = [x.strides[d] for d in axes] or [0]
    nout, nred = out.size, int(np.prod(rdims, dtype=np.int64))
    if nout == 0:
        return out
    if kind in ("max", "min") and nred == 0:
        raise ValueError(f"GPU {kind}: zero-size reduction has no identity")
    ls = 1
    while ls * 2 <= min(256, getattr(ctx, "max_local", 256), max(nred, 1)):
        ls *= 2
    nk, nr = len(kdims), len(rdims)
    name = f"reduce_{kind}_{nk}_{nr}_{x.dtype.name}_{acc}_{out_dtype}_{ls}"
    src = reduce_source(name, kind, nk, nr, x.dtype.name, acc, out_dtype, ls)
    GENERATED[name] = src
    params = [GA_SIZE] * (2 + nk + nr) + [GpuArray, GA_SIZE] + [GA_SSIZE] * (nk + nr)
    params += [GpuArray, GA_SIZE] + [GA_SSIZE] * nk
    args = [nout, nred, *kdims, *rdims, x.data, x.offset, *xk, *xr, out.data, out.offset,
            *out.strides]
    Kernel(src, name, params).call(ctx, 1, [min(nout, 65535)], [ls], 0, *args)
    return out


# -- GEMM -----------------------------------------------------------------------------------
TILE = 16


def gemm_source(name: str, dtype: str) -> str:
    t = dtype_to_ctype(dtype)
    return f"""
KERNEL void {name}(ga_size M, ga_size N, ga_size K,
    GLOBAL_MEM char *A_p, ga_size A_off, ga_ssize sa0, ga_ssize sa1,
    GLOBAL_MEM char *B_p, ga_size B_off, ga_ssize sb0, ga_ssize sb1,
    GLOBAL_MEM char *C_p, ga_size C_off, ga_ssize sc0, ga_ssize sc1, {t} alpha, {t} beta) {{
  LOCAL_MEM {t} As[{TILE}][{TILE}];
  LOCAL_MEM {t} Bs[{TILE}][{TILE} + 1];
  GLOBAL_MEM {t} *A = (GLOBAL_MEM {t} *)(A_p + A_off);
  GLOBAL_MEM {t} *B = (GLOBAL_MEM {t} *)(B_p + B_off);
  GLOBAL_MEM {t} *C = (GLOBAL_MEM {t} *)(C_p + C_off);
  ga_size tx = LID_0, ty = LID_1;
  ga_size row = GID_1 * {TILE} + ty, col = GID_0 * {TILE} + tx;
  {t} acc = 0;
  for (ga_size t0 = 0; t0 < K; t0 += {TILE}) {{
    As[ty][tx] = (row < M && t0 + tx < K) ? A[(ga_ssize)row * sa0 + (ga_ssize)(t0 + tx) * sa1] : 0;
    Bs[ty][tx] = (t0 + ty < K && col < N) ? B[(ga_ssize)(t0 + ty) * sb0 + (ga_ssize)col * sb1] : 0;
    local_barrier();
    for (ga_size kk = 0; kk < {TILE}; kk++) acc += As[ty][kk] * Bs[kk][tx];
    local_barrier();
  }}
  if (row < M && col < N) {{
    GLOBAL_MEM {t} *c = C + (ga_ssize)row * sc0 + (ga_ssize)col * sc1;
    *c = alpha * acc + (beta == 0 ? ({t})0 : beta * *c);
  }}
}}"""


def gemm(a: GpuArray, b: GpuArray, c: GpuArray | None = None, alpha: float = 1.0,
         beta: float = 0.0) -> GpuArray:
    """``alpha * a @ b + beta * c`` for 2-d arrays of one float dtype (any strides)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"gemm: needs 2-d operands, got {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"gemm: shapes {a.shape} and {b.shape} not aligned")
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise TypeError(f"gemm: needs one float dtype, got {a.dtype} and {b.dtype}")
    ctx = a.context
    m, k = a.shape
    n = b.shape[1]
    if c is None:
        c = empty((m, n), a.dtype, ctx)
        beta = 0.0
    it = a.dtype.itemsize
    for arr in (a, b, c):
        if arr.offset % it or any(s % it for s in arr.strides):
            raise GpuError("gemm: offsets and strides must be multiples of the item size")
    if ctx.kind == "cuda" and m and n:
        return _cublas_gemm(a, b, c, alpha, beta)
    name = f"gemm_{a.dtype.name}"
    src = gemm_source(name, a.dtype.name)
    GENERATED[name] = src
    code = dtype_to_typecode(a.dtype)
    params = [GA_SIZE] * 3 + ([GpuArray, GA_SIZE, GA_SSIZE, GA_SSIZE] * 3) + [code, code]
    args = [m, n, k]
    for arr in (a, b, c):
        args += [arr.data, arr.offset, arr.strides[0] // it, arr.strides[1] // it]
    args += [alpha, beta]
    if m and n:
        Kernel(src, name, params).call(ctx, 2, [(n + TILE - 1) // TILE, (m + TILE - 1) // TILE],
                                       [TILE, TILE], 0, *args)
    return c


def _cupy_view(arr: GpuArray) -> Any:
    import cupy

    return cupy.ndarray(arr.shape, arr.dtype, memptr=arr.data + arr.offset, strides=arr.strides)


def _cublas_gemm(a: GpuArray, b: GpuArray, c: GpuArray, alpha: float, beta: float) -> GpuArray:
    """CUDA: cuBLAS through CuPy's matmul on views of the same device memory (no copies of the
    operands; CuPy copies a non-BLAS-compatible stride pattern itself)."""
    import cupy

    cv = _cupy_view(c)
    prod = cupy.matmul(_cupy_view(a), _cupy_view(b))
    if beta == 0:
        cv[...] = prod * alpha if alpha != 1 else prod
    else:
        cv[...] = prod * alpha + cv * beta
    return c
