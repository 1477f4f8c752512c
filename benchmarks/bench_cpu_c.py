"""cpu_c benchmark: the C backend against NumPy, the Python backend and PyTensor (if importable).

    python benchmarks/bench_cpu_c.py [--quick]
    python benchmarks/bench_cpu_c.py --fast-paths [--against OTHER_PYTHON] [--rounds 3]

Prints one table: time per call and the ratio to NumPy (lower is better).

``--fast-paths`` times single elementwise kernels on contiguous 10**6-element arrays (clip with
run-time scalar bounds, maximum/minimum, sgn, abs, mixed-dtype casts, float // and %, integer
** with an array exponent, a float32 sum).  With ``--against OTHER_PYTHON`` (the interpreter of
another opcore checkout, e.g. an older revision's virtualenv) the same kernels run alternately
in subprocesses of this interpreter and the other one, each with its own compile directory,
``--rounds`` times; the table gives the minimum of each and the ratio this/other (machine load
changes between rounds hit both alike)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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


FAST_N = 10**6


def fast_path_kernels():
    """(name, opcore inputs, opcore output, NumPy function, arguments) of each fast-path row."""
    rng = np.random.RandomState(0)
    a64 = rng.randn(FAST_N)
    b64 = rng.randn(FAST_N) + 3
    a32, b32 = a64.astype("float32"), b64.astype("float32")
    i32 = rng.randint(-1000, 1000, FAST_N).astype("int32")
    e32 = rng.randint(0, 5, FAST_N).astype("int32")
    x64, y64 = T.dvector("x"), T.dvector("y")
    x32, y32 = T.fvector("x"), T.fvector("y")
    xi, yi = T.ivector("xi"), T.ivector("yi")
    lo64, hi64 = T.dscalar("lo"), T.dscalar("hi")
    lo32, hi32 = T.fscalar("lo"), T.fscalar("hi")
    lo, hi = np.float64(-0.5), np.float64(0.5)
    lo_f, hi_f = np.float32(-0.5), np.float32(0.5)
    return [
        ("clip(x, lo, hi) f64, run-time bounds", [x64, lo64, hi64], T.clip(x64, lo64, hi64),
         np.clip, (a64, lo, hi)),
        ("clip(x, lo, hi) f32, run-time bounds", [x32, lo32, hi32], T.clip(x32, lo32, hi32),
         np.clip, (a32, lo_f, hi_f)),
        ("maximum(x, 0) f64", [x64], T.maximum(x64, 0), lambda a: np.maximum(a, 0.0), (a64,)),
        ("minimum(x, y) f32", [x32, y32], T.minimum(x32, y32), np.minimum, (a32, b32)),
        ("sgn(x) f64", [x64], T.sgn(x64), np.sign, (a64,)),
        ("abs(x) f32", [x32], abs(x32), np.abs, (a32,)),
        ("abs(x) int32", [xi], abs(xi), np.abs, (i32,)),
        ("int32 + float32 -> float64", [xi, x32], xi + x32, np.add, (i32, a32)),
        ("x * 2 + 1 f32", [x32], x32 * 2 + 1, lambda a: a * np.float32(2) + np.float32(1),
         (a32,)),
        ("sum(x) f32 (float64 accumulator)", [x32], T.sum(x32), np.sum, (a32,)),
        ("x // y f64", [x64, y64], x64 // y64, np.floor_divide, (a64, b64)),
        ("x % y f32", [x32, y32], x32 % y32, np.remainder, (a32, b32)),
        ("x ** y int32, array exponent", [xi, yi], xi ** yi, np.power, (i32, e32)),
    ]


def fast_path_times(repeat=15, number=3):
    """{row name: (NumPy seconds, opcore C seconds, whether opcore gave NumPy's values)} of
    :func:`fast_path_kernels`."""
    out = {}
    for name, ins, o, np_fn, args in fast_path_kernels():
        f = opcore.function(ins, o, mode=Mode(backend="c"))
        f.trust_input = True
        with np.errstate(all="ignore"):
            ok = bool(np.allclose(f(*args), np_fn(*args), rtol=1e-4, equal_nan=True))
            out[name] = (best(lambda: np_fn(*args), repeat, number),
                         best(lambda: f(*args), repeat, number), ok)
    return out


def fast_paths(against, rounds):
    """Print the fast-path table; with ``against`` alternate subprocesses of this interpreter
    and that one ``rounds`` times."""
    if not against:
        rows = fast_path_times()
        print(f"{'kernel (10**6 elements, contiguous)':40s} {'numpy':>12s} {'opcore C':>12s} "
              f"{'C/numpy':>8s}")
        for name, (t_np, t_c, ok) in rows.items():
            print(f"{name:40s} {fmt(t_np):>12s} {fmt(t_c):>12s} {t_c / t_np:8.2f}"
                  f"{'' if ok else '  (values differ from NumPy)'}")
        return
    pythons = {"this": sys.executable, "other": against}
    best_t: dict = {}
    for r in range(rounds):
        for label, py in pythons.items():
            env = dict(os.environ)
            cdir = os.path.join(tempfile.gettempdir(), f"opcore-bench-{label}-{os.getuid()}")
            env["OPCORE_FLAGS"] = ",".join(x for x in (env.get("OPCORE_FLAGS", ""),
                                                       f"compiledir={cdir}") if x)
            p = subprocess.run([py, os.path.abspath(__file__), "--fast-paths-json"], env=env,
                               capture_output=True, text=True)
            if p.returncode:
                raise SystemExit(f"{py} failed:\n{p.stderr}")
            for name, (t_np, t_c, ok) in json.loads(p.stdout.strip().splitlines()[-1]).items():
                old = best_t.get((label, name), (float("inf"), float("inf"), ok))
                best_t[(label, name)] = (min(old[0], t_np), min(old[1], t_c), ok)
    print(f"this: {sys.executable}\nother: {against}\n{rounds} alternating rounds, minimum of "
          "each")
    print(f"{'kernel (10**6 elements, contiguous)':40s} {'numpy':>12s} {'C this':>12s} "
          f"{'C other':>12s} {'this/other':>10s}")
    names = [n for (lab, n) in best_t if lab == "this"]
    for name in names:
        t_np = min(best_t[("this", name)][0], best_t.get(("other", name), (np.inf,))[0])
        t_this = best_t[("this", name)][1]
        t_other, ok_other = best_t.get(("other", name), (None, None, True))[1:]
        ratio = f"{t_this / t_other:10.2f}" if t_other else "         -"
        notes = [f"{lab}: values differ from NumPy" for lab, ok in
                 (("this", best_t[("this", name)][2]), ("other", ok_other)) if not ok]
        print(f"{name:40s} {fmt(t_np):>12s} {fmt(t_this):>12s} {fmt(t_other):>12s} {ratio}  "
              f"{'; '.join(notes)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10**6 instead of 10**7 elements")
    ap.add_argument("--fast-paths", action="store_true", help="the elementwise fast-path table")
    ap.add_argument("--against", metavar="OTHER_PYTHON",
                    help="with --fast-paths: also time another opcore checkout's interpreter")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds with --against")
    ap.add_argument("--fast-paths-json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fast_paths_json:
        print(json.dumps(fast_path_times()))
        return
    if args.fast_paths:
        fast_paths(args.against, args.rounds)
        return
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
