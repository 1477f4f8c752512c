"""Logistic regression on random data (N=400, feats=784), trained by gradient descent.

Run: python examples/logistic_regression.py [--steps 10000]
"""

import argparse

import numpy as np

import opcore
import opcore.tensor as T


def main(steps: int = 10000, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    N, feats = 400, 784
    D = (rng.standard_normal((N, feats)), rng.integers(size=N, low=0, high=2))

    x = T.dmatrix("x")
    y = T.dvector("y")
    w = opcore.shared(rng.standard_normal(feats) * 0.01, name="w")
    b = opcore.shared(0.0, name="b")

    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))       # probability that the target is 1
    prediction = p_1 > 0.5                         # the prediction thresholded
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy loss
    cost = xent.mean() + 0.01 * (w ** 2).sum()     # the cost to minimise
    gw, gb = T.grad(cost, [w, b])

    train = opcore.function([x, y], [prediction, xent.mean()],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)), name="train")
    predict = opcore.function([x], prediction, name="predict")

    for i in range(steps):
        pred, err = train(D[0], D[1])
        if i % max(1, steps // 5) == 0:
            print(f"step {i:5d}  cross-entropy {float(err):.4f}")
    acc = float(np.mean(predict(D[0]) == D[1]))
    print("target values for D:", D[1][:20])
    print("prediction on D:   ", predict(D[0])[:20].astype(int))
    print(f"training accuracy: {acc:.3f}")
    return acc


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=10000)
    args = ap.parse_args()
    main(args.steps)
