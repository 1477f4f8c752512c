"""MLP and small-CNN SGD train steps: opcore (each healthy backend) vs hand-written NumPy and
PyTensor (and JAX when importable), in one run.  Prints ms per step (best of several rounds) and
the ratios to NumPy and to PyTensor.

    python benchmarks/bench_nnet.py [--steps 30] [--rounds 5] [--blas-threads 1] [--clock cpu]

``--blas-threads`` (default 1) is exported as ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` before NumPy is imported, so every implementation uses the same BLAS setting;
``0`` leaves the environment alone.  On a shared 2-core machine a second busy process makes
multi-threaded OpenBLAS spin and wait, and then GEMM timings vary ten-fold from run to run.

Workloads (float64, same initial parameters for all implementations; the first step's cost of each
implementation is compared with NumPy's and printed as a check that they do the same work):

* MLP: 128x784 -> tanh 256 -> softmax 10, crossentropy of integer labels.
* CNN: 64x1x28x28 -> conv 16 5x5 (valid, flipped filters) -> relu -> 2x2 max pool -> softmax 10.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

warnings.simplefilter("ignore")


def _set_threads(n: int) -> None:
    if n > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)


_CLOCK = time.perf_counter


def _time(fn, steps: int, rounds: int) -> float:
    """Best over ``rounds`` of the mean ms per call over ``steps`` calls."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = _CLOCK()
        for _ in range(steps):
            fn()
        best = min(best, (_CLOCK() - t0) / steps * 1e3)
    return best


# ---------------------------------------------------------------------------- data and parameters

def _mlp_init():
    import numpy as np

    rng = np.random.default_rng(0)
    xv = rng.standard_normal((128, 784))
    yv = rng.integers(0, 10, 128).astype("int32")
    ps = [rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
          rng.standard_normal((256, 10)) * 0.05, np.zeros(10)]
    return xv, yv, ps


def _cnn_init():
    import numpy as np

    rng = np.random.default_rng(0)
    xv = rng.standard_normal((64, 1, 28, 28))
    yv = rng.integers(0, 10, 64).astype("int32")
    ps = [rng.standard_normal((16, 1, 5, 5)) * 0.1, rng.standard_normal((16 * 12 * 12, 10)) * 0.01]
    return xv, yv, ps


# ---------------------------------------------------------------------------- NumPy

