"""images2neibs / neibs2images against a NumPy loop reference, round trips, gradients in every
mode, infer_shape and errors."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.testing import check_op_contract

from opcore_nnet.neighbours import Images2Neibs, Neibs2ImagesGrad


def _ref(x, shape, step, mode):
    """Theano's documented loop: for each image, channel, patch row a, patch col b, the patch
    flattened row-major; padding positions read 0, wrap_centered wraps around."""
    (p0, p1), (s0, s1) = shape, step
    b, c, h, w = x.shape

    def grid(n, p, s):
        if mode == "wrap_centered":
            return -(-n // s), p // 2
        shift = {"half": p // 2, "full": p - 1}.get(mode, 0)
        return (n + 2 * shift - p) // s + 1, shift

    (g0, o0), (g1, o1) = grid(h, p0, s0), grid(w, p1, s1)
    rows = []
    for n in range(b):
        for ch in range(c):
            for a in range(g0):
                for bb in range(g1):
                    row = []
                    for i in range(p0):
                        for j in range(p1):
                            r, q = a * s0 + i - o0, bb * s1 + j - o1
                            if mode == "wrap_centered":
                                r, q = r % h, q % w
                            row.append(x[n, ch, r, q] if 0 <= r < h and 0 <= q < w else 0.0)
                    rows.append(row)
    return np.array(rows)


CASES = [("valid", (2, 3), None, (2, 1, 4, 6)), ("valid", (2, 2), (1, 2), (1, 2, 5, 6)),
         ("ignore_borders", (2, 3), None, (1, 2, 5, 7)), ("ignore_borders", (3, 2), (2, 3),
                                                          (2, 1, 6, 7)),
         ("half", (3, 3), (1, 1), (1, 2, 4, 5)), ("half", (2, 3), (2, 1), (1, 1, 4, 5)),
         ("full", (2, 3), (1, 1), (1, 1, 3, 4)), ("full", (3, 2), (2, 3), (1, 1, 5, 6)),
         ("wrap_centered", (3, 3), (1, 1), (1, 2, 4, 5)),
         ("wrap_centered", (3, 1), (2, 3), (2, 1, 5, 7))]


@pytest.mark.parametrize("mode,shape,step,ishape", CASES)
def test_images2neibs_values_contract_and_grad(rng, mode, shape, step, ishape):
    xv = rng.standard_normal(ishape)
    x = T.dtensor4("x")
    f = opcore.function([x], T.nnet.neighbours.images2neibs(x, shape, step, mode=mode))
    got = f(xv)
    np.testing.assert_array_equal(got, _ref(xv, shape, step or shape, mode))
    step = step or shape
    report = check_op_contract(Images2Neibs(mode), [xv, np.array(shape), np.array(step)],
                               [x, T.lvector("s"), T.lvector("t")], check_grad=False)
    assert "infer_shape" in report.checked
    verify_grad(lambda a: Images2Neibs(mode)(a, shape, step), [xv],
                rng=np.random.RandomState(0))
    # the gradient op is the transpose: <i2n(x), g> = <x, grad(g)>
    gv = rng.standard_normal(got.shape)
    back = Neibs2ImagesGrad(mode)(T.dmatrix("g"), shape, step, ishape)
    gx = opcore.function([back.owner.inputs[0]], back)(gv)
    np.testing.assert_allclose(np.sum(xv * gx), np.sum(got * gv))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_round_trip_valid_and_ignore_borders(rng, dtype):
    from opcore.tensor.nnet.neighbours import images2neibs, neibs2images

    x = T.tensor4("x", dtype=dtype)
    im = (rng.standard_normal((2, 3, 6, 8)) * 10).astype(dtype)
    neibs = images2neibs(x, (2, 4))
    f = opcore.function([x], [neibs, neibs2images(neibs, (2, 4), x.shape)])
    nv, back = f(im)
    assert nv.dtype == dtype and nv.shape == (2 * 3 * 3 * 2, 8)
    np.testing.assert_array_equal(back, im)
    # ignore_borders: the rows/columns no patch covers come back as zeros
    odd = (rng.standard_normal((1, 2, 7, 9)) * 10).astype(dtype)
    nb = images2neibs(x, (2, 4), mode="ignore_borders")
    back = opcore.function([x], neibs2images(nb, (2, 4), x.shape, mode="ignore_borders"))(odd)
    expect = np.zeros_like(odd)
    expect[:, :, :6, :8] = odd[:, :, :6, :8]
    np.testing.assert_array_equal(back, expect)
    # Theano's documented example: a 10x10 image in 5x5 patches is a 4x25 matrix
    ex = np.arange(100.0).reshape(1, 1, 10, 10)
    d = T.dtensor4("d")
    nv = opcore.function([d], images2neibs(d, (5, 5)))(ex)
    assert nv.shape == (4, 25)
    np.testing.assert_array_equal(nv[1], ex[0, 0, :5, 5:].ravel())


def test_neibs2images_gradient_and_errors(rng):
    from opcore.tensor.nnet.neighbours import images2neibs, neibs2images

    nv = rng.standard_normal((12, 4))
    verify_grad(lambda n: neibs2images(n, (2, 2), (1, 3, 4, 4)), [nv],
                rng=np.random.RandomState(0))
    x = T.dtensor4("x")
    with pytest.raises(NotImplementedError, match="half"):
        neibs2images(T.dmatrix("n"), (2, 2), (1, 1, 4, 4), mode="half")
    with pytest.raises(NotImplementedError, match="mode"):
        images2neibs(x, (2, 2), mode="same")
    with pytest.raises(TypeError, match="4-d"):
        images2neibs(T.dmatrix("m"), (2, 2))
    f = opcore.function([x], images2neibs(x, (2, 2)))
    with pytest.raises(TypeError, match="not consistent"):
        f(np.zeros((1, 1, 5, 4)))
    g = opcore.function([x], images2neibs(x, (2, 2), mode="wrap_centered"))
    with pytest.raises(TypeError, match="odd"):
        g(np.zeros((1, 1, 5, 4)))
    s = T.lvector("s")
    h = opcore.function([x, s], images2neibs(x, s))
    with pytest.raises(ValueError, match="2 entries"):
        h(np.zeros((1, 1, 4, 4)), [2, 2, 2])
    with pytest.raises(ValueError, match="> 0"):
        h(np.zeros((1, 1, 4, 4)), [0, 2])


def test_images2neibs_and_gradient_on_the_c_backend(rng, c_mode):
    x = T.dtensor4("x")
    n = T.nnet.images2neibs(x, (3, 3), (1, 2), mode="half")
    outs = [n, opcore.grad((n ** 2).sum(), x)]
    xv = rng.standard_normal((1, 2, 5, 5))
    for a, b in zip(opcore.function([x], outs, mode=c_mode)(xv), opcore.function([x], outs)(xv)):
        np.testing.assert_allclose(a, b, atol=1e-12)
