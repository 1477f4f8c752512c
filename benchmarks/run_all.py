"""Every row of the performance table against NumPy, PyTensor and JAX, in one run.

    python benchmarks/run_all.py                    # all rows; writes benchmarks/results.{md,json}
    python benchmarks/run_all.py --rows mlp,logreg  # some rows
    python benchmarks/run_all.py --out /tmp/perf    # /tmp/perf.md and /tmp/perf.json
    python benchmarks/run_all.py --rows chain_compile,chain_compile_warm,chain_run --depth 50

Each (row, framework) pair runs in a fresh interpreter, so compile times include what a new
process pays (imports, plugin discovery) and "cold" means an empty compile cache (opcore's
``compiledir``, PyTensor's ``base_compiledir``, JAX's persistent compilation cache); "warm" is a
second fresh process on the cache the first one filled. Step times are medians of repeated calls
after a warm-up. A framework that is not installed is shown as "-". The BLAS set-up (threadpoolctl)
and the OpenBLAS environment variables are printed at the top: on machines that set
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` unset both for this command to time NumPy's fastest
kernels (see the workplace notes), and say which you did.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

FRAMEWORKS = ("numpy", "opcore", "pytensor", "jax")
DEPTH = int(os.environ.get("OPCORE_BENCH_DEPTH", "100"))  # --depth sets it


def median_time(fn: Callable[[], Any], repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call: ``repeat`` rounds, each long enough to be timed reliably."""
    fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or number >= 1 << 20:
            break
        number *= 4
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - t0) / number)
    return statistics.median(rounds)


