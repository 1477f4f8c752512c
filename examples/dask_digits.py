"""Data-parallel training and batched inference on Dask: an MLP on scikit-learn's 8x8 digits.

Starts a ``LocalCluster`` with 2 worker processes, trains a one-hidden-layer MLP with synchronous
data-parallel SGD (``opcore.dask.DataParallel``: each minibatch is split over the workers, their
gradients are summed on the driver), prints the loss per epoch, then predicts the held-out digits
as a chunked dask array with ``opcore.dask.map_blocks`` and prints the accuracy.

Needs ``pip install opcore[dask] scikit-learn``.
Run: python examples/dask_digits.py [--epochs 10] [--workers 2] [--hidden 64]
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits

import opcore
import opcore.tensor as T
from opcore.dask import DataParallel, map_blocks


def load(seed: int = 0):
    data = load_digits()
    X = (data.data / 16.0).astype("float64")
    y = data.target.astype("int32")
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    n_train = int(0.75 * len(X))
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def build(n_in: int, n_hidden: int, n_out: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x, y = T.dmatrix("x"), T.ivector("y")
    W1 = opcore.shared(rng.normal(scale=1 / np.sqrt(n_in), size=(n_in, n_hidden)), name="W1")
    b1 = opcore.shared(np.zeros(n_hidden), name="b1")
    W2 = opcore.shared(rng.normal(scale=1 / np.sqrt(n_hidden), size=(n_hidden, n_out)), name="W2")
    b2 = opcore.shared(np.zeros(n_out), name="b2")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = -T.mean(T.log(p[T.arange(y.shape[0]), y]))  # a mean over the rows of the minibatch
    predict = opcore.function([x], T.argmax(p, axis=1), name="predict")
    return x, y, [W1, b1, W2, b2], loss, predict


def main(epochs: int = 10, workers: int = 2, hidden: int = 64, batch: int = 200,
         lr: float = 0.5) -> float:
    (Xtr, ytr), (Xte, yte) = load()
    x, y, params, loss, predict = build(Xtr.shape[1], hidden, 10)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dp = DataParallel(loss, params, [x, y], client, lr=lr)
        rng = np.random.default_rng(2)
        for epoch in range(epochs):
            t0 = time.perf_counter()
            order = rng.permutation(len(Xtr))
            losses = [dp.step(Xtr[order[k:k + batch]], ytr[order[k:k + batch]])
                      for k in range(0, len(Xtr), batch)]
            print(f"epoch {epoch + 1:3d}  loss {np.mean(losses):.4f}  "
                  f"({time.perf_counter() - t0:.2f} s on {workers} workers)")
        # predict reads the trained parameters: it is pickled (with their values) when computed
        images = da.from_array(Xte, chunks=(100, Xte.shape[1]))
        labels = map_blocks(predict, images)
        acc = float((labels.compute() == yte).mean())
    print(f"test accuracy: {acc:.4f} ({len(Xte)} held-out digits, "
          f"{images.numblocks[0]} blocks)")
    return acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    main(**vars(ap.parse_args()))
