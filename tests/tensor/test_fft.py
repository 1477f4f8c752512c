"""opcore.tensor.fft (Theano's real-FFT layout) against numpy.fft, with gradients."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor import fft
from tests.tensor.family_cases import Case, family_tests

rng = np.random.default_rng(17)


def _packed(spec):
    return np.stack([spec.real, spec.imag], axis=-1)


def _rfft_ref(x, norm=None):
    axes = tuple(range(1, x.ndim))
    spec = np.fft.rfftn(x, axes=axes, norm="ortho" if norm == "ortho" else None)
    return _packed(spec)


def _irfft_ref(z, n_last, norm=None):
    spec = z[..., 0] + 1j * z[..., 1]
    axes = tuple(range(1, spec.ndim))
    s = spec.shape[1:-1] + (n_last,)
    out = np.fft.irfftn(spec, s=s, axes=axes, norm="ortho" if norm == "ortho" else None)
    if norm == "no_norm":
        out = out * np.prod(s)
    return out


X2 = rng.random((3, 8))
X2ODD = rng.random((2, 7))
X3 = rng.random((2, 4, 6))
Z2 = _rfft_ref(X2)
Z2ODD = _rfft_ref(X2ODD)
Z3 = _rfft_ref(X3)

CASES = [
    Case("rfft_1d", fft.rfft, [X2], _rfft_ref, fft.RFFTOp),
    Case("rfft_odd", fft.rfft, [X2ODD], _rfft_ref, fft.RFFTOp),
    Case("rfft_2d_ortho", lambda x: fft.rfft(x, "ortho"), [X3],
         lambda x: _rfft_ref(x, "ortho"), fft.RFFTOp),
    Case("rfft_float32", fft.rfft, [X2.astype("float32")],
         lambda x: _rfft_ref(x).astype("float32"), fft.RFFTOp, grad=False, rtol=1e-5),
    Case("irfft_1d", fft.irfft, [Z2], lambda z: _irfft_ref(z, 8), fft.IRFFTOp),
    Case("irfft_odd", lambda z: fft.irfft(z, is_odd=True), [Z2ODD],
         lambda z: _irfft_ref(z, 7), fft.IRFFTOp),
    Case("irfft_2d_ortho", lambda z: fft.irfft(z, "ortho"), [Z3],
         lambda z: _irfft_ref(z, 6, "ortho"), fft.IRFFTOp),
    Case("irfft_no_norm", lambda z: fft.irfft(z, "no_norm"), [Z2],
         lambda z: _irfft_ref(z, 8, "no_norm"), fft.IRFFTOp),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


@pytest.mark.parametrize("x,odd", [(X2, False), (X2ODD, True), (X3, False)])
def test_round_trip(x, odd):
    t = T.TensorType("float64", shape=(None,) * x.ndim)()
    back = opcore.function([t], fft.irfft(fft.rfft(t), is_odd=odd))(x)
    np.testing.assert_allclose(back, x, atol=1e-12)


BAD = [
    ("rfft_vector", lambda: fft.rfft(T.dvector()), TypeError, "at least 2 dimensions"),
    ("rfft_complex", lambda: fft.rfft(T.zmatrix()), TypeError, "must be real"),
    ("irfft_matrix", lambda: fft.irfft(T.dmatrix()), TypeError, "at least 3 dimensions"),
    ("norm", lambda: fft.rfft(T.dmatrix(), "forward"), ValueError, "norm must be"),
    ("is_odd", lambda: fft.irfft(T.dtensor3(), is_odd=2), ValueError, "is_odd"),
]


@pytest.mark.parametrize("build,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_irfft_last_axis_must_be_two():
    z = T.dtensor3()
    f = opcore.function([z], fft.irfft(z))
    with pytest.raises(ValueError, match="real, imaginary"):
        f(np.ones((2, 5, 3)))