# -- the workloads, one builder per framework ----------------------------------------------------
def _data(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def chain_numpy(depth: int) -> Callable[[], Any]:
    rng = _data()
    x = rng.normal(size=(32, 64))
    W = rng.normal(size=(64, 64)) * 0.1
    b = np.zeros(64)

    def step():
        hs = [x]
        for _ in range(depth):
            hs.append(np.tanh(hs[-1] @ W + b) + 0.5 * hs[-1])
        g = np.ones_like(hs[-1])
        gW = np.zeros_like(W)
        gb = np.zeros_like(b)
        for k in range(depth, 0, -1):
            pre = np.tanh(hs[k - 1] @ W + b)
            d = g * (1 - pre ** 2)
            gW += hs[k - 1].T @ d
            gb += d.sum(0)
            g = d @ W.T + 0.5 * g
        return hs[-1].sum(), gW, gb
    return step


def _chain_symbolic(lib: Any, tensor: Any, depth: int, shared: Callable) -> tuple:
    rng = _data()
    x = tensor.dmatrix("x")
    W = shared(rng.normal(size=(64, 64)) * 0.1, name="W")
    b = shared(np.zeros(64), name="b")
    h = x
    for _ in range(depth):
        h = tensor.tanh(tensor.dot(h, W) + b) + 0.5 * h
    cost = h.sum()
    grads = lib.grad(cost, [W, b])
    return [x], [cost, *grads], rng.normal(size=(32, 64))


def chain_jax(depth: int) -> tuple:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = _data()
    W = jnp.asarray(rng.normal(size=(64, 64)) * 0.1)
    b = jnp.zeros(64)
    x = jnp.asarray(rng.normal(size=(32, 64)))

    def cost(params, x):
        W, b = params
        h = x
        for _ in range(depth):
            h = jnp.tanh(h @ W + b) + 0.5 * h
        return h.sum()

    fn = jax.jit(jax.value_and_grad(cost))
    return fn, ((W, b), x)


def mlp_numpy() -> Callable[[], Any]:
    rng = _data()
    X = rng.random((600, 784), dtype=np.float32)
    y = rng.integers(0, 10, 600)
    W1 = (rng.normal(size=(784, 500)) * 0.01).astype(np.float32)
    b1 = np.zeros(500, np.float32)
    W2 = np.zeros((500, 10), np.float32)
    b2 = np.zeros(10, np.float32)
    lr = np.float32(0.1)

    def step():
        nonlocal W1, b1, W2, b2
        h = np.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        cost = -np.log(p[np.arange(600), y]).mean()
        d = p
        d[np.arange(600), y] -= 1
        d /= 600
        gW2, gb2 = h.T @ d, d.sum(0)
        dh = (d @ W2.T) * (1 - h * h)
        gW1, gb1 = X.T @ dh, dh.sum(0)
        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
        return cost
    return step


def _mlp_symbolic(lib: Any, T: Any, softmax: Callable) -> tuple:
    rng = _data()
    X = rng.random((600, 784), dtype=np.float32)
    y = rng.integers(0, 10, 600).astype("int32")
    x, t = T.fmatrix("x"), T.ivector("t")
    W1 = lib.shared((rng.normal(size=(784, 500)) * 0.01).astype(np.float32), name="W1")
    b1 = lib.shared(np.zeros(500, np.float32), name="b1")
    W2 = lib.shared(np.zeros((500, 10), np.float32), name="W2")
    b2 = lib.shared(np.zeros(10, np.float32), name="b2")
    h = T.tanh(T.dot(x, W1) + b1)
    p = softmax(T.dot(h, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(t.shape[0]), t])
    params = [W1, b1, W2, b2]
    grads = lib.grad(cost, params)
    updates = [(q, q - np.float32(0.1) * g) for q, g in zip(params, grads)]
    return [x, t], cost, updates, (X, y)


def mlp_jax() -> tuple:
    import jax
    import jax.numpy as jnp

    rng = _data()
    X = jnp.asarray(rng.random((600, 784), dtype=np.float32))
    y = jnp.asarray(rng.integers(0, 10, 600))
    params = (jnp.asarray((rng.normal(size=(784, 500)) * 0.01).astype(np.float32)),
              jnp.zeros(500, jnp.float32), jnp.zeros((500, 10), jnp.float32),
              jnp.zeros(10, jnp.float32))

    def loss(params, X, y):
        W1, b1, W2, b2 = params
        h = jnp.tanh(X @ W1 + b1)
        logp = jax.nn.log_softmax(h @ W2 + b2)
        return -jnp.mean(logp[jnp.arange(600), y])

    @jax.jit
    def step(params, X, y):
        c, g = jax.value_and_grad(loss)(params, X, y)
        return c, tuple(p - 0.1 * gp for p, gp in zip(params, g))
    return step, params, X, y


def logreg_numpy() -> Callable[[], Any]:
    rng = _data()
    X = rng.normal(size=(400, 784))
    y = rng.integers(0, 2, 400).astype(np.float64)
    w = rng.normal(size=784)
    b = np.zeros(())

    def step():
        nonlocal w, b
        p = 1 / (1 + np.exp(-(X @ w) - b))
        gz = (p - y) / 400
        w = w - 0.1 * (X.T @ gz + 0.02 * w)
        b = b - 0.1 * gz.sum()
        return p
    return step


def _logreg_symbolic(lib: Any, T: Any) -> tuple:
    rng = _data()
    X = rng.normal(size=(400, 784))
    y = rng.integers(0, 2, 400).astype(np.float64)
    x, t = T.dmatrix("x"), T.dvector("y")
    w = lib.shared(rng.normal(size=784), name="w")
    b = lib.shared(0.0, name="b")
    p1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -t * T.log(p1) - (1 - t) * T.log(1 - p1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = lib.grad(cost, [w, b])
    return [x, t], [p1 > 0.5, xent], [(w, w - 0.1 * gw), (b, b - 0.1 * gb)], (X, y)


def logreg_jax() -> tuple:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = _data()
    X = jnp.asarray(rng.normal(size=(400, 784)))
    y = jnp.asarray(rng.integers(0, 2, 400).astype(np.float64))
    params = (jnp.asarray(rng.normal(size=784)), jnp.zeros(()))

    def loss(params, X, y):
        w, b = params
        p1 = jax.nn.sigmoid(X @ w + b)
        xent = -y * jnp.log(p1) - (1 - y) * jnp.log1p(-p1)
        return xent.mean() + 0.01 * (w ** 2).sum()

    @jax.jit
    def step(params, X, y):
        g = jax.grad(loss)(params, X, y)
        return tuple(p - 0.1 * gp for p, gp in zip(params, g))
    return step, params, X, y


def _transc(xp: Any, x: Any) -> Any:
    return xp.exp(-x) * xp.sin(x) + x ** 2 / (1 + abs(x))


# -- one (row, framework) measurement, run in a child process ------------------------------------
def _opcore_lib() -> tuple:
    import opcore
    import opcore.tensor as T

    return opcore, T


def _pytensor_lib() -> tuple:
    import pytensor
    import pytensor.tensor as T

    return pytensor, T


def _symbolic_libs(framework: str) -> tuple:
    return _opcore_lib() if framework == "opcore" else _pytensor_lib()


def _softmax(framework: str) -> Callable:
    if framework == "opcore":
        import opcore.tensor as T

        return T.nnet.softmax
    from pytensor.tensor.special import softmax

    return lambda z: softmax(z, axis=-1)


def measure(row: str, fw: str) -> dict:
    """Run one measurement in this process; returns ``{"value": seconds, ...}``."""
    # every workload draws its data from NumPy's generator: numpy.random (~5 ms) loads here, not
    # inside a timed region (``import jax`` loads it, so JAX's rows never paid for it)
    _data()
    t_start = time.perf_counter()
    if row in ("chain_compile", "chain_run"):
        if fw == "numpy":
            return {"value": median_time(chain_numpy(DEPTH), repeat=5)} if row == "chain_run" \
                else {}
        if fw == "jax":
            fn, args = chain_jax(DEPTH)
            t0 = time.perf_counter()
            fn(*args)[0].block_until_ready()
            compile_s = time.perf_counter() - t0
            if row == "chain_compile":
                return {"value": compile_s + (t0 - t_start)}
            return {"value": median_time(lambda: fn(*args)[0].block_until_ready(), repeat=5)}
        lib, T = _symbolic_libs(fw)
        ins, outs, xv = _chain_symbolic(lib, T, DEPTH, lib.shared)
        t0 = time.perf_counter()
        f = lib.function(ins, outs)
        f(xv)
        if row == "chain_compile":
            return {"value": time.perf_counter() - t_start, "build_and_grad": t0 - t_start,
                    "nodes": len(f.maker.fgraph.apply_nodes)}
        return {"value": median_time(lambda: f(xv), repeat=5),
                "nodes": len(f.maker.fgraph.apply_nodes)}
    if row == "mlp":
        if fw == "numpy":
            return {"value": median_time(mlp_numpy())}
        if fw == "jax":
            step, params, X, y = mlp_jax()
            state = [params]

            def run():
                c, state[0] = step(state[0], X, y)
                c.block_until_ready()
            return {"value": median_time(run)}
        lib, T = _symbolic_libs(fw)
        ins, cost, updates, (X, y) = _mlp_symbolic(lib, T, _softmax(fw))
        t0 = time.perf_counter()
        f = lib.function(ins, cost, updates=updates)
        build = time.perf_counter() - t0
        return {"value": median_time(lambda: f(X, y)), "compile": build,
                "graph_build": t0 - t_start}
    if row == "rbm":
        import rbm_cd1

        if fw == "numpy":
            return {"value": median_time(rbm_cd1.rbm_numpy())}
        if fw == "jax":
            step, st, X = rbm_cd1.rbm_jax()
            state = list(st)

            def run_rbm():
                c, state[0], state[1] = step(state[0], state[1], X)
                c.block_until_ready()
            return {"value": median_time(run_rbm)}
        lib, T = _symbolic_libs(fw)
        f, X = rbm_cd1.rbm_symbolic(lib, T, fw)
        return {"value": median_time(lambda: f(X)), "nodes": len(f.maker.fgraph.apply_nodes)}
    if row == "mlp_build":
        # building the symbolic graph with its gradient (JAX: tracing it), after the import
        if fw == "numpy":
            return {}
        if fw == "jax":
            import jax

            mlp_jax()  # imports jax.numpy & co. and defines the step
            t0 = time.perf_counter()
            step, params, X, y = mlp_jax()
            jax.make_jaxpr(step)(params, X, y)
            return {"value": time.perf_counter() - t0}
        lib, T = _symbolic_libs(fw)
        t0 = time.perf_counter()
        _mlp_symbolic(lib, T, _softmax(fw))
        return {"value": time.perf_counter() - t0}
    if row in ("logreg", "logreg_compile"):
        if fw == "numpy":
            return {"value": median_time(logreg_numpy())} if row == "logreg" else {}
        if fw == "jax":
            import jax  # noqa: F401  (the import has its own row)

            t_imported = time.perf_counter()
            step, params, X, y = logreg_jax()
            t0 = time.perf_counter()
            jax_params = step(params, X, y)
            jax_params[0].block_until_ready()
            if row == "logreg_compile":
                return {"value": time.perf_counter() - t_imported,
                        "with_import": time.perf_counter() - t_start}
            state = [params]

            def run():
                state[0] = step(state[0], X, y)
                state[0][0].block_until_ready()
            return {"value": median_time(run)}
        lib, T = _symbolic_libs(fw)
        t_imported = time.perf_counter()
        ins, outs, updates, (X, y) = _logreg_symbolic(lib, T)
        f = lib.function(ins, outs, updates=updates)
        f(X, y)
        if row == "logreg_compile":
            # graph build + compile + first call of the process's first function; the import
            # has its own row ("with_import" in the JSON includes it)
            return {"value": time.perf_counter() - t_imported,
                    "with_import": time.perf_counter() - t_start}
        return {"value": median_time(lambda: f(X, y))}
    if row in ("transcendental", "small_pow"):
        n = 10_000_000 if row == "transcendental" else 100_000
        xv = np.random.default_rng(0).normal(size=n)
        if fw == "numpy":
            fn = (lambda: _transc(np, xv)) if row == "transcendental" else (lambda: xv + xv ** 10)
            return {"value": median_time(fn, repeat=5)}
        if fw == "jax":
            import jax
            import jax.numpy as jnp

            jax.config.update("jax_enable_x64", True)
            xj = jnp.asarray(xv)
            f = jax.jit((lambda x: _transc(jnp, x)) if row == "transcendental"
                        else (lambda x: x + x ** 10))
            return {"value": median_time(lambda: f(xj).block_until_ready(), repeat=5)}
        lib, T = _symbolic_libs(fw)
        x = T.dvector("x")
        expr = _transc(T, x) if row == "transcendental" else x + x ** 10
        f = lib.function([x], expr)
        return {"value": median_time(lambda: f(xv), repeat=5)}
    if row in ("call_overhead", "call_overhead_trust"):
        a, b = np.float64(1.5), np.float64(2.5)
        if fw == "numpy":
            return {"value": median_time(lambda: np.add(a, b))}
        if fw == "jax":
            import jax

            f = jax.jit(lambda p, q: p + q)
            return {"value": median_time(lambda: f(a, b).block_until_ready())}
        lib, T = _symbolic_libs(fw)
        x, y = T.dscalar("x"), T.dscalar("y")
        f = lib.function([x, y], x + y)
        if row == "call_overhead_trust":
            f.trust_input = True
            av, bv = np.asarray(a), np.asarray(b)
            return {"value": median_time(lambda: f(av, bv))}
        return {"value": median_time(lambda: f(a, b))}
    if row == "rnn_scan":
        rng = _data()
        n_steps, n_in, n_h = 1000, 32, 64
        xs = rng.normal(size=(n_steps, n_in))
        Wx = rng.normal(size=(n_in, n_h)) * 0.1
        Wh = rng.normal(size=(n_h, n_h)) * 0.1
        if fw == "numpy":
            def run():
                hs = [np.zeros(n_h)]
                for t in range(n_steps):
                    hs.append(np.tanh(xs[t] @ Wx + hs[-1] @ Wh))
                carry = np.zeros(n_h)  # d(sum of later h) / d h_t through the recurrence
                gWx, gWh = np.zeros_like(Wx), np.zeros_like(Wh)
                for t in range(n_steps, 0, -1):
                    d = (1.0 + carry) * (1 - hs[t] ** 2)
                    gWx += np.outer(xs[t - 1], d)
                    gWh += np.outer(hs[t - 1], d)
                    carry = d @ Wh.T
                return gWx, gWh
            return {"value": median_time(run, repeat=5)}
        if fw == "jax":
            import jax
            import jax.numpy as jnp

            jax.config.update("jax_enable_x64", True)

            def loss(params, xs):
                Wx, Wh = params

                def body(h, x):
                    h = jnp.tanh(x @ Wx + h @ Wh)
                    return h, h
                _, hs = jax.lax.scan(body, jnp.zeros(n_h), xs)
                return hs.sum()
            f = jax.jit(jax.grad(loss))
            p = (jnp.asarray(Wx), jnp.asarray(Wh))
            xj = jnp.asarray(xs)
            return {"value": median_time(lambda: f(p, xj)[0].block_until_ready(), repeat=5)}
        lib, T = _symbolic_libs(fw)
        scan = lib.scan
        X = T.dmatrix("X")
        sWx = lib.shared(Wx, name="Wx")
        sWh = lib.shared(Wh, name="Wh")
        hs, _ = scan(lambda x, h: T.tanh(T.dot(x, sWx) + T.dot(h, sWh)), sequences=X,
                     outputs_info=T.zeros((n_h,), dtype="float64"))
        grads = lib.grad(hs.sum(), [sWx, sWh])
        f = lib.function([X], grads)
        return {"value": median_time(lambda: f(xs), repeat=5)}
    raise ValueError(f"unknown row {row!r}")


ROWS = {
    "chain_compile": ("grad of a depth-100 chain: compile, empty cache (s)", "cold"),
    "chain_compile_warm": ("same, warm cache (s)", "warm"),
    "chain_run": ("same, run time per call", None),
    "mlp": ("MLP 784-500-10 float32 train step (batch 600)", None),
    "rbm": ("RBM 784-500 CD-1 float32 train step (batch 20, tutorial style: scan, RandomStreams)",
            None),
    # "warm": an untimed process runs first, as for a user's every process but the first on a
    # machine (opcore's plugin discovery is cached in its compiledir; JAX has no such step)
    "mlp_build": ("MLP graph build with gradient (JAX: trace), after import (s)", "warm"),
    "logreg": ("logistic regression step (400x784 float64)", None),
    "logreg_compile": ("logistic regression compile, cold (s, after import)", "cold"),
    "logreg_compile_warm": ("logistic regression compile, warm (s, after import)", "warm"),
    "transcendental": ("exp(-x)*sin(x) + x**2/(1+abs(x)), 1e7 float64", None),
    "small_pow": ("a + a**10, 1e5 float64", None),
    "call_overhead": ("call overhead, scalar a+b", None),
    "call_overhead_trust": ("call overhead with trust_input", None),
    "rnn_scan": ("1000-step RNN forward+backward (scan)", None),
    "import": ("import (bytecode cached)", None),
}


def _child_env(fw: str, cache: str) -> dict:
    env = dict(os.environ)
    if fw == "opcore":
        flags = [f for f in env.get("OPCORE_FLAGS", "").split(",") if f and
                 not f.startswith("compiledir=")]
        env["OPCORE_FLAGS"] = ",".join(flags + [f"compiledir={cache}"])
    elif fw == "pytensor":
        env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}"
    elif fw == "jax":
        env["JAX_COMPILATION_CACHE_DIR"] = cache
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    return env


def _import_time(fw: str) -> float | None:
    module = {"numpy": "numpy", "opcore": "opcore", "pytensor": "pytensor", "jax": "jax"}[fw]

    def once(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - t0
    try:
        once(f"import {module}")  # writes bytecode caches
    except subprocess.CalledProcessError:
        return None
    base = min(once("pass") for _ in range(3))
    return min(once(f"import {module}") for _ in range(5)) - base


def run_child(row: str, fw: str, cache: str, timeout: float) -> dict | None:
    base_row = row.removesuffix("_warm")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", base_row, fw]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(fw, cache),
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:200]}
    return json.loads(out.stdout.strip().splitlines()[-1]) or None