def mlp_numpy():
    import numpy as np

    xv, yv, (W1, b1, W2, b2) = _mlp_init()
    n = len(yv)
    rows = np.arange(n)

    def step():
        nonlocal W1, b1, W2, b2
        h = np.tanh(xv @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        sm = e / e.sum(1, keepdims=True)
        cost = -np.mean(np.log(sm[rows, yv]))
        dz = sm
        dz[rows, yv] -= 1
        dz /= n
        dh = (dz @ W2.T) * (1 - h * h)
        W2 = W2 - 0.01 * (h.T @ dz)
        b2 = b2 - 0.01 * dz.sum(0)
        W1 = W1 - 0.01 * (xv.T @ dh)
        b1 = b1 - 0.01 * dh.sum(0)
        return cost
    return step


def cnn_numpy():
    """im2col as a strided view copied to (b, 25, 576), one batched GEMM, reshape max pool."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    xv, yv, (F, W) = _cnn_init()
    b = len(yv)
    rows = np.arange(b)

    def step():
        nonlocal F, W
        cols = sliding_window_view(xv, (5, 5), axis=(2, 3))      # (b, 1, 24, 24, 5, 5)
        cols = cols.transpose(0, 1, 4, 5, 2, 3).reshape(b, 25, 576)
        fk = F[:, :, ::-1, ::-1].reshape(16, 25)
        z = np.matmul(fk, cols)                                  # (b, 16, 576)
        a = np.maximum(z, 0).reshape(b, 16, 24, 24)
        taps = [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        hp = np.maximum(np.maximum(taps[0], taps[1]), np.maximum(taps[2], taps[3]))
        hf = hp.reshape(b, -1)
        lg = hf @ W
        lg = lg - lg.max(1, keepdims=True)
        e = np.exp(lg)
        sm = e / e.sum(1, keepdims=True)
        cost = -np.mean(np.log(sm[rows, yv]))
        sm[rows, yv] -= 1
        sm /= b
        dW = hf.T @ sm
        dh = (sm @ W.T).reshape(b, 16, 12, 12)
        da = np.zeros_like(a)
        for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            da[:, :, i::2, j::2] = (taps[k] == hp) * dh
        dz = da.reshape(b, 16, 576) * (z > 0)
        dfk = np.matmul(dz, cols.transpose(0, 2, 1)).sum(0)
        F = F - 0.01 * dfk.reshape(16, 1, 5, 5)[:, :, ::-1, ::-1]
        W = W - 0.01 * dW
        return cost
    return step


# ---------------------------------------------------------------------------- opcore

def _opcore_fn(inputs, cost, params, backend):
    import opcore
    import opcore.tensor as T

    grads = T.grad(cost, params)
    f = opcore.function(inputs, cost, updates=[(q, q - 0.01 * g) for q, g in zip(params, grads)],
                        mode=opcore.compile.Mode(backend=backend))
    return f


def mlp_opcore(backend: str):
    import opcore
    import opcore.tensor as T

    xv, yv, init = _mlp_init()
    ps = [opcore.shared(v) for v in init]
    W1, b1, W2, b2 = ps
    x, y = T.dmatrix("x"), T.ivector("y")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = _opcore_fn([x, y], cost, ps, backend)
    return lambda: f(xv, yv)


def cnn_opcore(backend: str):
    import opcore
    import opcore.tensor as T

    xv, yv, init = _cnn_init()
    F, W = ps = [opcore.shared(v) for v in init]
    x, y = T.dtensor4("x"), T.ivector("y")
    h = T.nnet.pool.pool_2d(T.nnet.relu(T.nnet.conv2d(x, F)), (2, 2), ignore_border=True)
    p = T.nnet.softmax(T.dot(h.flatten(2), W))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = _opcore_fn([x, y], cost, ps, backend)
    return lambda: f(xv, yv)


# ---------------------------------------------------------------------------- PyTensor

def _pytensor_fn(inputs, cost, params):
    import pytensor
    import pytensor.tensor as pt

    grads = pt.grad(cost, params)
    return pytensor.function(inputs, cost,
                             updates=[(q, q - 0.01 * g) for q, g in zip(params, grads)])


def mlp_pytensor():
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.special import softmax

    xv, yv, init = _mlp_init()
    ps = [pytensor.shared(v) for v in init]
    W1, b1, W2, b2 = ps
    x, y = pt.dmatrix("x"), pt.ivector("y")
    p = softmax(pt.tanh(x @ W1 + b1) @ W2 + b2, axis=-1)
    cost = -pt.mean(pt.log(p)[pt.arange(y.shape[0]), y])
    f = _pytensor_fn([x, y], cost, ps)
    return lambda: f(xv, yv)


def cnn_pytensor():
    """PyTensor 3 has no ``tensor.nnet``: conv is ``tensor.signal.convolve2d`` (batched through
    Blockwise, a true convolution like conv2d's default), the 2x2 max pool a reshape + max."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.signal import convolve2d
    from pytensor.tensor.special import softmax

    xv, yv, init = _cnn_init()
    F, W = ps = [pytensor.shared(v) for v in init]
    x, y = pt.dtensor4("x"), pt.ivector("y")
    z = convolve2d(x[:, 0][:, None], F[None, :, 0], mode="valid")  # (b, 16, 24, 24)
    a = pt.maximum(z, 0)
    h = a.reshape((x.shape[0], 16, 12, 2, 12, 2)).max(axis=(3, 5))
    p = softmax(pt.dot(h.reshape((x.shape[0], 16 * 12 * 12)), W), axis=-1)
    cost = -pt.mean(pt.log(p)[pt.arange(y.shape[0]), y])
    f = _pytensor_fn([x, y], cost, ps)
    return lambda: f(xv, yv)


# ---------------------------------------------------------------------------- JAX (optional)

def mlp_jax():
    import jax
    import jax.numpy as jnp

    xv, yv, init = _mlp_init()

    def loss(ps, x, y):
        h = jnp.tanh(x @ ps[0] + ps[1])
        return -jnp.mean(jax.nn.log_softmax(h @ ps[2] + ps[3])[jnp.arange(y.shape[0]), y])

    @jax.jit
    def step(ps, x, y):
        c, gs = jax.value_and_grad(loss)(ps, x, y)
        return c, [p - 0.01 * g for p, g in zip(ps, gs)]
    state = [[jnp.asarray(v) for v in init]]

    def run():
        c, state[0] = step(state[0], xv, yv)
        return float(c)
    return run


# ---------------------------------------------------------------------------- driver

def _importable(name: str) -> str | None:
    """None when ``name`` imports, else the reason."""
    try:
        __import__(name)
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        return f"{type(e).__name__}: {e}"
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="steps per timing round (MLP)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds; the best is reported")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="BLAS threads for every implementation (0: leave the environment)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default=None,
                    help="cpu: this process's CPU time (default with one BLAS thread: a busy "
                         "neighbour does not count), wall: elapsed time (default otherwise)")
    args = ap.parse_args()
    _set_threads(args.blas_threads)
    clock = args.clock or ("cpu" if args.blas_threads == 1 else "wall")
    global _CLOCK
    _CLOCK = time.process_time if clock == "cpu" else time.perf_counter

    import numpy as np
    from opcore.plugins import get_host

    backends = [b.name for b in get_host().ensure_loaded().healthy_backends()
                if b.name in ("py", "c")]
    pt_missing = _importable("pytensor")
    jax_missing = _importable("jax")
    cnn_steps = max(3, args.steps // 3)

    impls = {"MLP 128x784-256-10": [("numpy", mlp_numpy)], "CNN 64x1x28x28 c16k5": [
        ("numpy", cnn_numpy)]}
    for b in backends:
        impls["MLP 128x784-256-10"].append((f"opcore {b}", lambda b=b: mlp_opcore(b)))
        impls["CNN 64x1x28x28 c16k5"].append((f"opcore {b}", lambda b=b: cnn_opcore(b)))
    impls["MLP 128x784-256-10"] += [("pytensor", mlp_pytensor), ("jax.jit", mlp_jax)]
    impls["CNN 64x1x28x28 c16k5"] += [("pytensor", cnn_pytensor),
                                      ("jax.jit", None)]
    missing = {"pytensor": pt_missing, "jax.jit": jax_missing}

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, BLAS threads "
          f"{args.blas_threads or 'default'}, {clock} clock, best of {args.rounds} rounds")
    hdr = f"{'workload':22s} {'implementation':14s} {'ms/step':>9s} {'vs numpy':>9s} " \
          f"{'vs pytensor':>11s}  first-step cost"
    print(hdr)
    print("-" * len(hdr))
    for work, rows in impls.items():
        steps = args.steps if work.startswith("MLP") else cnn_steps
        res = []
        for name, build in rows:
            why = missing.get(name)
            if why is None and build is None:
                why = "not written (needs jax to test)"
            if why is not None:
                res.append((name, None, why))
                continue
            try:
                fn = build()
                cost = float(fn())
                res.append((name, _time(fn, steps, args.rounds), cost))
            except Exception as e:  # noqa: BLE001 - report and go on with the others
                res.append((name, None, f"failed: {type(e).__name__}: {e}"[:90]))
        ref = {n: ms for n, ms, _ in res if ms is not None}
        for name, ms, extra in res:
            if ms is None:
                print(f"{work:22s} {name:14s} {'n/a':>9s} {'':9s} {'':11s}  {extra}")
                continue
            vs_np = f"{ms / ref['numpy']:8.2f}x" if "numpy" in ref else ""
            vs_pt = f"{ms / ref['pytensor']:10.2f}x" if "pytensor" in ref else ""
            print(f"{work:22s} {name:14s} {ms:9.2f} {vs_np:>9s} {vs_pt:>11s}  {extra:.6f}")


if __name__ == "__main__":
    main()
