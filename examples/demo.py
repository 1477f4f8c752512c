"""Demo: softmax regression on scikit-learn's bundled handwritten digits (offline).

Trains with minibatch gradient descent using only core ops (softmax written with exp/sum),
printing the loss per epoch and the test accuracy.

Run: python examples/demo.py [--epochs 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import opcore
import opcore.tensor as T


def load_digits_split(seed: int = 0):
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.data / 16.0).astype(opcore.config.floatX)
    y = data.target.astype("int32")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    n_train = int(0.75 * len(X))
    mean = X[:n_train].mean(axis=0)
    std = X[:n_train].std(axis=0) + 0.1
    X = ((X - mean) / std).astype(opcore.config.floatX)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def softmax(z):
    e = T.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def build(n_in: int, n_out: int, lr: float = 0.1, l2: float = 1e-4):
    x = T.matrix("x")
    y = T.ivector("y")
    W = opcore.shared(np.zeros((n_in, n_out), dtype=opcore.config.floatX), name="W")
    b = opcore.shared(np.zeros(n_out, dtype=opcore.config.floatX), name="b")
    p = softmax(T.dot(x, W) + b)
    nll = -T.mean(T.log(p[T.arange(y.shape[0]), y]))
    cost = nll + l2 * (W ** 2).sum()
    gW, gb = T.grad(cost, [W, b])
    train = opcore.function([x, y], nll, updates=[(W, W - lr * gW), (b, b - lr * gb)],
                            name="train")
    predict = opcore.function([x], T.argmax(p, axis=1), name="predict")
    return train, predict


def main(epochs: int = 30, batch: int = 50) -> float:
    t0 = time.perf_counter()
    (Xtr, ytr), (Xte, yte) = load_digits_split()
    train, predict = build(Xtr.shape[1], 10)
    rng = np.random.default_rng(1)
    for epoch in range(epochs):
        order = rng.permutation(len(Xtr))
        losses = []
        for k in range(0, len(Xtr), batch):
            idx = order[k:k + batch]
            losses.append(float(train(Xtr[idx], ytr[idx])))
        print(f"epoch {epoch + 1:3d}  loss {np.mean(losses):.4f}")
    acc = float(np.mean(predict(Xte) == yte))
    print(f"test accuracy: {acc:.4f} ({len(Xte)} held-out digits)")
    print(f"time: {time.perf_counter() - t0:.1f} s")
    return acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=30)
    main(ap.parse_args().epochs)
