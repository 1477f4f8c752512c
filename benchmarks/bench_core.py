"""Core benchmarks: call overhead of a one-node function and ``a + a**10`` on 1e7 float64.

Compares opcore (default mode, and the pure-Python VM) with NumPy, and with PyTensor when it is
importable, in one run, and prints a table.

Run: python benchmarks/bench_core.py [--n 10000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np


def best_time(fn, number: int, repeat: int) -> float:
    """Best seconds per call over ``repeat`` rounds of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def bench_opcore(n: int, repeat: int) -> dict:
    import opcore
    import opcore.tensor as T

    out = {}
    x = T.dscalar("x")
    a = T.dvector("a")
    big = np.random.default_rng(0).random(n)
    s = np.float64(1.5)
    for label, mode in (("opcore FAST_RUN", "FAST_RUN"),
                        ("opcore py VM", opcore.Mode(linker="py", optimizer="fast_run"))):
        f1 = opcore.function([x], x + 1.0, mode=mode)
        f1(s)
        overhead = best_time(lambda: f1(s), 20000, repeat)
        f2 = opcore.function([a], a + a ** 10, mode=mode)
        np.testing.assert_allclose(f2(big[:10]), big[:10] + big[:10] ** 10)
        out[label] = (overhead, best_time(lambda: f2(big), 3, repeat),
                      len(f2.maker.fgraph.apply_nodes))
    return out


def bench_numpy(n: int, repeat: int) -> tuple:
    big = np.random.default_rng(0).random(n)
    s = np.float64(1.5)
    return (best_time(lambda: np.add(s, 1.0), 20000, repeat),
            best_time(lambda: big + big ** 10, 3, repeat), None)


def bench_pytensor(n: int, repeat: int):
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    x = pt.dscalar("x")
    a = pt.dvector("a")
    f1 = pytensor.function([x], x + 1.0)
    f2 = pytensor.function([a], a + a ** 10)
    big = np.random.default_rng(0).random(n)
    s = np.float64(1.5)
    f1(s)
    f2(big[:10])
    return (best_time(lambda: f1(s), 20000, repeat), best_time(lambda: f2(big), 3, repeat),
            len(f2.maker.fgraph.apply_nodes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = {"numpy": bench_numpy(args.n, args.repeat)}
    rows.update(bench_opcore(args.n, args.repeat))
    pt_row = bench_pytensor(args.n, args.repeat)
    if pt_row is not None:
        rows["pytensor"] = pt_row
    np_call, np_big, _ = rows["numpy"]
    print(f"{'':18s} {'call overhead':>14s} {'x numpy':>8s} {'a+a**10 (n=%.0e)' % args.n:>18s} "
          f"{'x numpy':>8s} {'nodes':>6s}")
    for name, (call, big, nodes) in rows.items():
        print(f"{name:18s} {call * 1e6:11.2f} us {call / np_call:8.1f} {big * 1e3:15.1f} ms "
              f"{big / np_big:8.2f} {'' if nodes is None else nodes:>6}")
    if pt_row is None:
        print("(PyTensor not installed: pip install pytensor to compare)")


if __name__ == "__main__":
    main()