def available(fw: str) -> bool:
    if fw == "numpy":
        return True
    code = f"import {'opcore' if fw == 'opcore' else fw}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def blas_info() -> list[str]:
    lines = [f"python {platform.python_version()}, numpy {np.__version__}, "
             f"{os.cpu_count()} CPUs, {platform.platform()}"]
    # OMP_NUM_THREADS and OPCORE_FLAGS (cpu_c__threads) set the threads of opcore's large
    # elementwise loops (docs/cpu_c.md, Threads)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPCORE_FLAGS"):
        lines.append(f"{var}={os.environ.get(var, '(unset)')}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(f"{pool.get('internal_api')} {pool.get('version')} "
                         f"{pool.get('architecture', '')} threads={pool.get('num_threads')} "
                         f"({os.path.basename(pool.get('filepath', ''))})")
    except ImportError:
        lines.append("(pip install threadpoolctl to show the BLAS libraries and their threads)")
    return lines


def _fmt(v: float | None, row: str) -> str:
    if v is None:
        return "-"
    if row.endswith(("compile", "compile_warm", "_build")) or row == "import":
        return f"{v:.3f} s" if row != "import" else f"{v * 1e3:.0f} ms"
    if v < 1e-3:
        return f"{v * 1e6:.2f} us"
    return f"{v * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    ap.add_argument("--timeout", type=float, default=600.0, help="per measurement, seconds")
    ap.add_argument("--depth", type=int, default=DEPTH,
                    help="depth of the chain rows (chain_compile, chain_run); default 100")
    ap.add_argument("--worker", nargs=2, metavar=("ROW", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ["OPCORE_BENCH_DEPTH"] = str(args.depth)  # read by the workers
    if args.worker:
        print(json.dumps(measure(*args.worker)))
        return 0
    rows = [r for r in args.rows.split(",") if r]
    fws = [f for f in args.frameworks.split(",") if f and available(f)]
    header = blas_info()
    print("\n".join(header), flush=True)
    results: dict[str, dict[str, Any]] = {}
    caches = {fw: tempfile.mkdtemp(prefix=f"bench-{fw}-") for fw in fws}
    for row in rows:
        results[row] = {}
        for fw in FRAMEWORKS:
            if fw not in fws:
                continue
            if row == "import":
                res = {"value": _import_time(fw)}
            else:
                kind = ROWS[row][1]
                cache = (tempfile.mkdtemp(prefix=f"bench-{fw}-cold-") if kind == "cold"
                         else caches[fw])
                if kind == "warm":
                    # a first, untimed process fills the cache the measured one then finds
                    run_child(row, fw, cache, args.timeout)
                res = run_child(row, fw, cache, args.timeout)
            results[row][fw] = res
            print(f"{row:22s} {fw:9s} {_fmt((res or {}).get('value'), row):>12s}"
                  f"  {(res or {}).get('error', '')}", flush=True)
    # the table
    lines = ["# opcore performance table", "", "```", *header, "```", "",
             "| workload | " + " | ".join(FRAMEWORKS) + " | opcore / best other |",
             "|---|" + "---|" * (len(FRAMEWORKS) + 1)]
    for row in rows:
        vals = {fw: (results[row].get(fw) or {}).get("value") for fw in FRAMEWORKS}
        others = [v for fw, v in vals.items() if fw != "opcore" and v]
        ratio = (f"{vals['opcore'] / min(others):.2f}x" if vals.get("opcore") and others
                 else "-")
        label = ROWS[row][0].replace("depth-100", f"depth-{args.depth}")
        lines.append(f"| {label} | " + " | ".join(_fmt(vals[fw], row) for fw in FRAMEWORKS)
                     + f" | {ratio} |")
    md = "\n".join(lines) + "\n"
    with open(args.out + ".md", "w") as fh:
        fh.write(md)
    with open(args.out + ".json", "w") as fh:
        json.dump({"environment": header, "results": results}, fh, indent=1)
    print("\n" + md)
    print(f"written: {args.out}.md, {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
