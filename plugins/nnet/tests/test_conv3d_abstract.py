"""conv3d and its gradients vs SciPy, Theano's abstract_conv classes used as Theano code uses
them, the shape helpers, conv3d2d and signal.conv.conv2d."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve, convolve2d, correlate

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract

from opcore_nnet.conv import Conv3d, Conv3dGradInputs, Conv3dGradWeights

T5 = T.TensorType("float64", shape=(None,) * 5)


def _ref_conv3d(x, w, mode, flip):
    fn = convolve if flip else correlate
    return np.array([[sum(fn(x[i, j], w[k, j], mode=mode) for j in range(x.shape[1]))
                      for k in range(w.shape[0])] for i in range(x.shape[0])])


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv3d_matches_scipy(rng, mode, flip, dtype):
    xv = rng.standard_normal((2, 3, 5, 6, 4)).astype(dtype)
    wv = rng.standard_normal((2, 3, 2, 3, 2)).astype(dtype)
    x, w = T.tensor5("x", dtype=dtype), T.tensor5("w", dtype=dtype)
    got = opcore.function([x, w], T.nnet.conv3d(x, w, border_mode=mode, filter_flip=flip))(xv, wv)
    assert got.dtype == dtype
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, _ref_conv3d(xv, wv, mode, flip), rtol=tol, atol=tol)


def test_conv3d_half_stride_dilation_groups_vs_loop(rng):
    xv = rng.standard_normal((1, 4, 5, 6, 5))
    wv = rng.standard_normal((4, 2, 3, 2, 3))
    op = Conv3d(border_mode="half", subsample=(2, 1, 2), filter_dilation=(1, 2, 1), num_groups=2)
    x, w = T5("x"), T5("w")
    got = opcore.function([x, w], op(x, w))(xv, wv)
    # loop reference: flip, dilate, pad by half of the dilated size, correlate, stride
    dk = [(f - 1) * d + 1 for f, d in zip(wv.shape[2:], (1, 2, 1))]
    pad = [k // 2 for k in dk]
    xp = np.pad(xv, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    wf = wv[:, :, ::-1, ::-1, ::-1]
    out = np.zeros(got.shape)
    for k in range(4):
        g = k // 2
        for a, b, c in np.ndindex(*got.shape[2:]):
            z0, y0, x0 = a * 2, b, c * 2
            win = xp[0, 2 * g:2 * g + 2, z0:z0 + dk[0], y0:y0 + dk[1]:2, x0:x0 + dk[2]]
            out[0, k, a, b, c] = np.sum(win * wf[k])
    np.testing.assert_allclose(got, out, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(border_mode="full", subsample=(1, 2, 1)),
                                dict(border_mode=(1, 0, 1), filter_dilation=(1, 1, 2),
                                     filter_flip=False)])
def test_conv3d_ops_contract_and_grads(rng, kw):
    xv = rng.standard_normal((2, 2, 4, 5, 5))
    wv = rng.standard_normal((3, 2, 2, 2, 2))
    op = Conv3d(**kw)
    report = check_op_contract(op, [xv, wv], [T5("x"), T5("w")])
    assert {"grad", "infer_shape"} <= set(report.checked)
    yv = op._forward(xv, wv)
    dy = rng.standard_normal(yv.shape)
    gi, gw, ints = Conv3dGradInputs(**kw), Conv3dGradWeights(**kw), T.lvector("s")
    check_op_contract(gi, [wv, dy, np.array(xv.shape[2:])], [T5("w"), T5("dy"), ints],
                      check_grad=False)
    check_op_contract(gw, [xv, dy, np.array(wv.shape[2:])], [T5("x"), T5("dy"), ints],
                      check_grad=False)
    # adjoints: <conv(x, w), dy> = <x, gi(w, dy)> = <w, gw(x, dy)>
    lhs = np.sum(yv * dy)
    np.testing.assert_allclose(np.sum(xv * gi._grad_inputs(wv, dy, xv.shape)), lhs)
    np.testing.assert_allclose(np.sum(wv * gw._grad_weights(xv, dy, wv.shape)), lhs)
    verify_grad(lambda a, b: gi(a, b, xv.shape[2:]), [wv, dy], rng=np.random.RandomState(0))
    verify_grad(lambda a, b: gw(a, b, wv.shape[2:]), [xv, dy], rng=np.random.RandomState(0))


def test_conv3d_c_backend_and_errors(rng, c_mode):
    xv, wv = rng.standard_normal((1, 2, 4, 4, 4)), rng.standard_normal((2, 2, 2, 2, 2))
    x, w = T5("x"), T5("w")
    y = T.nnet.conv3d(x, w)
    gx, gw = opcore.grad(y.sum(), [x, w])
    f = opcore.function([x, w], [y, gx, gw], mode=c_mode)
    ref = opcore.function([x, w], [y, gx, gw])(xv, wv)
    for a, b in zip(f(xv, wv), ref):
        np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(ref[0], _ref_conv3d(xv, wv, "valid", True), atol=1e-12)
    with pytest.raises(ValueError, match="channels"):
        f(rng.standard_normal((1, 3, 4, 4, 4)), wv)
    with pytest.raises(TypeError, match="5-d"):
        T.nnet.conv3d(T.dtensor4("x"), w)
    with pytest.raises(ValueError, match="3 ints"):
        T.nnet.conv3d(x, w, subsample=(1, 1))


def test_abstract_conv_classes_theano_style(rng):
    from opcore.tensor.nnet import abstract_conv as ac

    xv, wv = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    x, w, top = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("top")
    kw = dict(border_mode=(1, 1), subsample=(2, 1), filter_flip=True, filter_dilation=(1, 1))
    y = ac.AbstractConv2d(xv.shape, wv.shape, **kw)(x, w)
    yv = opcore.function([x, w], y)(xv, wv)
    np.testing.assert_allclose(yv, opcore.function([x, w], T.nnet.conv2d(x, w, **kw))(xv, wv))
    # the transposed convolution, built as Theano code builds it
    gi = ac.AbstractConv2d_gradInputs(xv.shape, wv.shape, kw["border_mode"], kw["subsample"],
                                      kw["filter_flip"], kw["filter_dilation"])(w, top,
                                                                                xv.shape[2:])
    gw = ac.AbstractConv2d_gradWeights(xv.shape, wv.shape, **kw)(x, top, wv.shape[2:])
    dyv = rng.standard_normal(yv.shape)
    giv, gwv = opcore.function([x, w, top], [gi, gw], on_unused_input="ignore")(xv, wv, dyv)
    # they are the gradients of <conv(x, w), top>
    ggx, ggw = opcore.grad((T.nnet.conv2d(x, w, **kw) * top).sum(), [x, w])
    refx, refw = opcore.function([x, w, top], [ggx, ggw])(xv, wv, dyv)
    np.testing.assert_allclose(giv, refx, atol=1e-12)
    np.testing.assert_allclose(gwv, refw, atol=1e-12)
    # a known shape that does not match the values fails naming the op
    bad = ac.AbstractConv2d((2, 3, 8, 8), None)(x, w)
    with pytest.raises(ValueError, match="input shape"):
        opcore.function([x, w], bad)(xv, wv)
    with pytest.raises(NotImplementedError, match="unshared"):
        ac.AbstractConv2d(unshared=True)
    # 3-d classes
    x5, w5, t5 = T5("x"), T5("w"), T5("t")
    xv5, wv5 = rng.standard_normal((1, 2, 4, 4, 3)), rng.standard_normal((2, 2, 2, 2, 2))
    y5 = ac.AbstractConv3d(None, None, "valid", (1, 1, 1), False)(x5, w5)
    np.testing.assert_allclose(opcore.function([x5, w5], y5)(xv5, wv5),
                               _ref_conv3d(xv5, wv5, "valid", False), atol=1e-12)
    dv5 = rng.standard_normal((1, 2, 3, 3, 2))
    g5 = ac.AbstractConv3d_gradInputs(filter_flip=False)(w5, t5, xv5.shape[2:])
    ref5 = opcore.grad((ac.AbstractConv3d(filter_flip=False)(x5, w5) * t5).sum(), x5)
    got5, r5 = opcore.function([x5, w5, t5], [g5, ref5], on_unused_input="ignore")(xv5, wv5, dv5)
    np.testing.assert_allclose(got5, r5, atol=1e-12)
    gw5 = ac.AbstractConv3d_gradWeights()(x5, t5, wv5.shape[2:])
    assert opcore.function([x5, t5], gw5)(xv5, dv5).shape == wv5.shape


@pytest.mark.parametrize("mode,sub,dil", [("valid", (1, 1), (1, 1)), ("full", (1, 1), (2, 1)),
                                          ("half", (2, 3), (1, 1)), ((2, 1), (1, 2), (1, 2))])
def test_conv_shape_helpers(rng, mode, sub, dil):
    from opcore.tensor.nnet import abstract_conv as ac

    ishp, kshp = (2, 3, 9, 8), (4, 3, 3, 2)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    out = opcore.function([x, w], T.nnet.conv2d(x, w, border_mode=mode, subsample=sub,
                                                filter_dilation=dil))(
        rng.standard_normal(ishp), rng.standard_normal(kshp))
    assert ac.get_conv_output_shape(ishp, kshp, mode, sub, dil) == out.shape
    gi = ac.get_conv_gradinputs_shape(kshp, out.shape, mode, sub, dil)
    assert gi[:2] == (2, 3)
    assert gi[2:] == tuple(None if s != 1 else n for s, n in zip(sub, ishp[2:]))
    gw = ac.get_conv_gradweights_shape(ishp, out.shape, mode, sub, dil)
    assert gw[:2] == (4, 3)
    for got, s, k in zip(gw[2:], sub, kshp[2:]):
        assert got == (None if s != 1 or mode == "half" else k)
    # symbolic shapes give a graph of the same value
    sym = ac.get_conv_output_shape(tuple(x.shape[i] for i in range(4)),
                                   tuple(w.shape[i] for i in range(4)), mode, sub, dil)
    vals = opcore.function([x, w], list(sym))(rng.standard_normal(ishp), rng.standard_normal(kshp))
    assert tuple(int(v) for v in vals) == out.shape


def test_conv3d2d_is_conv3d_in_time_major_layout(rng):
    from opcore.tensor.nnet import conv3d2d

    sv = rng.standard_normal((2, 5, 3, 6, 5))   # (batch, time, channels, rows, cols)
    fv = rng.standard_normal((4, 2, 3, 3, 2))   # (out, time, channels, rows, cols)
    s, f = T5("s"), T5("f")
    got = opcore.function([s, f], conv3d2d.conv3d(s, f))(sv, fv)
    ref = _ref_conv3d(sv.transpose(0, 2, 1, 3, 4), fv.transpose(0, 2, 1, 3, 4), "valid", True)
    np.testing.assert_allclose(got, ref.transpose(0, 2, 1, 3, 4), atol=1e-12)
    full = opcore.function([s, f], conv3d2d.conv3d(s, f, border_mode=("full", "valid", "valid"),
                                                   filters_shape=fv.shape))(sv, fv)
    assert full.shape == (2, 6, 4, 4, 4)
    with pytest.raises(NotImplementedError):
        conv3d2d.conv3d(s, f, border_mode=("valid", "full", "valid"))


@pytest.mark.parametrize("xnd,wnd", [(2, 2), (3, 2), (2, 3), (3, 3)])
@pytest.mark.parametrize("mode", ["valid", "full"])
def test_signal_conv2d_shapes_and_values(rng, xnd, wnd, mode):
    from opcore.tensor.signal import conv as sconv

    xv = rng.standard_normal((3, 6, 5)[3 - xnd:])
    wv = rng.standard_normal((2, 3, 2)[3 - wnd:])
    x, w = T.TensorType("float64", shape=(None,) * xnd)("x"), \
        T.TensorType("float64", shape=(None,) * wnd)("w")
    got = opcore.function([x, w], sconv.conv2d(x, w, border_mode=mode))(xv, wv)
    xs = xv if xnd == 3 else xv[None]
    ws = wv if wnd == 3 else wv[None]
    ref = np.array([[convolve2d(a, b, mode=mode) for b in ws] for a in xs])
    if xnd == 2:
        ref = ref[0]
    if wnd == 2:
        ref = ref[..., 0, :, :] if xnd == 3 else ref[0]
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_asymmetric_padding_2d_and_3d(rng):
    from opcore.tensor.nnet import abstract_conv as ac

    xv, wv = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    x, w = T.dtensor4("x"), T.dtensor4("w")
    mode = ((1, 2), (0, 1))
    y = T.nnet.conv2d(x, w, border_mode=mode, subsample=(2, 1))
    got = opcore.function([x, w], y)(xv, wv)
    # reference: pad explicitly, then a valid convolution
    xp = np.pad(xv, ((0, 0), (0, 0), (1, 2), (0, 1)))
    ref = opcore.function([x, w], T.nnet.conv2d(x, w, subsample=(2, 1)))(xp, wv)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    assert got.shape == ac.get_conv_output_shape(xv.shape, wv.shape, mode, (2, 1))
    gx, gw = opcore.grad((y ** 2).sum(), [x, w])
    check = opcore.function([x, w], [gx, gw])(xv, wv)
    xpad = T.dtensor4("xp")
    yp = T.nnet.conv2d(xpad, w, subsample=(2, 1))
    gxp, gwp = opcore.function([xpad, w], opcore.grad((yp ** 2).sum(), [xpad, w]))(xp, wv)
    np.testing.assert_allclose(check[0], gxp[:, :, 1:7, 0:5], atol=1e-10)
    np.testing.assert_allclose(check[1], gwp, atol=1e-10)
    # symmetric pairs collapse to ints (the same op as the int form)
    assert T.nnet.conv2d(x, w, border_mode=((1, 1), 2)).owner.op.border_mode == (1, 2)
    x5, w5 = T5("x"), T5("w")
    xv5, wv5 = rng.standard_normal((1, 2, 4, 4, 3)), rng.standard_normal((2, 2, 2, 2, 2))
    y5 = opcore.function([x5, w5], T.nnet.conv3d(x5, w5, border_mode=(0, (1, 0), (0, 2))))(
        xv5, wv5)
    ref5 = _ref_conv3d(np.pad(xv5, ((0, 0), (0, 0), (0, 0), (1, 0), (0, 2))), wv5, "valid", True)
    np.testing.assert_allclose(y5, ref5, atol=1e-12)
    check_op_contract(Conv3d(border_mode=((1, 0), 0, (0, 1))), [xv5, wv5], [T5("a"), T5("b")])
    with pytest.raises(ValueError, match="before, after"):
        T.nnet.conv2d(x, w, border_mode=((1, 2, 3), 0))


def test_conv_and_neighbours_rop_vs_finite_differences(rng):
    from opcore.gradient import Rop

    x, w, vx, vw = T5("x"), T5("w"), T5("vx"), T5("vw")
    xv, wv = rng.standard_normal((1, 2, 4, 4, 3)), rng.standard_normal((2, 2, 2, 2, 2))
    ex, ew = rng.standard_normal(xv.shape), rng.standard_normal(wv.shape)
    y = T.nnet.conv3d(x, w, border_mode="half", subsample=(1, 2, 1))
    f = opcore.function([x, w], y)
    got = opcore.function([x, w, vx, vw], Rop(y, [x, w], [vx, vw]))(xv, wv, ex, ew)
    eps = 1e-6
    fd = (f(xv + eps * ex, wv + eps * ew) - f(xv - eps * ex, wv - eps * ew)) / (2 * eps)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6)
    m, vm = T.dtensor4("m"), T.dtensor4("vm")
    mv, ev = rng.standard_normal((1, 2, 4, 7)), rng.standard_normal((1, 2, 4, 7))
    n = T.nnet.images2neibs(m, (2, 3), (1, 3), mode="half")
    rn = opcore.function([m, vm], Rop(n, m, vm), on_unused_input="ignore")(mv, ev)
    np.testing.assert_allclose(rn, opcore.function([m], n)(ev))


def test_conv2d_legacy_convop_keywords_warn_and_are_ignored(rng):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.warns(UserWarning, match="unroll_kern"):
        y = T.nnet.conv.conv2d(x, w, image_shape=(1, 2, 5, 5), unroll_kern=4)
    xv, wv = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 2, 2))
    np.testing.assert_allclose(opcore.function([x, w], y)(xv, wv),
                               _ref_conv3d(xv[:, :, None], wv[:, :, None], "valid", True)[:, :, 0])
    with pytest.raises(ValueError, match="imshp_logical"):
        T.nnet.conv2d(x, w, imshp_logical=(2, 5, 5))


@pytest.mark.parametrize("mode", ["valid", "full", (1, 2)])
def test_corrmm_classes_theano_style(rng, mode):
    from opcore.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights
    from opcore.tensor.nnet.corr3d import Corr3dMM, Corr3dMM_gradInputs

    x, w, top = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("top")
    xv, wv = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    y = CorrMM(mode)(x, w)
    ref = T.nnet.conv2d(x, w, border_mode=mode, filter_flip=False)
    yv, rv = opcore.function([x, w], [y, ref])(xv, wv)
    np.testing.assert_allclose(yv, rv, atol=1e-12)
    tv = rng.standard_normal(yv.shape)
    # shape=None: the spatial shape is implied when subsample is all ones
    gi = CorrMM_gradInputs(mode)(w, top)
    gw = CorrMM_gradWeights(mode)(x, top)
    ggx, ggw = opcore.grad((ref * top).sum(), [x, w])
    got = opcore.function([x, w, top], [gi, gw, ggx, ggw])(xv, wv, tv)
    np.testing.assert_allclose(got[0], got[2], atol=1e-12)
    np.testing.assert_allclose(got[1], got[3], atol=1e-12)
    with pytest.raises(ValueError, match="shape must be given"):
        CorrMM_gradInputs(mode, subsample=(2, 1))(w, top)
    x5, w5 = T5("x"), T5("w")
    xv5, wv5 = rng.standard_normal((1, 2, 4, 4, 3)), rng.standard_normal((2, 2, 2, 2, 2))
    np.testing.assert_allclose(opcore.function([x5, w5], Corr3dMM()(x5, w5))(xv5, wv5),
                               _ref_conv3d(xv5, wv5, "valid", False), atol=1e-12)
    assert Corr3dMM_gradInputs()(w5, T5("t")).ndim == 5
