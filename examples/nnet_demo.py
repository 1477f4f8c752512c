"""Train softmax regression, an MLP and a LeNet-style CNN on scikit-learn's digits (offline).

    python examples/nnet_demo.py                 # all three models, best backend (FAST_RUN)
    python examples/nnet_demo.py --backend py    # the pure Python/NumPy backend
    python examples/nnet_demo.py --models mlp --epochs 20
    python examples/nnet_demo.py --plot curves.png   # where the training-curve plot goes

With matplotlib installed it saves a plot of cost and test accuracy per epoch
(``opcore-demo-training.png`` in the current folder unless ``--plot`` says otherwise).

Written the Theano way (``import opcore as theano``): shared data sets, minibatches selected
with ``givens``, SGD updates, ``T.nnet`` ops.  Needs ``pip install -e plugins/nnet`` and
scikit-learn.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, Callable

import numpy as np

import opcore as theano
import opcore.tensor as T


def load_digits_split(seed: int = 0, test_fraction: float = 0.25) -> tuple:
    """(train_x, train_y, test_x, test_y): 8x8 digits scaled to [0, 1], a seeded random split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype("float64")
    y = d.target.astype("int32")
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def _init(rng: np.random.Generator, shape: tuple, fan_in: int, fan_out: int) -> Any:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return theano.shared(rng.uniform(-bound, bound, shape), borrow=True)


def build(model: str, x: Any, rng: np.random.Generator) -> tuple[Any, list]:
    """The class probabilities of ``model`` for the flat input batch ``x`` and its parameters."""
    if model == "softmax":
        W = theano.shared(np.zeros((64, 10)), name="W")
        b = theano.shared(np.zeros(10), name="b")
        return T.nnet.softmax(T.dot(x, W) + b), [W, b]
    if model == "mlp":
        W1, b1 = _init(rng, (64, 100), 64, 100), theano.shared(np.zeros(100))
        W2, b2 = theano.shared(np.zeros((100, 10))), theano.shared(np.zeros(10))
        h = T.tanh(T.dot(x, W1) + b1)
        return T.nnet.softmax(T.dot(h, W2) + b2), [W1, b1, W2, b2]
    if model == "cnn":
        img = x.reshape((x.shape[0], 1, 8, 8))
        F1, c1 = _init(rng, (12, 1, 3, 3), 9, 12 * 9), theano.shared(np.zeros(12))
        conv = T.nnet.conv2d(img, F1, border_mode="half") + c1.dimshuffle("x", 0, "x", "x")
        pooled = T.nnet.pool.pool_2d(T.nnet.relu(conv), (2, 2), ignore_border=True)
        flat = pooled.flatten(2)  # (batch, 12 * 4 * 4)
        W, b = _init(rng, (192, 10), 192, 10), theano.shared(np.zeros(10))
        return T.nnet.softmax(T.dot(flat, W) + b), [F1, c1, W, b]
    raise ValueError(f"unknown model {model!r}; use softmax, mlp or cnn")


def train(model: str, data: tuple, epochs: int, lr: float, batch_size: int = 32,
          mode: Any = None, seed: int = 0, log: Callable[[str], None] = print,
          history: list | None = None) -> float:
    """Train ``model`` with minibatch SGD; prints one line per epoch; returns test accuracy.

    ``history``, when given, receives one ``(epoch, mean cost, test accuracy)`` per epoch.
    """
    train_x, train_y, test_x, test_y = data
    sx, sy = theano.shared(train_x, borrow=True), theano.shared(train_y, borrow=True)
    rng = np.random.default_rng(seed)
    index = T.lscalar("index")
    x, y = T.dmatrix("x"), T.ivector("y")
    p_y, params = build(model, x, rng)
    # the Theano tutorial's negative log-likelihood; a stabilising rewrite fuses it
    cost = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    grads = T.grad(cost, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    batch = slice(index * batch_size, (index + 1) * batch_size)
    train_fn = theano.function([index], cost, updates=updates, mode=mode,
                               givens={x: sx[batch], y: sy[batch]})
    predict = theano.function([x], T.argmax(p_y, axis=1), mode=mode)
    n_batches = len(train_y) // batch_size
    acc = 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        costs = [train_fn(i) for i in range(n_batches)]
        acc = float(np.mean(predict(test_x) == test_y))
        if history is not None:
            history.append((epoch, float(np.mean(costs)), acc))
        log(f"{model:8s} epoch {epoch:3d}  cost {np.mean(costs):.4f}  test accuracy "
            f"{acc * 100:6.2f}%  ({time.perf_counter() - t0:.2f} s)")
    return acc


def save_plot(histories: dict[str, list], path: str) -> str | None:
    """Plot cost and test accuracy per epoch for each model into ``path`` (PNG).

    Returns the path written, or None when matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (ax_cost, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for model, rows in histories.items():
        epochs = [r[0] for r in rows]
        ax_cost.plot(epochs, [r[1] for r in rows], marker="o", label=model)
        ax_acc.plot(epochs, [100 * r[2] for r in rows], marker="o", label=model)
    ax_cost.set(xlabel="epoch", ylabel="mean training cost (NLL)", yscale="log",
                title="training cost")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    for ax in (ax_cost, ax_acc):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("opcore on scikit-learn's digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


SETTINGS = {"softmax": (30, 0.5), "mlp": (30, 0.2), "cnn": (12, 0.1)}


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="softmax,mlp,cnn")
    ap.add_argument("--epochs", type=int, default=None, help="override the per-model epochs")
    ap.add_argument("--backend", default=None, help="py, c, ... (default: best healthy)")
    ap.add_argument("--plot", default="opcore-demo-training.png",
                    help="where to save the training-curve PNG ('' for none; needs matplotlib)")
    args = ap.parse_args(argv)
    mode = theano.compile.Mode(backend=args.backend) if args.backend else None
    data = load_digits_split()
    results: dict[str, float] = {}
    histories: dict[str, list] = {}
    t_all = time.perf_counter()
    for model in args.models.split(","):
        epochs, lr = SETTINGS[model]
        histories[model] = []
        results[model] = train(model, data, args.epochs or epochs, lr, mode=mode,
                               history=histories[model])
    print("test accuracy: " + ", ".join(f"{m} {a * 100:.2f}%" for m, a in results.items())
          + f"  (total {time.perf_counter() - t_all:.1f} s)")
    if args.plot:
        written = save_plot(histories, args.plot)
        if written:
            print(f"training curves saved to {os.path.abspath(written)}")
        else:
            print("(pip install matplotlib to get a plot of the training curves)")
    return results


if __name__ == "__main__":
    main()
