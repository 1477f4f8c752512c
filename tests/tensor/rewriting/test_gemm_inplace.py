"""``gemm_inplace``: an SGD step's Gemm writes into the weight it replaces (Theano's
gemm_inplace), only when nothing reads the old weight afterwards; values equal the graph
without the rewrite and NumPy's."""

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.graph.destroyhandler import view_root
from opcore.tensor.blas import Gemm

ON = Mode(linker="py")
OFF = Mode(linker="py").excluding("gemm_inplace")


def _gemms(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemm)]


def _mlp(dtype, mode):
    """A 2-layer net's SGD step: W1, W2 read by the forward pass, W2 also by the backward
    pass's ``dot(d, W2.T)``, which the W2 update does not depend on."""
    rng = np.random.RandomState(0)
    W1 = opcore.shared(rng.randn(7, 5).astype(dtype), name="W1")
    W2 = opcore.shared(rng.randn(5, 3).astype(dtype), name="W2")
    x = T.matrix("x", dtype=dtype)
    h = T.tanh(T.dot(x, W1))
    cost = (T.dot(h, W2) ** 2).sum()
    gW1, gW2 = opcore.grad(cost, [W1, W2])
    lr = np.asarray(0.01, dtype=dtype)
    f = opcore.function([x], cost, updates=[(W1, W1 - lr * gW1), (W2, W2 - lr * gW2)],
                        mode=mode)
    return f, W1, W2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["py", "c"])
def test_sgd_step_gemms_in_place_with_the_same_values(dtype, backend):
    if backend == "c":
        pytest.importorskip("opcore_cpu_c")
    X = np.random.RandomState(1).randn(4, 7).astype(dtype)
    f_on, W1_on, W2_on = _mlp(dtype, Mode(backend=backend))
    f_off, W1_off, W2_off = _mlp(dtype, OFF)
    ops = [n.op for n in _gemms(f_on)]
    assert len(ops) == 2 and all(op.inplace for op in ops), ops
    assert not any(n.op.inplace for n in _gemms(f_off))
    # the reader of W2 that the W2 update does not depend on runs before it
    order = f_on.maker.fgraph.toposort()
    w2 = f_on.maker.fgraph.inputs[-1]
    for g in _gemms(f_on):
        if g.inputs[0] is w2:
            readers = [n for n in order if n is not g and any(
                view_root(i) is w2 for i in n.inputs) and not n.op.view_map]
            assert readers and all(order.index(r) < order.index(g) for r in readers)
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    for _ in range(3):
        np.testing.assert_allclose(f_on(X), f_off(X), **tol)
        np.testing.assert_allclose(W1_on.get_value(), W1_off.get_value(), **tol)
        np.testing.assert_allclose(W2_on.get_value(), W2_off.get_value(), **tol)
    # and NumPy's step, from the same start
    rng = np.random.RandomState(0)
    W1, W2 = rng.randn(7, 5).astype("float64"), rng.randn(5, 3).astype("float64")
    for _ in range(3):
        h = np.tanh(X @ W1)
        d = 2 * (h @ W2)
        gW2, gW1 = h.T @ d, X.T @ ((d @ W2.T) * (1 - h * h))
        W1, W2 = W1 - 0.01 * gW1, W2 - 0.01 * gW2
    np.testing.assert_allclose(W1_on.get_value(), W1, rtol=1e-4 if dtype == "float32" else 1e-10)
    np.testing.assert_allclose(W2_on.get_value(), W2, rtol=1e-4 if dtype == "float32" else 1e-10)


def _step(outputs, updates, dtype="float64"):
    W = opcore.shared(np.arange(12.0).reshape(4, 3).astype(dtype), name="W")
    x, g = T.matrix("x", dtype=dtype), T.matrix("g", dtype=dtype)
    new = W - np.asarray(0.5, dtype=dtype) * T.dot(x.T, g)
    outs, ups = outputs(W, new), ([(W, new)] if updates else [])
    return W, [x, g], outs, ups


