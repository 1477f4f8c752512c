"""grad (list/single wrt, consider_constant, known_grads, disconnected inputs), Lop, Rop,
jacobian, hessian and verify_grad itself."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import (DisconnectedInputError, GradientError, Lop, Rop, grad, hessian,
                             jacobian, verify_grad)

RNG = np.random.default_rng(7)

# jacobian/hessian of an unknown-length vector build a scan: check it with and without rewrites
SCAN_MODES = pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])


def test_grad_single_and_list():
    x, y = T.dscalars("x, y")
    cost = x ** 2 * y + T.sin(y)
    gx = grad(cost, x)
    assert isinstance(gx, T.TensorVariable)
    gs = grad(cost, [x, y])
    assert isinstance(gs, list) and len(gs) == 2
    f = opcore.function([x, y], [gx] + gs)
    a, b, c = f(3.0, 2.0)
    assert float(a) == 12.0 and float(b) == 12.0
    assert np.isclose(float(c), 9.0 + np.cos(2.0))
    assert T.grad(cost, x).type == x.type


def test_grad_of_matrix_cost_matches_numpy():
    W = T.dmatrix("W")
    x = T.dvector("x")
    cost = T.sum(T.tanh(T.dot(W, x)) ** 2)
    gW, gx = grad(cost, [W, x])
    Wv, xv = RNG.normal(size=(3, 4)), RNG.normal(size=4)
    h = np.tanh(Wv @ xv)
    dh = 2 * h * (1 - h ** 2)
    got = opcore.function([W, x], [gW, gx])(Wv, xv)
    np.testing.assert_allclose(got[0], np.outer(dh, xv))
    np.testing.assert_allclose(got[1], Wv.T @ dh)


def test_grad_float32_keeps_dtype():
    x = T.fvector("x")
    g = grad(T.sum(x * 2.0 + x ** 2), x)
    assert g.dtype == "float32"
    got = opcore.function([x], g)(np.array([1.0, 2.0], "float32"))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [4.0, 6.0])


def test_consider_constant():
    x = T.dscalar("x")
    y = x ** 2
    cost = y * x
    g = grad(cost, x, consider_constant=[y])
    assert float(opcore.function([x], g)(3.0)) == 9.0  # y treated as a constant
    assert float(opcore.function([x], grad(cost, x))(3.0)) == 27.0


def test_known_grads():
    x = T.dvector("x")
    h = T.exp(x)
    gh = T.dvector("gh")
    g = grad(None, x, known_grads={h: gh})
    xv, ghv = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(opcore.function([x, gh], g)(xv, ghv), ghv * np.exp(xv))


def test_disconnected_inputs():
    x, y = T.dscalars("x, y")
    cost = x * 2
    with pytest.raises(DisconnectedInputError) as info:
        grad(cost, y)
    assert "y" in str(info.value)
    g = grad(cost, [x, y], disconnected_inputs="ignore")
    got = opcore.function([x, y], g)(1.0, 5.0)
    assert [float(v) for v in got] == [2.0, 0.0]
    with pytest.warns(UserWarning, match="does not depend"):
        grad(cost, y, disconnected_inputs="warn")
    with pytest.raises(ValueError, match="disconnected_inputs"):
        grad(cost, x, disconnected_inputs="bogus")


def test_grad_wrt_variable_not_in_graph_names_it():
    x = T.dvector("x")
    other = T.dmatrix("other")
    with pytest.raises(DisconnectedInputError, match="other"):
        grad(T.sum(x), other)


def test_grad_of_non_scalar_cost():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        grad(x * 2, x)
    msg = str(info.value)
    assert "scalar" in msg and "1 dimension" in msg


def test_grad_of_integer_cost_and_bad_wrt():
    # Theano and PyTensor: an integer-valued cost or input has a float zero gradient
    x = T.ivector("x")
    g = grad(T.sum(x), x)
    assert g.dtype == opcore.config.floatX
    np.testing.assert_array_equal(opcore.function([x], g)(np.array([1, 2, 3], "int32")), [0, 0, 0])
    with pytest.raises(TypeError, match="symbolic"):
        grad(T.sum(T.dvector()), 3.0)


def test_grad_through_shared_variable():
    w = opcore.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    g = grad(T.sum((w * x) ** 2), w)
    np.testing.assert_allclose(opcore.function([x], g)(np.array([1.0, 3.0])), [2.0, 36.0])


def test_second_derivatives():
    x = T.dscalar("x")
    g = grad(x ** 3, x)
    gg = grad(g, x)
    assert float(opcore.function([x], gg)(2.0)) == 12.0


@SCAN_MODES
def test_jacobian_vector(mode):
    x = T.dvector("x")
    A = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
    y = T.tanh(T.dot(T.constant(A), x))
    xv = np.array([0.3, -0.2])
    J = jacobian(y, x)
    h = np.tanh(A @ xv)
    ref = (1 - h ** 2)[:, None] * A
    got = opcore.function([x], J, mode=mode)(xv)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, ref)


@SCAN_MODES
def test_jacobian_of_symbolic_length(mode):
    x = T.dvector("x")
    J = jacobian(x ** 2, x)
    xv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(opcore.function([x], J, mode=mode)(xv), np.diag(2 * xv))


@SCAN_MODES
def test_hessian_quadratic_form(mode):
    x = T.dvector("x")
    A = RNG.normal(size=(3, 3))
    cost = T.dot(x, T.dot(T.constant(A), x)) + T.sum(x ** 3)
    H = hessian(cost, x)
    xv = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(opcore.function([x], H, mode=mode)(xv), A + A.T + np.diag(6 * xv))


def test_jacobian_static_length_unrolls():
    x = T.TensorType("float64", shape=(2,))("x")
    y = T.stack([x[0] * x[1], T.sin(x[0])])
    J = jacobian(y, x)
    xv = np.array([0.3, 2.0])
    np.testing.assert_allclose(opcore.function([x], J)(xv),
                               [[2.0, 0.3], [np.cos(0.3), 0.0]])


def test_rop_and_lop_match_jacobian_products():
    W = T.dmatrix("W")
    x = T.dvector("x")
    v = T.dvector("v")
    u = T.dvector("u")
    y = T.exp(T.dot(W, x))
    jv = Rop(y, x, v)
    uj = Lop(y, x, u)
    Wv, xv = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    vv, uv = RNG.normal(size=2), RNG.normal(size=3)
    J = np.exp(Wv @ xv)[:, None] * Wv
    got = opcore.function([W, x, v, u], [jv, uj])(Wv, xv, vv, uv)
    np.testing.assert_allclose(got[0], J @ vv)
    np.testing.assert_allclose(got[1], uv @ J)


def test_rop_through_ops_without_r_op():
    x = T.dmatrix("x")
    v = T.dmatrix("v")
    y = T.sum(x ** 2, axis=1)[::-1]  # Subtensor has R_op, Sum uses R_op; pow via Elemwise
    r = Rop(y, x, v)
    xv, vv = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(opcore.function([x, v], r)(xv, vv), (2 * xv * vv).sum(1)[::-1])


def test_rop_bad_eval_point():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="rank"):
        Rop(x * 2, x, T.dmatrix())


def test_verify_grad_detects_wrong_gradient():
    class BadSquare(opcore.Op):
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return opcore.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0] ** 2

        def grad(self, inputs, g):
            return [g[0] * inputs[0]]  # should be 2 * x

    with pytest.raises(GradientError, match="finite differences"):
        verify_grad(BadSquare(), [np.array([1.0, 2.0])])
    with pytest.raises(TypeError, match="float"):
        verify_grad(T.exp, [np.array([1, 2])])


def test_undefined_gradient_is_an_error():
    x = T.dvector("x")
    i = T.lvector("i")
    # the gradient w.r.t. an integer index does not exist; w.r.t. x it does
    cost = T.sum(x[i])
    g = grad(cost, x)
    np.testing.assert_array_equal(opcore.function([x, i], g)(np.zeros(3), np.array([0, 0])),
                                  [2.0, 0.0, 0.0])


def test_grad_names():
    x = T.dscalar("x")
    c = x ** 2
    c.name = "c"
    assert grad(c, x).name == "(dc/dx)"


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_grad_of_discrete_switch_is_zero(mode):
    # pymc-devs/pytensor#331: grad(switch(0, x, -x), x) for an integer x is a float zero
    xi = T.lscalar("xi")
    gi = grad(T.switch(0, xi, -xi), xi)
    assert gi.dtype.startswith("float")
    assert opcore.function([xi], gi, mode=mode, on_unused_input="ignore")(3) == 0
    xf, c = T.dscalar("xf"), T.lscalar("c")
    f = opcore.function([c, xf], grad(T.switch(c, xf, -xf), xf), mode=mode)
    assert (f(1, 2.0), f(0, 2.0)) == (1.0, -1.0)
    g = opcore.function([xf], grad(T.switch(0, xf, -xf), xf), mode=mode)
    assert g(2.0) == -1.0


class _NoiseOfShape(opcore.Op):
    """A dropout-like mask made from a shape vector; its gradient w.r.t. the shape is undefined."""

    __props__ = ()

    def make_node(self, size):
        size = T.as_tensor_variable(size)
        return opcore.Apply(self, [size], [T.dvector()])

    def perform(self, node, inputs, outputs):
        (n,) = inputs[0]
        outputs[0][0] = (np.arange(n) % 2).astype("float64")

    def grad(self, inputs, output_grads):
        from opcore.graph.null import grad_undefined_for

        return [grad_undefined_for(self, 0, inputs[0], "a random size")]


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_undefined_gradient_stops_at_connection_pattern(mode):
    # Theano: Shape's connection pattern cuts the path from x to the mask's size input, so the
    # undefined gradient for the size never reaches x (dropout relies on this)
    x = T.dvector("x")
    noise = _NoiseOfShape()(x.shape)
    g = grad((x * noise).sum(), x)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(opcore.function([x], g, mode=mode)(xv), [0, 1, 0, 1])
    # a connected path still carries the undefined gradient
    with pytest.raises(opcore.gradient.NullTypeGradError, match="random size"):
        grad((x * _NoiseOfShape()(T.cast(x, "int64"))).sum(), x)


def test_rop_of_a_gradient_is_a_hessian_vector_product():
    # Theano's docs (gradients tutorial): Hv of sum(x ** 2) at x=[4, 4], v=[2, 2] is [4, 4]
    x, v = T.dvectors("x", "v")
    gy = grad(T.sum(x ** 2), x)
    f = opcore.function([x, v], Rop(gy, x, v))
    np.testing.assert_array_equal(f([4.0, 4.0], [2.0, 2.0]), [4.0, 4.0])
    # a shape has no tangent: d(n * x) v = n * v
    g = opcore.function([x, v], Rop(x.shape[0] * x, x, v))
    np.testing.assert_array_equal(g(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 2.0])),
                                  [3.0, 0.0, 6.0])
    # against the Hessian itself on a non-quadratic cost
    cost = T.sum(T.exp(x) * x[::-1])
    hv = opcore.function([x, v], Rop(grad(cost, x), x, v))
    H = opcore.function([x], hessian(cost, x))
    xv, vv = np.array([0.1, -0.3, 0.7]), np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(hv(xv, vv), H(xv) @ vv, rtol=1e-12)
