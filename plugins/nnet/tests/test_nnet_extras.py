"""The smaller theano.tensor.nnet / abstract_conv names: conv2d_transpose, separable and causal
convolutions, bilinear upsampling, softmax_graph, prepend_*, crossentropy variants,
confusion_matrix, h_softmax; against NumPy/SciPy/scikit-learn references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve2d
from scipy.special import log_softmax as sp_log_softmax
from scipy.special import softmax as sp_softmax

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad


def test_conv2d_transpose_is_the_input_gradient_of_a_strided_conv(rng):
    x, w, top = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("top")
    xv, wv = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    y = T.nnet.conv2d(x, w, border_mode=(1, 0), subsample=(2, 2))
    topv = rng.standard_normal(opcore.function([x, w], y)(xv, wv).shape)
    ref = opcore.function([x, w, top], opcore.grad((y * top).sum(), x))(xv, wv, topv)
    tr = T.nnet.conv2d_transpose(top, w, xv.shape, border_mode=(1, 0), input_dilation=(2, 2))
    np.testing.assert_allclose(opcore.function([top, w], tr)(topv, wv), ref, atol=1e-12)


def test_separable_conv2d_vs_scipy(rng):
    from opcore.tensor.nnet import abstract_conv as ac

    xv = rng.standard_normal((2, 3, 7, 6))
    dwv = rng.standard_normal((6, 1, 3, 2))   # channel multiplier 2
    pwv = rng.standard_normal((4, 6, 1, 1))
    x, dw, pw = T.dtensor4("x"), T.dtensor4("dw"), T.dtensor4("pw")
    got = opcore.function([x, dw, pw], ac.separable_conv2d(x, dw, pw, 3))(xv, dwv, pwv)
    depth = np.array([[convolve2d(xv[b, j // 2], dwv[j, 0], mode="valid") for j in range(6)]
                      for b in range(2)])
    ref = np.einsum("kj,bjhw->bkhw", pwv[:, :, 0, 0], depth)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    x5 = T.TensorType("float64", shape=(None,) * 5)
    out = ac.separable_conv3d(x5("a"), x5("b"), x5("c"), 3)
    assert out.ndim == 5


@pytest.mark.parametrize("sub,dil,flip", [(1, 1, True), (2, 1, True), (1, 2, False)])
def test_causal_conv1d_vs_loop(rng, sub, dil, flip):
    from opcore.tensor.nnet import abstract_conv as ac

    xv, wv = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3))
    x, w = T.dtensor3("x"), T.dtensor3("w")
    got = opcore.function([x, w], ac.causal_conv1d(x, w, wv.shape, subsample=sub,
                                                   filter_dilation=dil, filter_flip=flip))(xv, wv)
    wf = wv if flip else wv[:, :, ::-1]
    ref = np.zeros((2, 4, 9))
    for t in range(9):
        for j in range(3):
            if t - j * dil >= 0:
                ref[:, :, t] += np.einsum("bc,kc->bk", xv[:, :, t - j * dil], wf[:, :, j])
    np.testing.assert_allclose(got, ref[:, :, ::sub], atol=1e-12)
    verify_grad(lambda a: ac.causal_conv1d(a, wv, wv.shape, filter_dilation=dil), [xv[:1]],
                rng=np.random.RandomState(0))


@pytest.mark.parametrize("ratio", [2, 3, 4])
@pytest.mark.parametrize("one_d", [True, False])
def test_bilinear_upsampling_is_clamped_linear_interpolation(rng, ratio, one_d):
    from opcore.tensor.nnet import abstract_conv as ac

    xv = rng.standard_normal((2, 3, 4, 5))
    x = T.dtensor4("x")
    got = opcore.function([x], ac.bilinear_upsampling(x, ratio, use_1D_kernel=one_d))(xv)

    def interp(a, axis):
        n = a.shape[axis]
        pos = (np.arange(n * ratio) - (ratio - 1) // 2) / ratio   # np.interp clamps the ends
        return np.apply_along_axis(lambda v: np.interp(pos, np.arange(n), v), axis, a)

    np.testing.assert_allclose(got, interp(interp(xv, 2), 3), atol=1e-12)
    k1 = opcore.function([], ac.bilinear_kernel_1D(ratio))()
    np.testing.assert_allclose(k1.sum(), ratio)
    with pytest.raises(NotImplementedError):
        ac.bilinear_upsampling(x, frac_ratio=(1.5, 1.5))


def test_softmax_graph_prepend_and_crossentropy_variants(rng):
    nn = T.nnet
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    xv, bv, yv = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.integers(0, 4, 5)
    np.testing.assert_allclose(opcore.function([x], nn.softmax_graph(x))(xv), sp_softmax(xv, 1))
    p0, p1, p7 = opcore.function([x], [nn.prepend_0_to_each_row(x), nn.prepend_1_to_each_row(x),
                                       nn.prepend_scalar_to_each_row(7.5, x)])(xv)
    for got, v in ((p0, 0.0), (p1, 1.0), (p7, 7.5)):
        np.testing.assert_array_equal(got, np.column_stack([np.full(5, v), xv]))
    outs = nn.crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y)
    nll, sm, mx, am = opcore.function([x, b, y], outs)(xv, bv, yv)
    z = xv + bv
    np.testing.assert_allclose(nll, -sp_log_softmax(z, 1)[np.arange(5), yv])
    np.testing.assert_allclose(sm, sp_softmax(z, 1))
    np.testing.assert_allclose(mx, sp_softmax(z, 1).max(1))
    np.testing.assert_array_equal(am, z.argmax(1))
    nll2, _, am2 = opcore.function([x, b, y], nn.crossentropy_softmax_argmax_1hot_with_bias(
        x, b, y))(xv, bv, yv)
    np.testing.assert_allclose(nll2, nll)
    np.testing.assert_array_equal(am2, am)
    nll3 = opcore.function([x, y], nn.crossentropy_softmax_max_and_argmax_1hot(x, y)[0])(xv, yv)
    np.testing.assert_allclose(nll3, -sp_log_softmax(xv, 1)[np.arange(5), yv])
    assert nn.CrossentropySoftmax1HotWithBiasDx is nn.CrossentropySoftmax1HotDx


def test_confusion_matrix_vs_sklearn(rng):
    from sklearn.metrics import confusion_matrix as sk_confusion

    a, p = T.lvector("a"), T.lvector("p")
    av, pv = rng.integers(-1, 4, 40), rng.integers(0, 5, 40)
    conf, order = opcore.function([a, p], T.nnet.confusion_matrix(a, p))(av, pv)
    np.testing.assert_array_equal(order, np.union1d(av, pv))
    np.testing.assert_array_equal(conf, sk_confusion(av, pv, labels=order))
    with pytest.raises(ValueError, match="entries"):
        opcore.function([a, p], T.nnet.confusion_matrix(a, p))(av, pv[:3])


def test_h_softmax_all_outputs_and_targets(rng):
    n, hid, n_cls, per, n_out = 6, 5, 3, 4, 10
    xv = rng.standard_normal((n, hid))
    w1, b1 = rng.standard_normal((hid, n_cls)), rng.standard_normal(n_cls)
    w2, b2 = rng.standard_normal((n_cls, hid, per)), rng.standard_normal((n_cls, per))
    tv = rng.integers(0, n_out, n)
    x, t = T.dmatrix("x"), T.lvector("t")
    W1, B1, W2, B2 = T.dmatrix("W1"), T.dvector("b1"), T.dtensor3("W2"), T.dmatrix("b2")
    full = T.nnet.h_softmax(x, n, n_out, n_cls, per, W1, B1, W2, B2)
    picked = T.nnet.h_softmax(x, n, n_out, n_cls, per, W1, B1, W2, B2, target=t)
    fv, pv = opcore.function([x, t, W1, B1, W2, B2], [full, picked])(xv, tv, w1, b1, w2, b2)
    p1 = sp_softmax(xv @ w1 + b1, 1)
    p2 = sp_softmax(np.einsum("nh,khj->nkj", xv, w2) + b2, 2)
    ref = (p1[:, :, None] * p2).reshape(n, -1)[:, :n_out]
    np.testing.assert_allclose(fv, ref, atol=1e-12)
    np.testing.assert_allclose(pv, ref[np.arange(n), tv], atol=1e-12)
    verify_grad(lambda a: T.nnet.h_softmax(a, n, n_out, n_cls, per, w1, b1, w2, b2,
                                           target=tv), [xv], rng=np.random.RandomState(0))
