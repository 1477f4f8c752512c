"""opcore-nnet's crossentropy and conv2d ops on the ``gpu`` backend (OpenCL/PoCL) against the
Python backend and NumPy, gradients included."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore_gpu_cuda.ops import GpuOp

nnet = pytest.importorskip("opcore_nnet.api")
rng = np.random.default_rng(7)


def _gpu_op_names(f):
    return [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuOp)]


def _compare(inputs, outputs, values, rtol=1e-9, atol=1e-9):
    ref = opcore.function(inputs, outputs, mode=opcore.Mode(backend="py"))(*values)
    f = opcore.function(inputs, outputs)
    assert f.maker.backend.name == "gpu"
    got = f(*values)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)
    return f, got


def _np_xent(x, y):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    sm = e / e.sum(axis=1, keepdims=True)
    return -np.log(sm[np.arange(len(y)), y]), sm


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_crossentropy_softmax_1hot_and_grad(gpu_flags, dtype):
    x, y = T.matrix("x", dtype=dtype), T.lvector("y")
    nll, sm = nnet.crossentropy_softmax_1hot(x, y)
    cost = nll.sum()
    gx = opcore.grad(cost, x)
    xv = (rng.standard_normal((6, 300)) * 3).astype(dtype)
    yv = rng.integers(0, 300, 6)
    tol = 1e-9 if dtype == "float64" else 2e-5
    f, (g_nll, g_sm, g_gx) = _compare([x, y], [nll, sm, gx], [xv, yv], rtol=tol, atol=tol)
    names = _gpu_op_names(f)
    assert any(n.startswith("GpuCrossentropySoftmax1Hot") and "Dx" not in n for n in names), \
        names
    assert any(n.startswith("GpuCrossentropySoftmax1HotDx") for n in names), names
    r_nll, r_sm = _np_xent(xv.astype(np.float64), yv)
    np.testing.assert_allclose(g_nll, r_nll, rtol=tol * 10)
    onehot = np.eye(300)[yv]
    np.testing.assert_allclose(g_gx, r_sm - onehot, rtol=tol * 10, atol=tol)


def test_crossentropy_strided_input_and_bad_label(gpu_flags):
    x, y = T.dmatrix("x"), T.lvector("y")
    nll, sm = nnet.crossentropy_softmax_1hot(x[::2, 1:], y)
    xv = rng.standard_normal((8, 5)) * 50  # large logits: the nll stays finite
    yv = np.array([0, 3, 2, 1])
    f, (g_nll, _) = _compare([x, y], [nll, sm], [xv, yv])
    r_nll, _ = _np_xent(xv[::2, 1:], yv)
    np.testing.assert_allclose(g_nll, r_nll, rtol=1e-9)
    with pytest.raises(IndexError, match="label 4 is outside"):
        f(xv, np.array([0, 4, 0, 0]))


CONV_CASES = [
    dict(border_mode="valid", subsample=(1, 1), filter_dilation=(1, 1), num_groups=1),
    dict(border_mode="full", subsample=(2, 1), filter_dilation=(1, 1), num_groups=1),
    dict(border_mode="half", subsample=(1, 2), filter_dilation=(2, 1), num_groups=2),
    dict(border_mode=(1, 2), subsample=(2, 2), filter_dilation=(1, 1), num_groups=1,
         filter_flip=False),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: str(c["border_mode"]))
def test_conv2d_and_gradients(gpu_flags, case):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    out = nnet.conv2d(x, w, **case)
    cost = (out * out).sum()
    gx, gw = opcore.grad(cost, [x, w])
    g = case["num_groups"]
    xv = rng.standard_normal((2, 2 * g, 7, 6))
    wv = rng.standard_normal((2 * g, 2, 3, 2))
    f, _ = _compare([x, w], [out, gx, gw], [xv, wv])
    names = _gpu_op_names(f)
    for op in ("GpuConv2d", "GpuConv2dGradWeights", "GpuConv2dGradInputs"):
        assert any(n.startswith(op + "{") or n == op or n.startswith(op + "(") for n in names), \
            (op, names)


def test_conv2d_float32_matches_numpy(gpu_flags):
    x, w = T.ftensor4("x"), T.ftensor4("w")
    f = opcore.function([x, w], nnet.conv2d(x, w, filter_flip=False))
    xv = rng.standard_normal((1, 3, 5, 5)).astype("float32")
    wv = rng.standard_normal((4, 3, 2, 2)).astype("float32")
    ref = np.zeros((1, 4, 4, 4))
    for i in range(2):
        for j in range(2):
            ref += np.einsum("bchw,kc->bkhw", xv[:, :, i:i + 4, j:j + 4], wv[:, :, i, j])
    got = f(xv, wv)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    assert any(n.startswith("GpuConv2d") for n in _gpu_op_names(f))
