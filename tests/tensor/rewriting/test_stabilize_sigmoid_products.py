"""Quotients and products of ``exp`` that are sigmoids become ``sigmoid`` (Theano's
``local_exp_over_1_plus_exp`` and ``local_sigm_times_exp``): the values of the unrewritten graph
where it is finite, and finite where it overflows (reference: ``scipy.special.expit``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

import opcore
import opcore.tensor as T
from opcore.compile import Mode

RULES = ("sigmoid_from_exp", "sigmoid_times_exp")
# fusion off: the scalar ops stay visible as nodes
ON = Mode(linker="py").excluding("fusion")
OFF = Mode(linker="py").excluding("fusion", *RULES)
TOL = {"float32": 2e-6, "float64": 1e-13}
BIG = {"float32": 100.0, "float64": 1000.0}


def _scalar_names(f) -> set:
    return {getattr(getattr(n.op, "scalar_op", None), "name", None)
            for n in f.maker.fgraph.apply_nodes}


def _check(inputs, out, vals, ref, dtype):
    f = opcore.function(inputs, out, mode=ON, on_unused_input="ignore")
    g = opcore.function(inputs, out, mode=OFF, on_unused_input="ignore")
    names = _scalar_names(f)
    assert "exp" not in names and "sigmoid" in names, names
    moderate = [np.clip(v, -5, 5).astype(dtype) for v in vals]
    np.testing.assert_allclose(f(*moderate), g(*moderate), rtol=TOL[dtype] * 10,
                               atol=TOL[dtype])
    with np.errstate(all="ignore"):
        got = f(*vals)
    assert got.dtype == dtype and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref(*[v.astype("float64") for v in vals]).astype(dtype),
                               rtol=TOL[dtype] * 10, atol=TOL[dtype])


def _vals(dtype, n=2):
    big = BIG[dtype]
    a = np.array([-big, -30.0, -1.5, 0.0, 0.7, 30.0, big], dtype)
    c = np.linspace(-2, 3, a.size).astype(dtype)
    return [a, c][:n]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_of_log_one_plus_exp_is_sigmoid(dtype):
    """The RBM free energy's ``log(1 + exp(a))``: its gradient is ``sigmoid(a)``."""
    a = T.vector("a", dtype=dtype)
    c = T.vector("c", dtype=dtype)
    g = opcore.grad((c * T.log(1 + T.exp(a))).sum(), a)
    _check([a, c], g, _vals(dtype), lambda a, c: c * expit(a), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numerator_without_exp(dtype):
    a = T.vector("a", dtype=dtype)
    c = T.vector("c", dtype=dtype)
    _check([a, c], c / (1 + T.exp(a)), _vals(dtype), lambda a, c: c * expit(-a), dtype)
    _check([a, c], (c * 3) / (T.exp(a) + 1), _vals(dtype), lambda a, c: c * 3 * expit(-a), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exp_factor_of_the_numerator_cancels(dtype):
    a = T.vector("a", dtype=dtype)
    c = T.vector("c", dtype=dtype)
    _check([a, c], (c * T.exp(a)) / (1 + T.exp(a)), _vals(dtype),
           lambda a, c: c * expit(a), dtype)
    _check([a, c], (T.exp(a) * c * c) / (1 + T.exp(a)), _vals(dtype),
           lambda a, c: c * c * expit(a), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exp_times_sigmoid_of_the_negation(dtype):
    a = T.vector("a", dtype=dtype)
    c = T.vector("c", dtype=dtype)
    _check([a, c], T.exp(a) * T.sigmoid(-a), _vals(dtype), lambda a, c: expit(a) + 0 * c,
           dtype)
    _check([a, c], c * T.sigmoid(a) * (T.exp(-a) * c), _vals(dtype),
           lambda a, c: c * c * expit(-a), dtype)


def test_unrelated_exp_and_sigmoid_stay():
    a, b = T.dvector("a"), T.dvector("b")
    out = T.exp(a) * T.sigmoid(-b) + T.exp(b) / (2 + T.exp(a))
    f = opcore.function([a, b], out, mode=ON)
    g = opcore.function([a, b], out, mode=OFF)
    assert "exp" in _scalar_names(f)
    va, vb = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.25, -3.0])
    np.testing.assert_allclose(f(va, vb), g(va, vb), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_denominator_with_several_factors(dtype):
    """The gradient of the hand-written logistic function (Theano's logistic-regression
    tutorial) divides by ``(1 + exp(-z)) ** 2``; each factor becomes a sigmoid."""
    a = T.vector("a", dtype=dtype)
    c = T.vector("c", dtype=dtype)
    g = opcore.grad((c * (1 / (1 + T.exp(-a)))).sum(), a)
    _check([a, c], g, _vals(dtype), lambda a, c: c * expit(a) * expit(-a), dtype)
    _check([a, c], (c * T.exp(a)) / ((1 + T.exp(a)) * (c * c + 1) * (T.exp(a) + 1)),
           _vals(dtype), lambda a, c: c * expit(a) * expit(-a) / (c * c + 1), dtype)
