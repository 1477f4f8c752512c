"""MLP and small-CNN SGD train steps: opcore (each healthy backend) vs hand-written NumPy, and
PyTensor / JAX when importable.  One run, prints a table of ms per step.

    python benchmarks/bench_nnet.py [--steps 50]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")


def _time(fn, steps: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps * 1e3


def _data(rng, n=128):
    return rng.standard_normal((n, 784)), rng.integers(0, 10, n).astype("int32")


def mlp_opcore(backend: str, steps: int) -> float:
    import opcore
    import opcore.tensor as T

    rng = np.random.default_rng(0)
    xv, yv = _data(rng)
    W1 = opcore.shared(rng.standard_normal((784, 256)) * 0.05)
    b1 = opcore.shared(np.zeros(256))
    W2 = opcore.shared(rng.standard_normal((256, 10)) * 0.05)
    b2 = opcore.shared(np.zeros(10))
    x, y = T.dmatrix("x"), T.ivector("y")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    ps = [W1, b1, W2, b2]
    f = opcore.function([x, y], cost, updates=[(q, q - 0.01 * g) for q, g in
                                               zip(ps, T.grad(cost, ps))],
                        mode=opcore.compile.Mode(backend=backend))
    return _time(lambda: f(xv, yv), steps)


def mlp_numpy(steps: int) -> float:
    rng = np.random.default_rng(0)
    xv, yv = _data(rng)
    W1, b1 = rng.standard_normal((784, 256)) * 0.05, np.zeros(256)
    W2, b2 = rng.standard_normal((256, 10)) * 0.05, np.zeros(10)
    n = len(yv)

    def step():
        nonlocal W1, b1, W2, b2
        h = np.tanh(xv @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        sm = e / e.sum(1, keepdims=True)
        cost = -np.mean(np.log(sm[np.arange(n), yv]))
        dz = sm
        dz[np.arange(n), yv] -= 1
        dz /= n
        dh = (dz @ W2.T) * (1 - h * h)
        W2 = W2 - 0.01 * (h.T @ dz)
        b2 = b2 - 0.01 * dz.sum(0)
        W1 = W1 - 0.01 * (xv.T @ dh)
        b1 = b1 - 0.01 * dh.sum(0)
        return cost
    return _time(step, steps)


def cnn_opcore(backend: str, steps: int) -> float:
    import opcore
    import opcore.tensor as T

    rng = np.random.default_rng(0)
    xv = rng.standard_normal((64, 1, 28, 28))
    yv = rng.integers(0, 10, 64).astype("int32")
    F = opcore.shared(rng.standard_normal((16, 1, 5, 5)) * 0.1)
    W = opcore.shared(rng.standard_normal((16 * 12 * 12, 10)) * 0.01)
    x, y = T.dtensor4("x"), T.ivector("y")
    h = T.nnet.pool.pool_2d(T.nnet.relu(T.nnet.conv2d(x, F)), (2, 2))
    p = T.nnet.softmax(T.dot(h.flatten(2), W))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = opcore.function([x, y], cost, updates=[(q, q - 0.01 * g) for q, g in
                                               zip([F, W], T.grad(cost, [F, W]))],
                        mode=opcore.compile.Mode(backend=backend))
    return _time(lambda: f(xv, yv), steps)


def jax_mlp(steps: int) -> float | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    xv, yv = _data(rng)
    params = [jnp.asarray(rng.standard_normal((784, 256)) * 0.05), jnp.zeros(256),
              jnp.asarray(rng.standard_normal((256, 10)) * 0.05), jnp.zeros(10)]

    def loss(ps, x, y):
        h = jnp.tanh(x @ ps[0] + ps[1])
        return -jnp.mean(jax.nn.log_softmax(h @ ps[2] + ps[3])[jnp.arange(y.shape[0]), y])

    @jax.jit
    def step(ps, x, y):
        gs = jax.grad(loss)(ps, x, y)
        return [p - 0.01 * g for p, g in zip(ps, gs)]
    state = [params]

    def run():
        state[0] = step(state[0], xv, yv)
        state[0][0].block_until_ready()
    return _time(run, steps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    from opcore.plugins import get_host

    backends = [b.name for b in get_host().ensure_loaded().healthy_backends()
                if b.name in ("py", "c")]
    rows = []
    np_mlp = mlp_numpy(args.steps)
    rows.append(("MLP 128x784-256-10", "numpy (hand-written)", np_mlp))
    for b in backends:
        rows.append(("MLP 128x784-256-10", f"opcore {b}", mlp_opcore(b, args.steps)))
    j = jax_mlp(args.steps)
    rows.append(("MLP 128x784-256-10", "jax.jit", j))
    for b in backends:
        rows.append(("CNN 64x1x28x28 conv5x5x16", f"opcore {b}", cnn_opcore(b, max(5, args.steps // 5))))
    try:
        import pytensor  # noqa: F401
        note = "pytensor installed: comparison not implemented in this script"
    except ImportError:
        note = "pytensor not installed"
    print(f"{'workload':28s} {'implementation':22s} {'ms/step':>9s} {'vs numpy':>9s}")
    for w, impl, ms in rows:
        if ms is None:
            print(f"{w:28s} {impl:22s} {'n/a':>9s}   (not installed)")
            continue
        ratio = f"{ms / np_mlp:8.2f}x" if w.startswith("MLP") else ""
        print(f"{w:28s} {impl:22s} {ms:9.2f} {ratio:>9s}")
    print(note)


if __name__ == "__main__":
    main()
