"""A dropout MLP trains on scikit-learn's digits with either random-stream API."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.sandbox.rng_mrg import MRG_RandomStreams
from opcore.tensor.random import RandomStream


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    X = (d.data / 16.0).astype("float64")
    y = d.target.astype("int32")
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    return (X[:1300], y[:1300]), (X[1300:], y[1300:])


def _dropout(kind, srng, h, p_keep):
    if kind == "mrg":
        mask = srng.binomial(size=h.shape, p=p_keep, dtype=h.dtype)
    else:
        mask = T.cast(srng.uniform(size=h.shape) < p_keep, h.dtype)
    return h * mask / p_keep


@pytest.mark.parametrize("kind", ["mrg", "generator"])
def test_dropout_mlp_trains_on_digits(kind):
    (Xtr, ytr), (Xte, yte) = _digits()
    rs = np.random.default_rng(1)
    srng = MRG_RandomStreams(42) if kind == "mrg" else RandomStream(42)
    x, y = T.dmatrix("x"), T.ivector("y")
    W1 = opcore.shared(rs.normal(0, 0.1, (64, 64)), name="W1")
    b1 = opcore.shared(np.zeros(64), name="b1")
    W2 = opcore.shared(rs.normal(0, 0.1, (64, 10)), name="W2")
    b2 = opcore.shared(np.zeros(10), name="b2")

    def net(inp, train):
        h = T.tanh(T.dot(_dropout(kind, srng, inp, 0.9) if train else inp, W1) + b1)
        h = _dropout(kind, srng, h, 0.7) if train else h
        return T.nnet.softmax(T.dot(h, W2) + b2)

    p = net(x, True)
    nll = -T.mean(T.log(p[T.arange(y.shape[0]), y]))
    params = [W1, b1, W2, b2]
    grads = T.grad(nll, params)
    train = opcore.function([x, y], nll, updates=[(q, q - 0.3 * g) for q, g in zip(params, grads)])
    predict = opcore.function([x], T.argmax(net(x, False), axis=1))
    first = last = None
    for epoch in range(8):
        losses = [float(train(Xtr[i:i + 100], ytr[i:i + 100])) for i in range(0, len(Xtr), 100)]
        first = np.mean(losses) if first is None else first
        last = np.mean(losses)
    acc = (predict(Xte) == yte).mean()
    assert last < first
    assert acc > 0.9, acc
