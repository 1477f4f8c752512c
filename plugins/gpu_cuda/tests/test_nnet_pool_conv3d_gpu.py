"""opcore-nnet's Pool / PoolGrad (2-d and 3-d, every mode), Conv3d with its gradients and
Images2Neibs with its gradient on the ``gpu`` backend (OpenCL/PoCL) against the Python
backend."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore_gpu_cuda.ops import GpuOp

pool = pytest.importorskip("opcore_nnet.api.pool")
rng = np.random.default_rng(11)

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]
CASES = [((2, 2), (2, 2), (0, 0), True), ((3, 2), (2, 1), (1, 1), True),
         ((3, 3), (2, 2), (0, 0), False), ((2, 2, 2), (2, 2, 2), (0, 0, 0), True),
         ((2, 3, 2), (1, 2, 2), (1, 1, 0), True), ((3, 2, 2), (2, 2, 1), (0, 0, 0), False)]


def _gpu_op_names(f):
    return [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuOp)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws,st,pad,ib", CASES)
def test_pool_and_grad_on_gpu(gpu_flags, mode, ws, st, pad, ib):
    x, g = T.dtensor4("x"), T.dtensor4("g")
    op = pool.Pool(ws, ib, st, pad, mode)
    xv = rng.standard_normal((2, 5, 6, 7))
    xv[0, 1, 2, 2] = xv[0, 1, 2, 3]  # a tie inside a window
    gz = rng.standard_normal(xv.shape[:4 - len(ws)] + op.out_shape(*xv.shape[4 - len(ws):]))
    outs = [op(x), pool.PoolGrad(ws, ib, st, pad, mode)(x, g)]
    f = opcore.function([x, g], outs)
    assert f.maker.backend.name == "gpu"
    names = _gpu_op_names(f)
    assert any(n.startswith("GpuPool{") for n in names) and \
        any(n.startswith("GpuPoolGrad") for n in names), names
    ref = opcore.function([x, g], outs, mode=opcore.Mode(backend="py"))(xv, gz)
    for a, b in zip(f(xv, gz), ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_pool_float32_strided_view_and_training_graph(gpu_flags):
    x = T.ftensor4("x")
    y = pool.pool_2d(x[:, :, ::2, 1:], (2, 2), ignore_border=True, mode="average_exc_pad")
    cost = (pool.pool_2d(x, (2, 2), ignore_border=False) ** 2).sum() + y.sum()
    gx = opcore.grad(cost, x)
    xv = rng.standard_normal((2, 3, 9, 7)).astype("float32")
    f = opcore.function([x], [y, gx])
    got = f(xv)
    ref = opcore.function([x], [y, gx], mode=opcore.Mode(backend="py"))(xv)
    for a, b in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    assert sum(n.startswith("GpuPool") for n in _gpu_op_names(f)) >= 3


CONV3D_CASES = [dict(), dict(border_mode="full", subsample=(2, 1, 1)),
                dict(border_mode="half", subsample=(1, 2, 1), filter_dilation=(1, 1, 2),
                     num_groups=2),
                dict(border_mode=(1, 0, 2), subsample=(2, 2, 1), filter_flip=False)]


@pytest.mark.parametrize("case", CONV3D_CASES, ids=lambda c: str(c.get("border_mode")))
def test_conv3d_and_gradients_on_gpu(gpu_flags, case):
    nnet = pytest.importorskip("opcore_nnet.api")
    t5 = T.TensorType("float64", shape=(None,) * 5)
    x, w = t5("x"), t5("w")
    out = nnet.conv3d(x, w, **case)
    gx, gw = opcore.grad((out * out).sum(), [x, w])
    g = case.get("num_groups", 1)
    xv = rng.standard_normal((2, 2 * g, 5, 6, 5))
    wv = rng.standard_normal((2 * g, 2, 2, 3, 2))
    f = opcore.function([x, w], [out, gx, gw])
    names = _gpu_op_names(f)
    for op in ("GpuConv3d", "GpuConv3dGradWeights", "GpuConv3dGradInputs"):
        assert any(n.startswith(op + "{") for n in names), (op, names)
    ref = opcore.function([x, w], [out, gx, gw], mode=opcore.Mode(backend="py"))(xv, wv)
    for a, b in zip(f(xv, wv), ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_asymmetric_padding_stays_on_the_cpu(gpu_flags):
    nnet = pytest.importorskip("opcore_nnet.api")
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = nnet.conv2d(x, w, border_mode=((1, 0), 1))
    f = opcore.function([x, w], y)
    assert not any(n.startswith("GpuConv2d") for n in _gpu_op_names(f))
    xv, wv = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 2, 2))
    ref = opcore.function([x, w], y, mode=opcore.Mode(backend="py"))(xv, wv)
    np.testing.assert_allclose(f(xv, wv), ref, atol=1e-12)


def test_cpu_only_nnet_ops_inside_gpu_graphs(gpu_flags):
    """Second derivatives through max pooling and the symbolic Pool form have no kernels: they
    run on the host inside a gpu graph (next to images2neibs on the device) and give the Python
    backend's values."""
    nnet = pytest.importorskip("opcore_nnet.api")
    x, W, ws = T.dmatrix("x"), T.dmatrix("W"), T.lvector("ws")
    h = T.dot(x, W).reshape((2, 1, 4, 4))
    cost = (pool.pool_2d(h, (2, 2), ignore_border=True) ** 2).sum()
    penalty = (opcore.grad(cost, x) ** 2).sum()
    sym = pool.pool_2d(h, ws, ignore_border=True, mode="average_exc_pad").sum()
    neibs = nnet.images2neibs(h, (2, 2)).sum()
    outs = [opcore.grad(penalty, W), sym, opcore.grad(neibs * sym, W)]
    xv, wv = rng.standard_normal((2, 3)), rng.standard_normal((3, 16))
    f = opcore.function([x, W, ws], outs)
    assert f.maker.backend.name == "gpu"
    ref = opcore.function([x, W, ws], outs, mode=opcore.Mode(backend="py"))(xv, wv, [2, 3])
    for a, b in zip(f(xv, wv, [2, 3]), ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


NEIBS = [("valid", (2, 3), (2, 1), (2, 1, 4, 6)), ("ignore_borders", (3, 2), (2, 3), (1, 2, 7, 8)),
         ("half", (3, 3), (1, 1), (1, 2, 4, 5)), ("full", (2, 3), (1, 1), (2, 1, 3, 4)),
         ("wrap_centered", (3, 1), (2, 3), (2, 1, 5, 7)),
         ("wrap_centered", (3, 3), (1, 1), (1, 1, 4, 5))]


@pytest.mark.parametrize("mode,shape,step,ishape", NEIBS)
def test_images2neibs_and_gradient_on_gpu(gpu_flags, mode, shape, step, ishape):
    nnet = pytest.importorskip("opcore_nnet.api")
    x, g = T.dtensor4("x"), T.dmatrix("g")
    n = nnet.images2neibs(x, shape, step, mode=mode)
    gx = opcore.grad((n * g).sum(), x)
    xv = rng.standard_normal(ishape)
    nv = opcore.function([x], n, mode=opcore.Mode(backend="py"))(xv)
    gv = rng.standard_normal(nv.shape)
    f = opcore.function([x, g], [n, gx])
    names = _gpu_op_names(f)
    assert any(s.startswith("GpuImages2Neibs") for s in names) and \
        any(s.startswith("GpuNeibs2ImagesGrad") for s in names), names
    ref = opcore.function([x, g], [n, gx], mode=opcore.Mode(backend="py"))(xv, gv)
    for a, b in zip(f(xv, gv), ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
