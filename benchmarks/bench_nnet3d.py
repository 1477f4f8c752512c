"""A 3-d CNN SGD train step (conv3d -> relu -> 2x2x2 max pool -> softmax): opcore on each
healthy backend vs hand-written NumPy, in one run.  Prints ms per step (best of several rounds)
and the ratio to NumPy.  (PyTensor 3 has no 3-d convolution or pooling op to compare with.)

    python benchmarks/bench_nnet3d.py [--steps 5] [--rounds 3] [--blas-threads 1]

Workload (float64, the same initial parameters everywhere; the first step's cost is printed for
each implementation as a check that they do the same work): 8x2x12x16x16 volumes -> conv3d 8
filters 3x3x3 (valid, flipped) -> relu -> 2x2x2 max pool -> dense softmax 10, crossentropy of
integer labels.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

warnings.simplefilter("ignore")

B, C, D, H, W, K, F, NCLS, LR = 8, 2, 12, 16, 16, 8, 3, 10, 0.01
OD, OH, OW = D - F + 1, H - F + 1, W - F + 1          # 10, 14, 14
PD, PH, PW = OD // 2, OH // 2, OW // 2                 # 5, 7, 7


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, C, D, H, W))
    y = rng.integers(0, NCLS, B)
    f = rng.standard_normal((K, C, F, F, F)) * 0.2
    v = rng.standard_normal((K * PD * PH * PW, NCLS)) * 0.01
    return x, y, f, v


def numpy_step():
    """A NumPy train step: windows by ``sliding_window_view``, GEMMs by ``tensordot``."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    x, y, f, v = _data()
    win = sliding_window_view(x, (F, F, F), axis=(2, 3, 4))       # (B, C, OD, OH, OW, F, F, F)

    def step():
        nonlocal f, v
        ff = f[:, :, ::-1, ::-1, ::-1]
        z = np.tensordot(win, ff, axes=([1, 5, 6, 7], [1, 2, 3, 4]))   # (B, OD, OH, OW, K)
        z = z.transpose(0, 4, 1, 2, 3)
        a = np.maximum(z, 0)
        blocks = a.reshape(B, K, PD, 2, PH, 2, PW, 2)
        p = blocks.max(axis=(3, 5, 7))
        flat = p.reshape(B, -1)
        logits = flat @ v
        logits -= logits.max(1, keepdims=True)
        e = np.exp(logits)
        sm = e / e.sum(1, keepdims=True)
        cost = -np.log(sm[np.arange(B), y]).mean()
        d = sm
        d[np.arange(B), y] -= 1
        d /= B
        gv = flat.T @ d
        dp = (d @ v.T).reshape(p.shape)
        mask = blocks == p[:, :, :, None, :, None, :, None]
        da = (mask * dp[:, :, :, None, :, None, :, None]).reshape(B, K, OD, OH, OW)
        dz = da * (z > 0)
        gf = np.tensordot(dz, win, axes=([0, 2, 3, 4], [0, 2, 3, 4]))   # (K, C, F, F, F)
        f = f - LR * gf[:, :, ::-1, ::-1, ::-1]
        v = v - LR * gv
        return cost

    return step


def opcore_step(backend: str):
    import numpy as np

    import opcore
    import opcore.tensor as T
    from opcore.compile import Mode

    x0, y0, f0, v0 = _data()
    x, y = T.TensorType("float64", shape=(None,) * 5)("x"), T.lvector("y")
    f, v = opcore.shared(f0, "f"), opcore.shared(v0, "v")
    h = T.nnet.relu(T.nnet.conv3d(x, f))
    p = T.nnet.pool_3d(h, (2, 2, 2), ignore_border=True)
    sm = T.nnet.softmax(T.dot(p.flatten(2), v))
    cost = T.nnet.categorical_crossentropy(sm, y).mean()
    gf, gv = opcore.grad(cost, [f, v])
    fn = opcore.function([x, y], cost, updates=[(f, f - LR * gf), (v, v - LR * gv)],
                         mode=Mode(backend=backend))
    return lambda: fn(x0, y0)


def _time(fn, steps: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - t0) / steps * 1e3)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--blas-threads", type=int, default=1)
    args = ap.parse_args()
    if args.blas_threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    from opcore.plugins import get_host

    impls = {"numpy": numpy_step()}
    host = get_host().ensure_loaded()
    for name in ("py", "c"):
        if name in host.backends and host.health(host.backends[name])[0]:
            impls[f"opcore {name}"] = opcore_step(name)
    base = None
    print(f"{'implementation':<14} {'first cost':>12} {'ms/step':>10} {'vs NumPy':>9}")
    for name, fn in impls.items():
        first = float(fn())  # also warms up
        ms = _time(fn, args.steps, args.rounds)
        base = base or ms
        print(f"{name:<14} {first:12.6f} {ms:10.1f} {ms / base:8.2f}x")


if __name__ == "__main__":
    main()
