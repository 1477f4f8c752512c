"""Every kernel the plugin generates, compiled by NVRTC for sm_75 and sm_90 (no GPU needed), so a
CUDA-only syntax error fails CI on machines without a GPU; and the CUDA-device tests."""

from __future__ import annotations

import numpy as np
import pytest

from opcore.scalar import basic as S
from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda import nvrtc

pytestmark = pytest.mark.skipif(not nvrtc.available(),
                                reason="NVRTC not installed (pip install nvidia-cuda-nvrtc-cu12)")
ARCHS = ("sm_75", "sm_90")


def _scalar_op_kernels():
    out = []
    for name, op in sorted(S.ALL_OPS.items()):
        if not op.c_expr:
            continue
        dts = ("int32", "bool") if name in ("and_", "or_", "xor") else ("float32", "float64")
        for dt in dts:
            ins = ["bool"] + [dt] * (op.nin - 1) if name == "switch" else [dt] * op.nin
            odt = op.output_dtype(*ins)
            try:
                body = K.scalar_body(op, ins, [odt])
            except NotImplementedError:  # no C for these dtypes (float // runs in NumPy)
                continue
            out.append((f"{name}_{dt}", K.elemwise_source(f"k_{name}_{dt}", 3, ins, [odt],
                                                          body)))
    return out


def _other_kernels():
    out = []
    comp = S.Composite(2, ("float32", "float32"), [
        (S.pow, (("i", 0), ("c", 10, "float32")), "float32"),
        (S.exp, (("i", 1),), "float32"), (S.mul, (("s", 0), ("s", 1)), "float32"),
        (S.add, (("i", 0), ("s", 2)), "float32")], (3,))
    out.append(("composite", K.elemwise_source(
        "k_comp", 2, ["float32"] * 2, ["float32"],
        K.scalar_body(comp, ["float32"] * 2, ["float32"]))))
    for kind in ("sum", "prod", "max", "min", "all", "any"):
        for dt in ("float32", "float64", "int32", "int64"):
            acc = "int32" if kind in ("all", "any") else dt
            out.append((f"reduce_{kind}_{dt}",
                        K.reduce_source(f"k_red_{kind}_{dt}", kind, 2, 1, dt, acc, dt, 256)))
    for dt in ("float32", "float64"):
        out.append((f"gemm_{dt}", K.gemm_source(f"k_gemm_{dt}", dt)))
    # float16: ga_half storage through load_half/store_half, float32 arithmetic
    for name in ("add", "mul", "exp", "tanh", "true_div"):
        op = S.ALL_OPS[name]
        ins = ["float16"] * op.nin
        out.append((f"{name}_float16", K.elemwise_source(
            f"k_{name}_f16", 2, ins, ["float16"], K.scalar_body(op, ins, ["float16"]))))
    out.append(("half_to_float", K.elemwise_source("k_h2f", 1, ["float16"], ["float32"],
                                                   K.scalar_body(S.exp, ["float16"],
                                                                 ["float32"]))))
    for kind in ("sum", "max"):
        out.append((f"reduce_{kind}_float16", K.reduce_source(
            f"k_red_{kind}_f16", kind, 1, 1, "float16", "float32", "float16", 256)))
    from opcore_gpu_cuda.pygpu.elemwise import GpuElemwise, arg

    class _FakeCtx:  # GpuElemwise only needs a context to launch, not to build its body
        name = "nvrtc"

    import opcore_gpu_cuda.type as ty

    get = ty.get_context
    ty.get_context = lambda name=None: _FakeCtx()
    try:
        ge = GpuElemwise(None, "c = 4 * x + 5", [arg("x", "float32", read=True),
                                                 arg("c", "float32", read=True, write=True)])
    finally:
        ty.get_context = get
    out.append(("pygpu_axpb", K.elemwise_source("k_axpb", 1, ["float32", "float32"],
                                                 ["float32"], ge.body)))
    out.append(("op_guide_axpb", AXPB_GUIDE))
    from opcore_gpu_cuda.nnet_conv3d_kernels import conv3d_kernel_sources
    from opcore_gpu_cuda.nnet_kernels import nnet_kernel_sources
    from opcore_gpu_cuda.nnet_neibs_kernels import neibs_kernel_sources
    from opcore_gpu_cuda.nnet_pool_kernels import pool_kernel_sources
    from opcore_gpu_cuda.random_impls import mrg_kernel_source

    out += nnet_kernel_sources()
    out += pool_kernel_sources()
    out += conv3d_kernel_sources()
    out += neibs_kernel_sources()
    out += [(f"mrg_{dt}", mrg_kernel_source(f"k_mrg_{dt}", dt)) for dt in ("float32", "float64")]
    return out


# the Op guide's C-form kernel, verbatim apart from the dtype substitution
AXPB_GUIDE = """#include "cluda.h"
KERNEL void axpb(GLOBAL_MEM ga_float *x, GLOBAL_MEM  ga_float *z, ga_size n, ga_size m) {
for (ga_size i = LID_0; i < n; i += LDIM_0) {
    for (ga_size j = LID_0; j < m; j += LDIM_0) {
        z[i*m + j] = ( 2 * x[i*m + j] );
    }
}
}"""

KERNELS = _scalar_op_kernels() + _other_kernels()


def _compile_all(kernels, arch):
    """One NVRTC call for all kernels (each costs ~0.2 s alone); on failure, find the culprits."""
    from opcore_gpu_cuda.dialect import strip_cluda_include

    unit = "\n".join(f"// {name}\n{strip_cluda_include(src)}" for name, src in kernels)
    try:
        assert nvrtc.compile_cuda(unit, name="all_kernels.cu", arch=arch)
        return
    except nvrtc.NVRTCError:
        pass
    failures = []
    for name, src in kernels:
        try:
            nvrtc.compile_cuda(src, name=f"{name}.cu", arch=arch)
        except nvrtc.NVRTCError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_kernel_compiles_with_nvrtc(arch):
    _compile_all(KERNELS, arch)


def test_kernels_generated_in_this_session_compile():
    """Whatever the other tests generated (and recorded in kernels.GENERATED) compiles too."""
    seen = {}
    for name, src in list(K.GENERATED.items()):
        seen.setdefault(src, name)
    _compile_all([(n, s) for s, n in seen.items()], "sm_75")


def test_nvrtc_reports_syntax_errors():
    with pytest.raises(nvrtc.NVRTCError, match="expected an expression"):
        nvrtc.compile_cuda("KERNEL void f(GLOBAL_MEM ga_float *x) { x[0] = ; }", arch="sm_90")
    assert nvrtc.version() >= (11, 0)


def _cuda_device() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.skipif(not _cuda_device(), reason="no CUDA device")
def test_cuda_device_end_to_end():
    from opcore_gpu_cuda import array as A
    from opcore_gpu_cuda.type import get_context

    ctx = get_context("cuda0")
    x = np.random.default_rng(0).random((64, 33)).astype("float32")
    g = A.asarray(x, ctx)
    got, = K.elemwise_scalar_op(S.tanh, [g.T[::2]], ["float32"])
    np.testing.assert_allclose(got.get(), np.tanh(x.T[::2]), rtol=1e-6)
    np.testing.assert_allclose(K.reduce(g, "sum", (0,), "float32").get(), x.sum(0), rtol=1e-5)
    np.testing.assert_allclose(K.gemm(g.T, g).get(), x.T @ x, rtol=1e-4)
