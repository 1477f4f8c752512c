"""Theano's special functions (arccosh, arcsinh, arctanh, erfc, erfcx, erfinv, erfcinv,
gammaln, gamma, psi, tri_gamma, j0, j1, i0, i1, jv, iv, gammainc, gammaincc, gammau, gammal) against SciPy: values and
dtypes on every backend, gradients by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from tests.tensor.family_cases import Case, check_grad, family_tests

sp = pytest.importorskip("scipy.special")

rng = np.random.default_rng(4)
POS = rng.random((3, 4)) * 3 + 0.5          # (0.5, 3.5)
UNIT = rng.random((3, 4)) * 1.6 - 0.8       # (-0.8, 0.8)
ABOVE1 = rng.random((3, 4)) * 3 + 1.2       # (1.2, 4.2)

UNARY = [
    ("arccosh", ABOVE1, np.arccosh), ("arcsinh", UNIT * 3, np.arcsinh),
    ("arctanh", UNIT, np.arctanh), ("erfc", UNIT * 2, sp.erfc), ("erfcx", UNIT * 2, sp.erfcx),
    ("erfinv", UNIT, sp.erfinv), ("erfcinv", UNIT + 1, sp.erfcinv),
    ("gammaln", POS, sp.gammaln), ("gamma", POS, sp.gamma), ("psi", POS, sp.psi),
    ("tri_gamma", POS, lambda x: sp.polygamma(1, x)), ("j0", POS, sp.j0), ("j1", POS, sp.j1),
    ("i0", POS, sp.i0), ("i1", POS, sp.i1),
]

CASES = [Case(name, getattr(T, name), [v], ref, grad=name != "tri_gamma", rtol=1e-10)
         for name, v, ref in UNARY]
CASES += [Case(f"{name}_float32", getattr(T, name), [v.astype("float32")],
               lambda x, ref=ref: ref(x).astype("float32"), grad=False, rtol=2e-5)
          for name, v, ref in UNARY if name not in ("tri_gamma",)]
CASES += [
    Case("gammaln_int_gives_float64", T.gammaln, [np.array([1, 2, 5])],
         lambda x: sp.gammaln(x).astype("float64"), grad=False),
    Case("gammainc", T.gammainc, [POS, POS[::-1]], sp.gammainc, grad_args=[1]),
    Case("gammaincc", T.gammaincc, [POS, POS[::-1]], sp.gammaincc, grad_args=[1]),
    Case("gammau", T.gammau, [POS, POS[::-1]], lambda k, x: sp.gammaincc(k, x) * sp.gamma(k),
         grad_args=[1]),
    Case("gammal", T.gammal, [POS, POS[::-1]], lambda k, x: sp.gammainc(k, x) * sp.gamma(k),
         grad_args=[1]),
    Case("jv", T.jv, [np.array([0.0, 1.5, 2.0, 3.0]), POS[0]], sp.jv, grad_args=[1]),
    Case("iv", T.iv, [np.array([0.0, 1.5, 2.0, 3.0]), POS[0]], sp.iv, grad_args=[1]),
]


test_values, test_infer_shape, test_grad = family_tests(CASES)


def test_gammainc_gradient_wrt_k_is_not_implemented():
    k, x = T.dscalars("k", "x")
    with pytest.raises(opcore.gradient.NullTypeGradError):
        opcore.grad(T.gammainc(k, x), k)


def test_missing_scipy_names_the_package(monkeypatch):
    from opcore import optional

    def fail(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(optional.importlib, "import_module", fail)
    x = T.dvector("x")
    f = opcore.function([x], T.gammaln(x), mode=opcore.compile.Mode(backend="py"))
    with pytest.raises(ImportError, match="gammaln op needs scipy.special.*pip install scipy"):
        f(np.ones(2))


ZV = np.array([1 + 2j, -3 + 0.5j, 0 - 1j])


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name,ref", [("real", np.real), ("imag", np.imag), ("conj", np.conj),
                                      ("angle", np.angle), ("abs", np.abs)])
def test_complex_parts_match_numpy(name, ref, dtype):
    z = T.TensorType(dtype, shape=(None,))("z")
    out = getattr(T, name)(z)
    got = opcore.function([z], out)(ZV.astype(dtype))
    want = ref(ZV.astype(dtype))
    assert out.dtype == got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_complex_of_real_inputs():
    a, b = T.dvector("a"), T.dvector("b")
    assert T.complex(a, b).dtype == "complex128"
    assert T.complex(T.fvector(), T.fvector()).dtype == "complex64"
    assert T.real(a) is a and T.imag(a).dtype == "float64"
    av, bv = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    f = opcore.function([a, b], [T.complex(a, b), T.complex_from_polar(a, b)])
    z, p = f(av, bv)
    np.testing.assert_array_equal(z, av + 1j * bv)
    np.testing.assert_allclose(p, av * np.exp(1j * bv))


def test_gradients_through_complex_parts():
    # Theano's convention: d real(z) = complex(g, 0), d imag(z) = complex(0, g)
    check_grad(Case("real_imag_of_complex", lambda x, y: T.real(T.complex(x, y)) * x
                    + 2 * T.imag(T.complex(x, y)), [POS[0], UNIT[0]], None))
