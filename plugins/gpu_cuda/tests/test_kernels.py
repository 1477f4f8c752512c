"""Every generated kernel on the OpenCL driver against NumPy, with strided views and offsets."""

from __future__ import annotations

import numpy as np
import pytest

from opcore.scalar import basic as S
from opcore_gpu_cuda import array as A
from opcore_gpu_cuda import kernels as K

rng = np.random.default_rng(0)


def test_views_and_transfers(ctx):
    x = rng.random((5, 7)).astype("float32")
    g = A.asarray(x, ctx)
    np.testing.assert_array_equal(g.get(), x)
    np.testing.assert_array_equal(g.T[1:4].get(), x.T[1:4])
    np.testing.assert_array_equal(g[:, ::-2].get(), x[:, ::-2])
    np.testing.assert_array_equal(g[2].get(), x[2])
    np.testing.assert_array_equal(g[1:, None, 3].get(), x[1:, None, 3])
    np.testing.assert_array_equal(g.dimshuffle((1, "x", 0)).get(), x.T[:, None, :])
    v = g[1:4, 2:]
    assert v.data is g.data and v.offset == (7 + 2) * 4  # a view, no copy
    c = v.copy()
    assert c.c_contiguous and c.offset == 0
    np.testing.assert_array_equal(c.get(), x[1:4, 2:])
    np.testing.assert_array_equal(A.zeros((3, 2), "float64", ctx).get(), np.zeros((3, 2)))
    with pytest.raises(IndexError, match="out of bounds"):
        g[5]
    with pytest.raises(ValueError, match="cannot reshape"):
        g.reshape((4, 4))


def test_write_into_strided_view(ctx):
    x = rng.random((4, 6))
    g = A.asarray(x, ctx)
    g[:, 1::2].write(np.ones((4, 3)))
    x[:, 1::2] = 1
    np.testing.assert_array_equal(g.get(), x)


@pytest.mark.parametrize("op,n", [(S.add, 2), (S.mul, 2), (S.true_div, 2), (S.exp, 1),
                                  (S.tanh, 1), (S.sigmoid, 1), (S.maximum, 2), (S.lt, 2),
                                  (S.switch, 3), (S.sqr, 1), (S.pow, 2)])
def test_elemwise_scalar_ops(ctx, op, n):
    shapes = [(4, 5), (1, 5), (4, 1)][:n]
    vals = [rng.random(s) + 0.5 for s in shapes]
    if op is S.switch:
        vals[0] = vals[0] > 1.0
    # the first operand as an offset, strided view of a bigger array
    big = rng.random((9, 11)) + 0.5
    big[1:9:2, 2:7] = vals[0]
    garrs = [A.asarray(big, ctx)[1:9:2, 2:7]] + [A.asarray(v, ctx) for v in vals[1:]]
    if op is S.switch:
        garrs[0] = A.asarray(vals[0], ctx)
    out_dt = op.output_dtype(*[v.dtype.name for v in vals])
    got, = K.elemwise_scalar_op(op, garrs, [out_dt])
    ref = op.numpy(*vals)
    np.testing.assert_allclose(got.get(), ref, rtol=1e-12)


def test_fused_composite(ctx):
    # a + a**10 * exp(b) as one Composite = one kernel
    comp = S.Composite(2, ("float32", "float32"), [
        (S.pow, (("i", 0), ("c", 10, "float32")), "float32"),
        (S.exp, (("i", 1),), "float32"),
        (S.mul, (("s", 0), ("s", 1)), "float32"),
        (S.add, (("i", 0), ("s", 2)), "float32"),
    ], (3,))
    a = rng.random((3, 8)).astype("float32")
    b = rng.random((8,)).astype("float32")
    got, = K.elemwise_scalar_op(comp, [A.asarray(a, ctx).T, A.asarray(b, ctx)[:, None]],
                                ["float32"])
    np.testing.assert_allclose(got.get(), comp.evaluate([a.T, b[:, None]])[0], rtol=1e-5)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("axis", [None, (0,), (1,), (0, 2)])
def test_reductions(ctx, kind, axis):
    x = rng.random((6, 5, 4)) + 0.5
    g = A.asarray(x, ctx)[:, ::-1, 1:]  # negative stride and offset
    ref = getattr(np, kind)(x[:, ::-1, 1:], axis=axis)
    got = K.reduce(g, kind, axis, "float64")
    np.testing.assert_allclose(got.get(), ref, rtol=1e-12)


