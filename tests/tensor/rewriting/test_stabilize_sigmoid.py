"""The hand-written logistic function becomes ``sigmoid`` and stays finite (Theano's tutorial)."""

import pickle

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode


def _ops(f):
    return {getattr(getattr(n.op, "scalar_op", None), "name", str(n.op))
            for n in f.maker.fgraph.apply_nodes}


def test_one_over_one_plus_exp_is_sigmoid():
    x = T.dvector("x")
    f = opcore.function([x], 1 / (1 + T.exp(-x)), mode=Mode(linker="py").excluding("fusion"))
    assert "sigmoid" in _ops(f)
    v = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(f(v), 0.5 * (1 + np.tanh(v / 2)), rtol=1e-12, atol=0)
    off = opcore.function([x], 1 / (1 + T.exp(-x)),
                          mode=Mode(linker="py").excluding("sigmoid_from_exp", "fusion"))
    assert "sigmoid" not in _ops(off)


def test_one_minus_sigmoid_has_no_cancellation():
    x = T.dvector("x")
    f = opcore.function([x], 1 - T.sigmoid(x), mode=Mode(linker="py"))
    v = np.array([40.0, 60.0])
    assert np.all(f(v) > 0)
    np.testing.assert_allclose(f(v), np.exp(-v) / (1 + np.exp(-v)), rtol=1e-12)


def test_tutorial_logistic_regression_is_finite_learns_and_pickles():
    rng = np.random.default_rng(0)
    n, feats = 400, 784
    data = (rng.standard_normal((n, feats)), rng.integers(0, 2, n).astype("float64"))
    x, y = T.dmatrix("x"), T.dvector("y")
    w = opcore.shared(rng.standard_normal(feats), name="w")
    b = opcore.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = opcore.function([x, y], [p_1 > 0.5, xent],
                            updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    for _ in range(1000):
        pred, xe = train(*data)
    assert np.all(np.isfinite(xe)) and np.all(np.isfinite(w.get_value()))
    assert (pred == data[1]).mean() > 0.98
    again = pickle.loads(pickle.dumps(train))
    assert len(again(*data)) == 2
