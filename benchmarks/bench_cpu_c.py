"""cpu_c benchmark: the C backend against NumPy, the Python backend and PyTensor (if importable).

    python benchmarks/bench_cpu_c.py [--quick]

Prints one table: time per call and the ratio to NumPy (lower is better)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.config import config

try:
    import pytensor
    import pytensor.tensor as PT
except Exception:  # not installed: that column stays empty
    pytensor = None

QUICK = "--quick" in sys.argv
N = 10**6 if QUICK else 10**7


def best(fn, repeat=5, number=1):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t0) / number)
    return min(ts)


ROWS = []


def row(name, t_np, t_c, t_py=None, t_pt=None, note=""):
    ROWS.append((name, t_np, t_c, t_py, t_pt, note))


def fmt(t):
    if t is None:
        return "-"
    return f"{t * 1e6:10.2f}us" if t < 1e-3 else f"{t * 1e3:10.3f}ms"


def bench_overhead():
    x = T.dvector("x")
    f = opcore.function([x], x + 1, mode=Mode(backend="c"))
    g = opcore.function([x], x + 1, mode=Mode(backend="py"))
    a = np.ones(1)
    f.trust_input = True
    n = 20000
    t_c = best(lambda: f(a), number=n)
    t_py = best(lambda: g(a), number=n)
    t_np = best(lambda: a + 1, number=n)
    prog = f.vm.program
    cell = f.input_cells[0]

    def prog_only():
        cell[0] = a
        prog()
    t_prog = best(prog_only, number=n) if prog is not None else None
    t_pt = None
    if pytensor is not None:
        px = PT.dvector("x")
        pf = pytensor.function([px], px + 1)
        pf.trust_input = True
        t_pt = best(lambda: pf(a), number=n)
    row("call overhead, 1-node fn", t_np, t_c, t_py, t_pt,
        f"C program alone {fmt(t_prog).strip()}" if t_prog else "")


def bench_elemwise():
    x = T.dvector("x")
    a = np.random.rand(N)
    f = opcore.function([x], x + x ** 10, mode=Mode(backend="c"))
    g = opcore.function([x], x + x ** 10, mode=Mode(backend="py"))
    t_c = best(lambda: f(a))
    t_np = best(lambda: a + a ** 10)
    dst = np.empty_like(a)
    t_copy = best(lambda: np.copyto(dst, a))
    t_pt = None
    if pytensor is not None:
        px = PT.dvector("x")
        pf = pytensor.function([px], px + px ** 10)
        t_pt = best(lambda: pf(a))
    row(f"a + a**10, {N:.0e} f64", t_np, t_c, best(lambda: g(a)), t_pt,
        f"copyto {fmt(t_copy).strip()}: C at {t_copy / t_c:.2f}x of copy bandwidth "
        f"(new 8N-byte output each call); nodes={len(f.maker.fgraph.toposort())}")
    # Out(borrow=True): the output buffer is reused across calls (Theano semantics: the next
    # call may overwrite what the previous one returned), so no allocation or page faults
    fb = opcore.function([x], opcore.Out(x + x ** 10, borrow=True), mode=Mode(backend="c"))
    t_b = best(lambda: fb(a))
    t_npo = best(lambda: np.add(a, np.power(a, 10, out=dst), out=dst))
    t_ptb = None
    if pytensor is not None:
        px = PT.dvector("x")
        pfb = pytensor.function([px], pytensor.Out(px + px ** 10, borrow=True))
        t_ptb = best(lambda: pfb(a))
    row(f"a + a**10, {N:.0e} f64, Out(borrow=True)", t_npo, t_b, None, t_ptb,
        f"numpy with out=; C at {t_copy / t_b:.2f}x of copy bandwidth")
    # OpenMP: config.openmp parallelises loops of config.openmp_elemwise_minsize elements or more
    old_omp = config.openmp
    config.openmp = True
    try:
        fo = opcore.function([x], x + x ** 10, mode=Mode(backend="c"))
        fob = opcore.function([x], opcore.Out(x + x ** 10, borrow=True), mode=Mode(backend="c"))
        t_o, t_ob = best(lambda: fo(a)), best(lambda: fob(a))
    finally:
        config.openmp = old_omp
    row(f"a + a**10, {N:.0e} f64, openmp", t_np, t_o, None, None,
        f"{os.cpu_count()} cores; C at {t_copy / t_o:.2f}x of copy bandwidth; with "
        f"Out(borrow=True) {fmt(t_ob).strip()} = {t_copy / t_ob:.2f}x")

    def expr(m, v):
        return (m.exp(m.sin(v)) * m.log1p(abs(v)) + m.tanh(v) / (1 + m.sqrt(abs(v)))
                - m.cos(v) * m.sigmoid(v) if hasattr(m, "sigmoid") else None)

    e = (T.exp(T.sin(x)) * T.log1p(abs(x)) + T.tanh(x) / (1 + T.sqrt(abs(x))) - T.cos(x))
    f = opcore.function([x], e, mode=Mode(backend="c"))
    g = opcore.function([x], e, mode=Mode(backend="py"))
    t_c = best(lambda: f(a), repeat=3)
    t_np = best(lambda: np.exp(np.sin(a)) * np.log1p(np.abs(a)) + np.tanh(a) / (
        1 + np.sqrt(np.abs(a))) - np.cos(a), repeat=3)
    t_pt = None
    if pytensor is not None:
        px = PT.dvector("x")
        pe = (PT.exp(PT.sin(px)) * PT.log1p(abs(px)) + PT.tanh(px) / (1 + PT.sqrt(abs(px)))
              - PT.cos(px))
        pf = pytensor.function([px], pe)
        t_pt = best(lambda: pf(a), repeat=3)
    row(f"10-op transcendental, {N:.0e}", t_np, t_c, best(lambda: g(a), repeat=3), t_pt,
        f"nodes={len(f.maker.fgraph.toposort())}")


def logreg(mode, lib=opcore, TT=T, rng_seed=0):
    rng = np.random.RandomState(rng_seed)
    w = lib.shared(np.zeros(784), name="w")
    b = lib.shared(0.0, name="b")
    x = TT.dmatrix("x")
    y = TT.dvector("y")
    p = 1 / (1 + TT.exp(-(TT.dot(x, w) + b)))
    xent = -y * TT.log(p) - (1 - y) * TT.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = lib.grad(cost, [w, b])
    kw = {} if mode is None else {"mode": mode}
    t0 = time.perf_counter()
    f = lib.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], **kw)
    return f, time.perf_counter() - t0, rng.rand(400, 784), (rng.rand(400) > 0.5).astype(float)


def np_logreg():
    rng = np.random.RandomState(0)
    w = np.zeros(784)
    b = 0.0
    X, Y = rng.rand(400, 784), (rng.rand(400) > 0.5).astype(float)

    def step():
        nonlocal w, b
        p = 1 / (1 + np.exp(-(X @ w + b)))
        cost = (-Y * np.log(p) - (1 - Y) * np.log(1 - p)).mean() + 0.01 * (w ** 2).sum()
        d = (p - Y) / len(Y)
        w = w - 0.1 * (X.T @ d + 0.02 * w)
        b = b - 0.1 * d.sum()
        return cost
    return step


def bench_logreg():
    f, _, X, Y = logreg(Mode(backend="c"))
    g, _, _, _ = logreg(Mode(backend="py"))
    t_c = best(lambda: f(X, Y), repeat=5, number=20)
    t_py = best(lambda: g(X, Y), repeat=5, number=20)
    t_np = best(np_logreg(), repeat=5, number=20)
    t_pt = None
    if pytensor is not None:
        pf, _, _, _ = logreg(None, pytensor, PT)
        t_pt = best(lambda: pf(X, Y), repeat=5, number=20)
    row("logreg train step 400x784", t_np, t_c, t_py, t_pt)
    # compile times: cold (empty cache dir) and warm (entry on disk, fresh in-process state)
    from opcore.cbuild import cache as compiler  # the in-process module table: _loaded

    old = config.compiledir
    with tempfile.TemporaryDirectory() as d:
        config.compiledir = d
        t0 = time.perf_counter()
        xx = T.dvector("xx")
        opcore.function([xx], xx + 1, mode=Mode(backend="c"))  # builds the precompiled header
        t_first = time.perf_counter() - t0
        compiler._loaded.clear()
        _, t_cold, _, _ = logreg(Mode(backend="c"), rng_seed=1)
        compiler._loaded.clear()
        _, t_warm, _, _ = logreg(Mode(backend="c"), rng_seed=1)
        config.compiledir = old
    _, t_pycomp, _, _ = logreg(Mode(backend="py"))
    ROWS.append(("logreg compile cold / warm", None, t_cold, t_pycomp, None,
                 f"cold {t_cold:.3f}s, warm {t_warm:.3f}s (py backend compile {t_pycomp:.3f}s; "
                 f"first compile into an empty cache dir, with the header PCH: {t_first:.2f}s)"))


def mlp(mode, lib=opcore, TT=T):
    rng = np.random.RandomState(0)
    f32 = "float32"
    w1 = lib.shared((rng.randn(784, 256) * 0.05).astype(f32))
    b1 = lib.shared(np.zeros(256, f32))
    w2 = lib.shared((rng.randn(256, 10) * 0.05).astype(f32))
    b2 = lib.shared(np.zeros(10, f32))
    x = TT.matrix("x", dtype=f32)
    y = TT.matrix("y", dtype=f32)
    h = TT.tanh(TT.dot(x, w1) + b1)
    o = 1 / (1 + TT.exp(-(TT.dot(h, w2) + b2)))
    cost = ((o - y) ** 2).sum(axis=1).mean()
    params = [w1, b1, w2, b2]
    grads = lib.grad(cost, params)
    lr = np.float32(0.1)
    kw = {} if mode is None else {"mode": mode}
    f = lib.function([x, y], cost, updates=[(p, p - lr * g) for p, g in zip(params, grads)], **kw)
    X = rng.rand(400, 784).astype(f32)
    Y = (rng.rand(400, 10) > 0.5).astype(f32)
    return f, X, Y


def np_mlp():
    rng = np.random.RandomState(0)
    f32 = "float32"
    w1 = (rng.randn(784, 256) * 0.05).astype(f32)
    b1 = np.zeros(256, f32)
    w2 = (rng.randn(256, 10) * 0.05).astype(f32)
    b2 = np.zeros(10, f32)
    X = rng.rand(400, 784).astype(f32)
    Y = (rng.rand(400, 10) > 0.5).astype(f32)
    lr = np.float32(0.1)

    def step():
        nonlocal w1, b1, w2, b2
        h = np.tanh(X @ w1 + b1)
        o = 1 / (1 + np.exp(-(h @ w2 + b2)))
        cost = ((o - Y) ** 2).sum(axis=1).mean()
        do = 2 * (o - Y) / np.float32(len(X)) * o * (1 - o)
        dh = (do @ w2.T) * (1 - h * h)
        w2 = w2 - lr * (h.T @ do)
        b2 = b2 - lr * do.sum(0)
        w1 = w1 - lr * (X.T @ dh)
        b1 = b1 - lr * dh.sum(0)
        return cost
    return step


def bench_mlp():
    f, X, Y = mlp(Mode(backend="c"))
    g, _, _ = mlp(Mode(backend="py"))
    t_c = best(lambda: f(X, Y), number=10)
    t_py = best(lambda: g(X, Y), number=10)
    t_np = best(np_mlp(), number=10)
    t_pt = None
    if pytensor is not None:
        pf, _, _ = mlp(None, pytensor, PT)
        t_pt = best(lambda: pf(X, Y), number=10)
    row("2-layer MLP step f32 400x784-256-10", t_np, t_c, t_py, t_pt)


def main():
    print(f"numpy {np.__version__}, pytensor {getattr(pytensor, '__version__', 'not installed')}, "
          f"openmp={config.openmp}, cpu_count={os.cpu_count()}")
    for b in (bench_overhead, bench_elemwise, bench_logreg, bench_mlp):
        b()
    print(f"{'benchmark':38s} {'numpy':>12s} {'opcore C':>12s} {'C/numpy':>8s} {'opcore py':>12s}"
          f" {'pytensor':>12s}  notes")
    for name, t_np, t_c, t_py, t_pt, note in ROWS:
        ratio = f"{t_c / t_np:8.2f}" if t_np else "       -"
        print(f"{name:38s} {fmt(t_np):>12s} {fmt(t_c):>12s} {ratio} {fmt(t_py):>12s} "
              f"{fmt(t_pt):>12s}  {note}")


if __name__ == "__main__":
    main()
