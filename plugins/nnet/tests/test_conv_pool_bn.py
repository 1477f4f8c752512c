"""conv2d, pool_2d, batch normalisation and the activations vs SciPy/NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract

from opcore_nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from opcore_nnet.pool import Pool, PoolGrad


def _ref_conv(x, w, mode, flip):
    fn = convolve2d if flip else correlate2d
    b, c = x.shape[:2]
    return np.array([[sum(fn(x[i, j], w[k, j], mode=mode) for j in range(c))
                      for k in range(w.shape[0])] for i in range(b)])


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_matches_scipy(rng, mode, flip, dtype):
    xv = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    wv = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    got = opcore.function([x, w], T.nnet.conv2d(x, w, border_mode=mode, filter_flip=flip))(xv, wv)
    assert got.dtype == dtype
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, _ref_conv(xv, wv, mode, flip), rtol=tol, atol=tol)


def test_conv2d_half_padding_stride_dilation_groups_vs_reference(rng):
    xv = rng.standard_normal((2, 4, 9, 8))
    wv = rng.standard_normal((6, 2, 3, 3))
    op = Conv2d(border_mode="half", subsample=(2, 1), filter_dilation=(1, 2), num_groups=2)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    got = opcore.function([x, w], op(x, w))(xv, wv)
    # reference: dilate the filters with zeros, pad by 'half' of the dilated size, correlate
    dil = np.zeros((6, 2, 3, 5))
    dil[:, :, :, ::2] = wv[:, :, ::-1, ::-1]
    pad = np.pad(xv, ((0, 0), (0, 0), (1, 1), (2, 2)))
    ref = np.zeros((2, 6, 5, 8))
    for k in range(6):
        g = k // 3
        for i in range(2):
            full = sum(correlate2d(pad[i, 2 * g + j], dil[k, j], mode="valid") for j in range(2))
            ref[i, k] = full[::2, :]
    np.testing.assert_allclose(got, ref, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(border_mode="valid"), dict(border_mode="full", subsample=2),
                                dict(border_mode=(1, 2), filter_dilation=2),
                                dict(border_mode="half", num_groups=2, filter_flip=False)])
def test_conv_ops_contract_and_grads(rng, kw):
    xv = rng.standard_normal((2, 4, 7, 6))
    wv = rng.standard_normal((4, 4 // kw.get("num_groups", 1), 3, 2))
    op = Conv2d(**kw)
    report = check_op_contract(op, [xv, wv])
    assert {"grad", "infer_shape", "backend:py"} <= set(report.checked)
    yv = op._forward(xv, wv)
    dy = rng.standard_normal(yv.shape)
    gi = Conv2dGradInputs(**kw)
    gw = Conv2dGradWeights(**kw)
    ints = T.lvector("s")
    check_op_contract(gi, [wv, dy, np.array(xv.shape[2:])],
                      [T.dtensor4("w"), T.dtensor4("dy"), ints], check_grad=False)
    check_op_contract(gw, [xv, dy, np.array(wv.shape[2:])],
                      [T.dtensor4("x"), T.dtensor4("dy"), ints], check_grad=False)
    # the gradient ops are each other's adjoints: <conv(x, w), dy> = <x, gi(w, dy)> = <w, gw(x, dy)>
    lhs = np.sum(yv * dy)
    np.testing.assert_allclose(np.sum(xv * gi._grad_inputs(wv, dy, xv.shape)), lhs)
    np.testing.assert_allclose(np.sum(wv * gw._grad_weights(xv, dy, wv.shape)), lhs)
    verify_grad(lambda a, b: gi(a, b, xv.shape[2:]), [wv, dy], rng=np.random.RandomState(0))


def test_conv2d_bad_shapes_raise(rng):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = opcore.function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(ValueError, match="channels"):
        f(rng.standard_normal((1, 3, 5, 5)), rng.standard_normal((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="do not fit"):
        f(rng.standard_normal((1, 2, 2, 2)), rng.standard_normal((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")


def _ref_pool(x, ws, st, pad, mode, ignore_border):
    r, c = x.shape[-2:]
    op = Pool(ws, ignore_border, st, pad, mode)
    nr, nc = op.out_shape(r, c)
    out = np.zeros(x.shape[:-2] + (nr, nc))
    for i in range(nr):
        for j in range(nc):
            r0, c0 = i * st[0] - pad[0], j * st[1] - pad[1]
            r1, c1 = r0 + ws[0], c0 + ws[1]
            rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, r), min(c1, c)
            win = x[..., rr0:rr1, cc0:cc1]
            if mode == "max":
                out[..., i, j] = win.max(axis=(-1, -2))
            elif mode == "sum":
                out[..., i, j] = win.sum(axis=(-1, -2))
            elif mode == "average_exc_pad":
                out[..., i, j] = win.mean(axis=(-1, -2))
            else:
                n = (min(r1, r + pad[0]) - r0) * (min(c1, c + pad[1]) - c0)
                out[..., i, j] = win.sum(axis=(-1, -2)) / n
    return out


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws,st,pad,ib", [((2, 2), (2, 2), (0, 0), True),
                                          ((3, 2), (2, 1), (1, 1), True),
                                          ((3, 3), (2, 2), (0, 0), False)])
def test_pool_2d_reference_contract_grad(rng, mode, ws, st, pad, ib):
    xv = rng.standard_normal((2, 3, 7, 6))
    x = T.dtensor4("x")
    got = opcore.function([x], T.nnet.pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad,
                                                   mode=mode))(xv)
    np.testing.assert_allclose(got, _ref_pool(xv, ws, st, pad, mode, ib), atol=1e-12)
    op = Pool(ws, ib, st, pad, mode)
    report = check_op_contract(op, [xv])
    assert {"grad", "infer_shape"} <= set(report.checked)
    check_op_contract(PoolGrad(ws, ib, st, pad, mode), [xv, rng.standard_normal(got.shape)],
                      check_grad=False)


def test_batch_normalization_train_and_test(rng):
    from opcore.tensor.nnet import bn

    xv = rng.standard_normal((8, 3, 4, 4)) * 3 + 1
    gv, bv = rng.standard_normal((1, 3, 1, 1)), rng.standard_normal((1, 3, 1, 1))
    x = T.dtensor4("x")
    g, b = T.TensorType("float64", shape=(1, None, 1, 1))("g"), \
        T.TensorType("float64", shape=(1, None, 1, 1))("b")
    rm, rv = T.TensorType("float64", shape=(1, None, 1, 1))("rm"), \
        T.TensorType("float64", shape=(1, None, 1, 1))("rv")
    out, mean, invstd, nrm, nrv = bn.batch_normalization_train(
        x, g, b, "spatial", 1e-4, 0.1, rm, rv)
    f = opcore.function([x, g, b, rm, rv], [out, mean, invstd, nrm, nrv])
    zeros, ones = np.zeros((1, 3, 1, 1)), np.ones((1, 3, 1, 1))
    o, m, s, a, v = f(xv, gv, bv, zeros, ones)
    mu = xv.mean(axis=(0, 2, 3), keepdims=True)
    var = xv.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(o, (xv - mu) / np.sqrt(var + 1e-4) * gv + bv, rtol=1e-10)
    np.testing.assert_allclose(m, mu)
    np.testing.assert_allclose(s, 1 / np.sqrt(var + 1e-4))
    np.testing.assert_allclose(a, 0.1 * mu)
    np.testing.assert_allclose(v, 0.9 + 0.1 * xv.var(axis=(0, 2, 3), ddof=1, keepdims=True))
    test_out = opcore.function([x, g, b, rm, rv],
                               bn.batch_normalization_test(x, g, b, rm, rv, "spatial"))
    np.testing.assert_allclose(test_out(xv, gv, bv, mu, var), o, rtol=1e-10)
    verify_grad(lambda a, gg, bb: bn.batch_normalization_train(a, gg, bb, "spatial")[0],
                [xv[:3, :, :2, :2], gv, bv], rng=np.random.RandomState(0))
    # per-activation with vector-shaped parameters
    xm = T.dmatrix("xm")
    o2 = opcore.function([xm], bn.batch_normalization_train(xm, np.ones(5), np.zeros(5))[0])
    mv = rng.standard_normal((6, 5))
    np.testing.assert_allclose(o2(mv), (mv - mv.mean(0)) / np.sqrt(mv.var(0) + 1e-4))


def test_activations(rng):
    from scipy.special import expit

    xv = np.concatenate([rng.standard_normal(20) * 4, [0.0, 50.0, -50.0, 800.0, -800.0]])
    x = T.dvector("x")
    nn = T.nnet
    outs = [nn.sigmoid(x), nn.softplus(x), nn.relu(x), nn.relu(x, 0.1), nn.elu(x),
            nn.hard_sigmoid(x), nn.ultra_fast_sigmoid(x)]
    got = opcore.function([x], outs)(xv)
    refs = [expit(xv), np.logaddexp(0, xv), np.maximum(xv, 0), np.where(xv > 0, xv, 0.1 * xv),
            np.where(xv > 0, xv, np.expm1(np.minimum(xv, 0))), np.clip(0.2 * xv + 0.5, 0, 1)]
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(got[1]))
    assert np.max(np.abs(got[-1] - expit(xv))) < 0.03
    smooth = xv[np.abs(xv) > 0.1][:10] / 4
    for fn in (nn.sigmoid, nn.softplus, nn.relu, lambda a: nn.relu(a, 0.2), nn.elu,
               nn.ultra_fast_sigmoid):
        verify_grad(fn, [smooth], rng=np.random.RandomState(0))