@pytest.mark.parametrize("case", ["not_updated", "old_value_output", "read_after"])
def test_weight_still_needed_is_not_overwritten(case):
    """The old W is needed after the Gemm: W not replaced by an update (the shared value must
    survive), W itself an output, a reader of W that depends on the Gemm's result."""
    xv = np.random.RandomState(2).randn(5, 4)
    gv = np.random.RandomState(3).randn(5, 3)
    results = []
    for mode in (ON, OFF):
        if case == "not_updated":
            W, ins, outs, ups = _step(lambda W, new: [new], updates=False)
        elif case == "old_value_output":
            W, ins, outs, ups = _step(lambda W, new: [W * 1, new.sum()], updates=True)
        else:
            W, ins, outs, ups = _step(lambda W, new: [(W * new).sum()], updates=True)
        f = opcore.function(ins, outs, updates=ups, mode=mode)
        if mode is ON:
            assert _gemms(f) and not any(n.op.inplace for n in _gemms(f))
        w0 = W.get_value()
        res = [np.asarray(r).copy() for r in f(xv, gv)]
        results.append((res, W.get_value()))
        if case == "not_updated":
            np.testing.assert_array_equal(W.get_value(), w0)
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    W0 = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(results[0][1], W0 - 0.5 * xv.T @ gv if case != "not_updated"
                               else W0, rtol=1e-12)


def test_perform_writes_into_z():
    """The reference ``perform`` of Gemm{inplace} gives NumPy's value in z's own buffer, also
    when z is a view of x (x is read before z is written); the function's value is the same."""
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    node = Gemm(inplace=True)(z, -0.5, x, y, 2.0).owner
    rng = np.random.RandomState(4)
    big, Y = rng.randn(4, 4), rng.randn(4, 2)
    for Z, X in ((rng.randn(4, 2), rng.randn(4, 4)), (big[:, :2], big)):
        want = 2.0 * Z.copy() - 0.5 * X.copy() @ Y
        out = [None]
        node.op.perform(node, [Z, np.asarray(-0.5), X, Y, np.asarray(2.0)], [out])
        np.testing.assert_allclose(out[0], want, rtol=1e-12)
        assert out[0] is Z
    f = opcore.function([opcore.In(z, mutable=True), x, y], node.outputs[0],
                        mode=Mode(linker="py", optimizer=None))
    Z, X = rng.randn(4, 2), rng.randn(4, 4)
    np.testing.assert_allclose(f(Z.copy(), X, Y), 2.0 * Z - 0.5 * X @ Y, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["py", "c"])
def test_step_on_a_sum_of_two_products_is_two_gemms_into_the_weight(dtype, backend):
    """An RBM-like step ``W - lr * (dot(v.T, h) - dot(x.T, g))``: the products' Gemm folds into
    the step (``Gemm(Gemm(W, -lr, v.T, h, 1), lr, x.T, g, 1)``), both in place on W; the
    values are the unrewritten graph's and NumPy's."""
    if backend == "c":
        pytest.importorskip("opcore_cpu_c")
    rng = np.random.RandomState(5)
    W0 = rng.randn(6, 4).astype(dtype)
    V, H, X, G = (rng.randn(3, n).astype(dtype) for n in (6, 4, 6, 4))
    results = []
    for mode in (Mode(backend=backend), Mode(linker="py", optimizer=None)):
        W = opcore.shared(W0.copy(), name="W")
        v, h, x, g = (T.matrix(n, dtype=dtype) for n in "vhxg")
        lr = np.asarray(0.1, dtype=dtype)
        step = W - lr * (T.dot(v.T, h) - T.dot(x.T, g))
        f = opcore.function([v, h, x, g], [], updates=[(W, step)], mode=mode)
        if mode.optimizer is not None:
            gemms = _gemms(f)
            assert len(gemms) == 2 and all(n.op.inplace for n in gemms)
            assert sum(1 for n in f.maker.fgraph.apply_nodes if "Dot" in str(n.op)) == 0
        for _ in range(2):
            f(V, H, X, G)
        results.append(W.get_value())
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)
    np.testing.assert_allclose(results[0], results[1], **tol)
    want = W0.astype("float64") - 2 * 0.1 * (V.T @ H - X.T @ G).astype("float64")
    np.testing.assert_allclose(results[0], want, **tol)


def test_temporary_z_stays_a_new_array():
    """A Gemm accumulating onto a temporary product (a sum of products, no update) is left out
    of place: only a function input's buffer (an updated weight) is written in place."""
    a, b, c, d = (T.dmatrix(n) for n in "abcd")
    f = opcore.function([a, b, c, d], T.dot(a, b) + 2.0 * T.dot(c, d), mode=ON)
    gemms = _gemms(f)
    assert gemms and not any(n.op.inplace for n in gemms)
    r = np.random.RandomState(6)
    A, B, C, D = (r.randn(3, 3) for _ in range(4))
    np.testing.assert_allclose(f(A, B, C, D), A @ B + 2.0 * C @ D, rtol=1e-12)
