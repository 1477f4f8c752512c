"""The op families' hot ops against NumPy (and PyTensor when importable): cumsum, repeat, sort,
argsort, tril, to_one_hot and topk, on the Python and C backends.

    python benchmarks/bench_extra_ops.py [--quick]

Each row: time per call of a compiled function computing the op on a 1000x1000 float64 matrix
(labels: 100,000 int64), and the ratio to the NumPy expression (lower is better).  The function
call overhead (~10 us) is included, as a user sees it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode

try:
    import pytensor
    import pytensor.tensor as PT
except Exception:  # not installed: that column is skipped
    pytensor = None

N = 1000


def best(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


ROWS = [
    # name, opcore builder, NumPy reference, PyTensor builder (or None), input kind
    ("cumsum axis=1", lambda x: T.cumsum(x, 1), lambda v: np.cumsum(v, 1),
     lambda x: PT.cumsum(x, 1), "matrix"),
    ("repeat 2, axis=0", lambda x: T.repeat(x, 2, 0), lambda v: np.repeat(v, 2, 0),
     lambda x: PT.repeat(x, 2, 0), "matrix"),
    ("sort axis=-1", lambda x: T.sort(x), np.sort, lambda x: PT.sort(x), "matrix"),
    ("argsort axis=-1", lambda x: T.argsort(x), np.argsort, lambda x: PT.argsort(x), "matrix"),
    ("tril", lambda x: T.tril(x), np.tril, lambda x: PT.tril(x), "matrix"),
    ("triu k=1", lambda x: T.triu(x, 1), lambda v: np.triu(v, 1), lambda x: PT.triu(x, 1),
     "matrix"),
    ("topk 5, axis=-1", lambda x: T.topk(x, 5),
     lambda v: np.take_along_axis(v, np.argpartition(v, -5, 1)[:, -5:], 1), None, "matrix"),
    ("to_one_hot 10", lambda y: T.to_one_hot(y, 10), lambda y: np.eye(10)[y], None, "labels"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    rep = 3 if args.quick else 10
    rng = np.random.default_rng(0)
    xv = rng.random((N, N))
    yv = rng.integers(0, 10, 100_000)
    print(f"{'op':20s} {'NumPy':>10s} {'py':>14s} {'c':>14s} {'PyTensor':>14s}")
    for name, build, ref, pt_build, kind in ROWS:
        val = xv if kind == "matrix" else yv
        t_np = best(lambda: ref(val), rep)
        cells = []
        for backend in ("py", "c"):
            x = T.dmatrix("x") if kind == "matrix" else T.lvector("y")
            f = opcore.function([x], build(x), mode=Mode(backend=backend))
            t = best(lambda: f(val), rep)
            cells.append(f"{t * 1e3:7.2f}ms {t / t_np:4.2f}x")
        if pytensor is not None and pt_build is not None:
            px = PT.dmatrix("x") if kind == "matrix" else PT.lvector("y")
            pf = pytensor.function([px], pt_build(px))
            t = best(lambda: pf(val), rep)
            cells.append(f"{t * 1e3:7.2f}ms {t / t_np:4.2f}x")
        else:
            cells.append(f"{'-':>14s}")
        print(f"{name:20s} {t_np * 1e3:8.2f}ms " + " ".join(f"{c:>14s}" for c in cells))


if __name__ == "__main__":
    main()
