"""The C pooling kernels (cpu_c backend) against ``perform`` and the loop reference, and the
vectorised conv2d gradients against direct loop references."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T

from opcore_nnet.conv import Conv2d
from opcore_nnet.pool import Pool, PoolGrad

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]
GEOMS = [((2, 2), (2, 2), (0, 0), True), ((3, 2), (2, 1), (1, 1), True),
         ((3, 3), (2, 2), (0, 0), False), ((2, 3), (3, 1), (0, 0), False),
         ((3, 3), (1, 1), (2, 1), True), ((2, 2), (2, 2), (1, 1), True),
         ((2, 3), (2, 3), (0, 0), False)]


def _c_nodes(f) -> set:
    return {type(n.op).__name__ for n in getattr(f.linker, "c_nodes", [])}


def _ref_pool_grad(x, gz, ws, st, pad, mode, ib):
    """Loop reference: route each window's gradient to its maxima / spread it evenly."""
    op = Pool(ws, ib, st, pad, mode)
    r, c = x.shape[-2:]
    nr, nc = op.out_shape(r, c)
    gx = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape[:-2]):
        for i in range(nr):
            for j in range(nc):
                r0, c0 = i * st[0] - pad[0], j * st[1] - pad[1]
                rr0, cc0 = max(r0, 0), max(c0, 0)
                rr1, cc1 = min(r0 + ws[0], r), min(c0 + ws[1], c)
                win = x[idx][rr0:rr1, cc0:cc1]
                g = gz[idx][i, j]
                if mode == "max":
                    gx[idx][rr0:rr1, cc0:cc1] += (win == win.max()) * g
                elif mode == "sum":
                    gx[idx][rr0:rr1, cc0:cc1] += g
                elif mode == "average_exc_pad":
                    gx[idx][rr0:rr1, cc0:cc1] += g / win.size
                else:
                    n = (min(r0 + ws[0], r + pad[0]) - r0) * (min(c0 + ws[1], c + pad[1]) - c0)
                    gx[idx][rr0:rr1, cc0:cc1] += g / n
    return gx


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws,st,pad,ib", GEOMS)
def test_pool_grad_matches_loop_reference(rng, mode, ws, st, pad, ib):
    xv = rng.standard_normal((2, 3, 7, 8))
    xv[0, 0, :2, :2] = 1.5  # tied maxima get the gradient each
    op = Pool(ws, ib, st, pad, mode)
    gz = rng.standard_normal(xv.shape[:2] + op.out_shape(7, 8))
    x, g = T.dtensor4("x"), T.dtensor4("g")
    got = opcore.function([x, g], PoolGrad(ws, ib, st, pad, mode)(x, g))(xv, gz)
    np.testing.assert_allclose(got, _ref_pool_grad(xv, gz, ws, st, pad, mode, ib), atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ws,st,pad,ib", GEOMS)
def test_pool_c_matches_perform(rng, c_mode, dtype, mode, ws, st, pad, ib):
    x = T.tensor4("x", dtype=dtype)
    g = T.tensor4("g", dtype=dtype)
    y = Pool(ws, ib, st, pad, mode)(x)
    outs = [y, PoolGrad(ws, ib, st, pad, mode)(x, g)]
    fc = opcore.function([x, g], outs, mode=c_mode)
    assert {"Pool", "PoolGrad"} <= _c_nodes(fc)
    fp = opcore.function([x, g], outs, mode=opcore.compile.Mode(backend="py"))
    base = rng.standard_normal((3, 2, 9, 8)).astype(dtype)
    base[:, :, 1:3, 1:3] = 0.5  # ties
    xv = base[::-1, :, ::-1].transpose(0, 1, 3, 2)  # negative strides, transposed: not contiguous
    assert not xv.flags.c_contiguous
    gv = rng.standard_normal(xv.shape[:2] + Pool(ws, ib, st, pad, mode).out_shape(8, 9))
    gv = np.asfortranarray(gv.astype(dtype))
    tol = 1e-5 if dtype == "float32" else 1e-13
    for a, b in zip(fc(xv, gv), fp(xv, gv)):
        assert a.dtype == b.dtype == dtype
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["max", "average_exc_pad"])
def test_pool_c_other_ranks_empty_and_errors(rng, c_mode, mode):
    x3 = T.dtensor3("x")
    op = Pool((2, 2), True, (1, 2), (1, 0), mode)
    fc = opcore.function([x3], op(x3), mode=c_mode)
    assert "Pool" in _c_nodes(fc)
    fp = opcore.function([x3], op(x3), mode=opcore.compile.Mode(backend="py"))
    for shape in [(4, 5, 6), (0, 5, 6), (2, 1, 1)]:
        xv = rng.standard_normal(shape)
        np.testing.assert_allclose(fc(xv), fp(xv), atol=1e-13)
    xn = np.array([[[1.0, np.nan], [0.0, 2.0]]])
    np.testing.assert_array_equal(np.isnan(fc(xn)), np.isnan(fp(xn)))
    x, g = T.dtensor4("x"), T.dtensor4("g")
    fg = opcore.function([x, g], PoolGrad((2, 2), mode=mode)(x, g), mode=c_mode)
    with pytest.raises(ValueError, match="gz"):
        fg(rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 3, 2)))


def _ref_conv_grads(x, w, dy, pad, st, dil):
    """Direct loops (cross-correlation, no groups): dx and dw of sum(y * dy)."""
    b, c, h, wd = x.shape
    k, _, fh, fw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            for u in range(fh):
                for v in range(fw):
                    r, s = i * st[0] + u * dil[0], j * st[1] + v * dil[1]
                    # dy (b, k) x w (k, c) -> dx (b, c); x (b, c) x dy (b, k) -> dw (k, c)
                    dxp[:, :, r, s] += dy[:, :, i, j] @ w[:, :, u, v]
                    dw[:, :, u, v] += dy[:, :, i, j].T @ xp[:, :, r, s]
    return dxp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd], dw


@pytest.mark.parametrize("pad,st,dil", [((0, 0), (1, 1), (1, 1)), ((1, 2), (2, 1), (1, 2)),
                                        ((2, 0), (3, 2), (2, 1))])
def test_conv_grads_match_loops(rng, pad, st, dil):
    xv = rng.standard_normal((2, 3, 9, 8))
    wv = rng.standard_normal((4, 3, 3, 2))
    op = Conv2d(pad, st, dil, 1, False)
    dy = rng.standard_normal(op._forward(xv, wv).shape)
    rdx, rdw = _ref_conv_grads(xv, wv, dy, pad, st, dil)
    np.testing.assert_allclose(op._grad_inputs(wv, dy, xv.shape), rdx, atol=1e-12)
    np.testing.assert_allclose(op._grad_weights(xv, dy, wv.shape), rdw, atol=1e-12)
    # non-contiguous operands give the same answers
    xs = np.asfortranarray(xv)
    np.testing.assert_allclose(op._forward(xs, wv[:, :, ::-1].copy()[:, :, ::-1]),
                               op._forward(xv, wv), atol=1e-12)
    np.testing.assert_allclose(op._grad_weights(xs, np.asfortranarray(dy), wv.shape), rdw,
                               atol=1e-12)