def test_reduce_int_and_bool(ctx):
    x = rng.integers(-50, 50, (7, 9)).astype("int32")
    g = A.asarray(x, ctx)
    np.testing.assert_array_equal(K.reduce(g, "max", (1,), "int32").get(), x.max(1))
    np.testing.assert_array_equal(K.reduce(g, "min", None, "int32").get(), x.min())
    b = x > 0
    np.testing.assert_array_equal(K.reduce(A.asarray(b, ctx), "any", (0,), "bool").get(),
                                  b.any(0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_strided(ctx, dtype):
    a = rng.random((37, 21)).astype(dtype)
    b = rng.random((40, 19)).astype(dtype)
    ga, gb = A.asarray(a, ctx), A.asarray(b, ctx)
    got = K.gemm(ga[::2, :], gb[3:24, ::-1])
    np.testing.assert_allclose(got.get(), a[::2] @ b[3:24, ::-1], rtol=1e-4)
    c = A.asarray(np.ones((19, 19), dtype), ctx)
    K.gemm(gb[3:24].T, gb[:21], c, alpha=2.0, beta=0.5)
    np.testing.assert_allclose(c.get(), 2 * b[3:24].T @ b[:21] + 0.5, rtol=1e-4)
    with pytest.raises(ValueError, match="not aligned"):
        K.gemm(ga, ga)


def test_kernel_protocol_call(ctx):
    from opcore_gpu_cuda.pygpu import gpuarray

    code = """#include "cluda.h"
KERNEL void scale(GLOBAL_MEM ga_float *x, ga_size off, ga_float a, ga_size n) {
  x = (GLOBAL_MEM ga_float *)(((GLOBAL_MEM char *)x) + off);
  for (ga_size i = GID_0 * LDIM_0 + LID_0; i < n; i += LDIM_0 * GDIM_0) x[i] *= a;
}"""
    k = K.Kernel(code=code, name="scale", objvar="k_scale",
                 params=[gpuarray.GpuArray, gpuarray.SIZE, "float32", gpuarray.SIZE],
                 flags=K.Kernel.get_flags("float32"))
    x = rng.random(100).astype("float32")
    g = A.asarray(x, ctx)
    v = g[10:]
    assert k.call(ctx, 1, [4], [8], 0, v.data, v.offset, 3.0, v.size) == K.GA_NO_ERROR
    x[10:] *= 3
    np.testing.assert_allclose(g.get(), x, rtol=1e-6)
    with pytest.raises(TypeError, match="takes 4 arguments"):
        k.call(ctx, 1, [1], [1], 0, g)


def test_bad_input_errors(ctx):
    from opcore_gpu_cuda.drivers import GpuError, open_context, parse_device
    from opcore_gpu_cuda.pygpu import elemwise

    with pytest.raises(ValueError, match="not a GPU device"):
        parse_device("gpu7")
    with pytest.raises(GpuError, match="no OpenCL platform 9"):
        open_context("opencl9:0")
    with pytest.raises(ValueError, match="do not broadcast"):
        K.elemwise_scalar_op(S.add, [A.asarray(np.ones(3), ctx), A.asarray(np.ones(4), ctx)],
                             ["float64"])
    k = elemwise.GpuElemwise(ctx, "c = x", [elemwise.arg("x", "float32", read=True),
                                            elemwise.arg("c", "float32", write=True)])
    with pytest.raises(TypeError, match="argument 'x' has dtype float64, expected float32"):
        k(A.asarray(np.ones(3), ctx), A.empty((3,), "float32", ctx))
    with pytest.raises(TypeError, match="must be a GpuArray"):
        k(np.ones(3, "float32"), A.empty((3,), "float32", ctx))
    from opcore_gpu_cuda.drivers import GpuError as E

    bad = K.Kernel("KERNEL void broken(GLOBAL_MEM ga_float *x) { x[0] = ; }", "broken",
                   [A.GpuArray])
    with pytest.raises(E, match="'broken' failed to compile"):
        bad.call(ctx, 1, [1], [1], 0, A.empty((1,), "float32", ctx))
