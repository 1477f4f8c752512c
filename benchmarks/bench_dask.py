"""opcore on Dask: batched inference and a data-parallel training step on 1 vs 2 workers.

Prints, as ratios:
* time to first call of an unpickled C-backend function on a worker, with the driver's compile
  cache vs a fresh one (the worker compiles the module once per process);
* throughput of ``opcore.dask.map_blocks`` inference (an MLP's predictions) on 1 and 2 workers vs
  one local call of the compiled function (NumPy-speed baseline);
* time of a ``DataParallel`` step on 1 and 2 workers vs the same step compiled locally, and the
  share of a step spent outside the gradient computation (scatter, scheduling, gather).

Run: python benchmarks/bench_dask.py [--rows 200000] [--batch 2000] [--steps 20]
(The figures in docs/scale-out.md come from a 2-core machine shared with other jobs.)
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time

# Dask's nannies start workers with one BLAS/OpenMP thread (threads_per_worker=1); the local
# baseline uses one too, so the ratios compare processes, not thread pools
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.dask import DataParallel, map_blocks


def mlp(n_in: int, n_hidden: int, n_out: int):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.ivector("y")
    W1 = opcore.shared(rng.normal(scale=0.1, size=(n_in, n_hidden)), name="W1")
    b1 = opcore.shared(np.zeros(n_hidden), name="b1")
    W2 = opcore.shared(rng.normal(scale=0.1, size=(n_hidden, n_out)), name="W2")
    b2 = opcore.shared(np.zeros(n_out), name="b2")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    loss = -T.mean(T.log(p[T.arange(y.shape[0]), y]))
    return x, y, [W1, b1, W2, b2], p, loss


def _first_call(payload: bytes, a):
    """On a worker: unpickle a function (rewrite, link, load or compile its module), call it."""
    t0 = time.perf_counter()
    pickle.loads(payload)(a)
    return time.perf_counter() - t0


def cluster(n: int, compiledir: str):
    # the worker processes re-import this script (multiprocessing's spawn), which imports opcore
    # before the nanny's env= applies: the flag must be in the environment they inherit
    os.environ["OPCORE_FLAGS"] = f"compiledir={compiledir}"
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                        env={"OPCORE_FLAGS": f"compiledir={compiledir}"})


def first_call_times(f, a) -> dict:
    out = {}
    for label, cdir in (("shared cache", opcore.config.compiledir),
                        ("fresh cache", tempfile.mkdtemp(prefix="occache-bench-"))):
        with cluster(1, cdir) as c, Client(c) as client:
            os.environ["OPCORE_FLAGS"] = f"compiledir={opcore.config.compiledir}"
            out[label] = client.submit(_first_call, pickle.dumps(f), a, pure=False).result()
            out[label + " modules"] = sum(len(fs) for _, _, fs in os.walk(cdir))
    return out


def timed(fn, repeat: int) -> float:
    fn()  # warm: the function reaches the workers, modules load
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main(rows: int, batch: int, steps: int, hidden: int, first_call_only: bool = False) -> None:
    x, y, params, p, loss = mlp(64, hidden, 10)
    predict = opcore.function([x], T.argmax(p, axis=1), mode=Mode(linker="c"), name="predict")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(rows, 64))
    first = first_call_times(predict, X[:10])
    print(f"first call on a worker (unpickle + link + call): shared cache "
          f"{first['shared cache']:.2f} s, fresh cache {first['fresh cache']:.2f} s "
          f"(ratio {first['fresh cache'] / first['shared cache']:.1f}x; the fresh cache holds "
          f"{first['fresh cache modules']} files after it)")
    if first_call_only:
        return
    t_local = timed(lambda: predict(X), 3)
    print(f"inference, {rows} rows: local call {rows / t_local:,.0f} rows/s")
    Xb, yb = rng.normal(size=(batch, 64)), rng.integers(0, 10, size=batch).astype("int32")
    g = opcore.grad(loss, params)
    local_step = opcore.function([x, y], loss, updates=[(q, q - 0.01 * d)
                                                        for q, d in zip(params, g)])
    t_step_local = timed(lambda: local_step(Xb, yb), steps)
    grad_only = opcore.function([x, y], [loss] + g)
    half = batch // 2
    t_grad_shard = timed(lambda: grad_only(Xb[:half], yb[:half]), steps)
    print(f"training step, batch {batch}: local {t_step_local * 1e3:.1f} ms")
    for n in (1, 2):
        with cluster(n, opcore.config.compiledir) as c, Client(c) as client:
            # the images live on the workers (as data loaded by Dask would), not in the graph
            dX = client.persist(da.random.default_rng(3).normal(size=(rows, 64),
                                                                chunks=(rows // (4 * n), 64)))
            t_inf = timed(lambda: map_blocks(predict, dX).compute(), 3)
            dp = DataParallel(loss, params, [x, y], client, lr=0.01)
            t_step = timed(lambda: dp.step(Xb, yb), steps)
            shard = t_grad_shard if n == 2 else t_grad_shard * 2
            print(f"{n} worker(s): inference {rows / t_inf:,.0f} rows/s "
                  f"({t_local / t_inf:.2f}x local); step {t_step * 1e3:.1f} ms "
                  f"({t_step_local / t_step:.2f}x local); overhead outside the gradient "
                  f"{(t_step - shard) / t_step:.0%} of the step")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=256)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    ap.add_argument("--first-call-only", action="store_true")
    main(**vars(ap.parse_args()))
