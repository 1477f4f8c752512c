"""Sparse x dense product: opcore (py and c backends, the raw C kernel) versus SciPy.

    python benchmarks/bench_sparse.py [--n 10000] [--density 0.001] [--k 64] [--repeat 30]

A is n x n at ``density`` (CSR and CSC), B is n x k.  Every implementation runs interleaved with
SciPy's ``A @ B`` in the same loop, so load from other processes hits all of them alike; the
table gives the best and the median time and the ratio of best times to SciPy's (<= 1.0: as fast
or faster).  PyTensor's ``structured_dot`` is included when PyTensor is installed.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp


def _opcore_fns(fmt: str, dtype: str, backend: str):
    import opcore
    import opcore.sparse as sparse
    import opcore.tensor as T
    from opcore.compile import Mode

    x = sparse.matrix(fmt, "x", dtype)
    y = T.TensorType(dtype, shape=(None, None))("y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return opcore.function([x, y], sparse.structured_dot(x, y), mode=Mode(backend=backend))


def _backends() -> list[str]:
    from opcore.plugins import get_host

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        host = get_host().ensure_loaded()
        return [b.name for b in host.healthy_backends() if b.name in ("py", "c")]


def _pytensor_fn(fmt: str, dtype: str):
    try:
        import pytensor
        import pytensor.sparse as psp
        import pytensor.tensor as pt
    except ImportError:
        return None
    x = psp.matrix(fmt, name="x", dtype=dtype)
    y = pt.matrix("y", dtype=dtype)
    return pytensor.function([x, y], psp.structured_dot(x, y))


def run(n: int, density: float, k: int, repeat: int, dtype: str) -> list[tuple]:
    from opcore_sparse import ckernels

    rows = []
    rng = np.random.default_rng(0)
    b = rng.random((n, k)).astype(dtype)
    for fmt in ("csr", "csc"):
        a = sp.random(n, n, density=density, format=fmt, dtype=dtype, random_state=1)
        a.sort_indices()
        expected = a @ b
        cands = {"scipy A @ B": lambda: a @ b}
        for backend in _backends():
            f = _opcore_fns(fmt, dtype, backend)
            cands[f"opcore {backend} backend"] = (lambda f=f: f(a, b))
        for omp in (False, True):
            try:
                lib = ckernels.build_standalone(openmp=omp)
            except RuntimeError as exc:
                print(f"(C kernel skipped: {exc})")
                break
            label = "C kernel, OpenMP" if omp else "C kernel, 1 thread"
            cands[label] = (lambda lib=lib: ckernels.run_standalone(lib, a, b))
        pf = _pytensor_fn(fmt, dtype)
        if pf is not None:
            cands["pytensor structured_dot"] = lambda: pf(a, b)
        tol = 1e-4 if dtype == "float32" else 1e-10
        for name, fn in cands.items():
            np.testing.assert_allclose(fn(), expected, rtol=tol, atol=tol, err_msg=name)
        times: dict[str, list[float]] = {name: [] for name in cands}
        for _ in range(repeat):
            for name, fn in cands.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        ref = min(times["scipy A @ B"])
        for name, ts in times.items():
            rows.append((fmt, name, min(ts) * 1e3, float(np.median(ts)) * 1e3, min(ts) / ref))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--density", type=float, default=0.001)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = ap.parse_args()
    rows = run(args.n, args.density, args.k, args.repeat, args.dtype)
    print(f"sparse x dense: A {args.n}x{args.n} at density {args.density} "
          f"(nnz ~{int(args.n * args.n * args.density)}), B {args.n}x{args.k}, {args.dtype}")
    print(f"{'fmt':4} {'implementation':26} {'best ms':>9} {'median ms':>10} {'vs scipy':>9}")
    for fmt, name, best, med, ratio in rows:
        print(f"{fmt:4} {name:26} {best:9.2f} {med:10.2f} {ratio:8.2f}x")


if __name__ == "__main__":
    main()
