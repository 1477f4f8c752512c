"""Rewrite time of the gradient of a tanh(W x + b) chain, depth 10/50/100/200.

    python benchmarks/bench_rewrite.py [--depths 10 50 100 200] [--repeat 3]

Prints the best-of-N time of ``rewrite_graph`` (FAST_RUN query) on a fresh FunctionGraph per run,
the graph sizes before/after, the time per input node, and the same for PyTensor when it is
installed (``pip install pytensor`` in a benchmark environment; optional).
"""

from __future__ import annotations

import argparse
import time
import warnings


def opcore_graph(depth):
    import opcore.tensor as T

    x = T.dvector("x")
    params = []
    h = x
    for k in range(depth):
        W, b = T.dmatrix(f"W{k}"), T.dvector(f"b{k}")
        params += [W, b]
        h = T.tanh(T.dot(W, h) + b)
    cost = h.sum()
    return [x] + params, T.grad(cost, params)


def time_opcore(depth, repeat):
    from opcore.graph.fg import FunctionGraph
    from opcore.graph.rewriting import rewrite_graph

    best = float("inf")
    for _ in range(repeat):
        ins, outs = opcore_graph(depth)
        fg = FunctionGraph(ins, outs)
        n_before = len(fg.apply_nodes)
        t0 = time.perf_counter()
        rewrite_graph(fg, include=("fast_run",), backend="py")
        best = min(best, time.perf_counter() - t0)
    return best, n_before, len(fg.apply_nodes)


def time_pytensor(depth, repeat):
    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50000))  # pytensor.grad recurses per node
    try:
        return _time_pytensor(depth, repeat)
    except RecursionError:
        return None


def _time_pytensor(depth, repeat):
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import get_default_mode
        from pytensor.graph.fg import FunctionGraph
    except ImportError:
        return None
    best = float("inf")
    for _ in range(repeat):
        x = pt.dvector("x")
        params = []
        h = x
        for k in range(depth):
            W, b = pt.dmatrix(f"W{k}"), pt.dvector(f"b{k}")
            params += [W, b]
            h = pt.tanh(pt.dot(W, h) + b)
        grads = pytensor.grad(h.sum(), params)
        fg = FunctionGraph([x] + params, grads, clone=True)
        rewriter = get_default_mode().optimizer
        t0 = time.perf_counter()
        rewriter.rewrite(fg)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="*", default=[10, 50, 100, 200])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    time_opcore(5, 1)  # warm up imports and the plugin host
    print(f"{'depth':>5} {'nodes in':>9} {'nodes out':>9} {'opcore s':>9} {'us/node':>8} "
          f"{'pytensor s':>10} {'ratio':>6}")
    for d in args.depths:
        t, n0, n1 = time_opcore(d, args.repeat)
        pt_t = time_pytensor(d, args.repeat)
        pt_s = f"{pt_t:10.3f}" if pt_t is not None else f"{'n/a':>10}"
        ratio = f"{pt_t / t:6.1f}" if pt_t is not None else f"{'':>6}"
        print(f"{d:5d} {n0:9d} {n1:9d} {t:9.3f} {t / n0 * 1e6:8.1f} {pt_s} {ratio}")


if __name__ == "__main__":
    main()
