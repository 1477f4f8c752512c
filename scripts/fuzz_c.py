#!/usr/bin/env python
"""Differential fuzzer of the C backend: random small graphs, FAST_RUN (C) against FAST_COMPILE.

    python scripts/fuzz_c.py --cases 300 --seed 0 [--batch 25] [--jobs 1] [--out DIR]

Each case is a small program: 1-3 inputs of random dtype, rank, shape and memory layout
(contiguous, transposed, strided, negative stride, read-only, misaligned, zero-size) holding
special values (0, -0.0, NaN, infinities, integer extremes), and a chain of 1-6 random steps:
elementwise ops (unary, binary with broadcasting, clip, switch), reductions over random axes,
argmax, indexing (slices, negative steps, integer indices, inc_subtensor), dot, and nnet ops
(softmax, relu, log_softmax).  A case is generated as Python source, so a failing case prints a
standalone repro script.

Cases run in worker subprocesses, so a crash (a segfault) is a failure rather than the end of
the run: a batch of cases is compiled into one function per mode (one C compile per batch); when
a batch raises, it is split in halves until the raising case runs alone; a worker that crashes
(or runs out of time) has its remaining cases re-run in halves, each in a fresh subprocess, down
to the crashing case.  Results must agree: both modes raise the same exception
type, or both return values of the same dtype and shape, equal (integers, booleans) or close
(floats: a few ulps, NaN in the same places).  FAST_RUN's rewrites also run on the Python backend:
a C-vs-Python difference is a failure; a difference both FAST_RUN backends share against
FAST_COMPILE comes from a rewrite and is listed apart (``--strict-rewrites`` fails on it too).

Exit status 0 when every case agrees; the summary line gives cases, crashes, mismatches, time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

DTYPES = ["float64", "float32", "float64", "float32", "int64", "int32", "int8", "uint8", "bool"]
LAYOUTS = ["contiguous", "contiguous", "transposed", "strided", "negative", "readonly",
           "misaligned"]
UNARY = ["T.exp({a})", "T.log({a})", "abs({a})", "-{a}", "T.sqr({a})", "T.sqrt({a})",
         "T.sgn({a})", "T.floor({a})", "T.ceil({a})", "T.round({a})", "T.tanh({a})",
         "T.nnet.sigmoid({a})", "T.maximum({a}, 0)", "T.minimum({a}, 1)", "T.clip({a}, -1, 2)",
         "T.log1p({a})", "T.expm1({a})", "({a} ** 2)", "({a} ** 3)", "T.cast({a}, 'float32')",
         "T.cast({a}, 'int32')", "T.isnan({a})", "T.isinf({a})", "({a} * 2 + 1)", "~{a}",
         "T.nnet.relu({a})", "T.sin({a})", "T.inv({a})", "T.true_div({a}, 3)",
         "T.int_div({a}, 3)", "({a} % 3)"]
BINARY = ["({a} + {b})", "({a} - {b})", "({a} * {b})", "({a} / {b})", "({a} // {b})",
          "({a} % {b})", "({a} ** {b})", "T.maximum({a}, {b})", "T.minimum({a}, {b})",
          "T.lt({a}, {b})", "T.ge({a}, {b})", "T.eq({a}, {b})", "T.neq({a}, {b})",
          "T.and_({a}, {b})", "T.or_({a}, {b})", "T.xor({a}, {b})",
          "T.switch(T.gt({a}, 0), {a}, {b})", "T.arctan2({a}, {b})"]
REDUCE = ["T.sum({a}, axis={ax})", "T.prod({a}, axis={ax})", "T.max({a}, axis={ax})",
          "T.min({a}, axis={ax})", "T.mean({a}, axis={ax})", "T.any({a}, axis={ax})",
          "T.all({a}, axis={ax})", "T.argmax({a}, axis={ax1})", "T.sum({a}, axis={ax}, "
          "keepdims=True)", "{a}.var(axis={ax})"]
SPECIAL_F = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 100.0, -7.25, float("nan"), float("inf"),
             float("-inf"), 1e-310, 2.0 ** 24 + 1]


# -- case generation ------------------------------------------------------------------------------
def _values(rng, dtype, shape):
    n = int(np.prod(shape))
    if dtype == "bool":
        return (rng.randint(0, 2, size=n) > 0).reshape(shape)
    if dtype.startswith("float"):
        pool = np.array(SPECIAL_F + list(rng.uniform(-3, 3, 8)))
        return pool[rng.randint(0, len(pool), size=n)].astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    pool = [0, 1, -1, 2, 3, -3, 7, info.max, info.min, info.max - 1, 100]
    pool = [v for v in pool if info.min <= v <= info.max]
    return np.array([pool[i] for i in rng.randint(0, len(pool), size=n)], dtype=dtype).reshape(
        shape)


def _value_source(name, arr, layout):
    """Source lines making ``name`` hold ``arr`` in ``layout``."""
    lit = repr(arr.tolist())
    src = [f"{name} = np.array({lit}, dtype={arr.dtype.name!r}).reshape({arr.shape!r})"]
    if layout == "transposed" and arr.ndim >= 2:
        src.append(f"{name} = np.ascontiguousarray({name}.T).T")
    elif layout == "strided" and arr.ndim >= 1:
        src.append(f"{name} = np.repeat({name}, 2, axis=-1)[..., ::2]")
    elif layout == "negative" and arr.ndim >= 1:
        src.append(f"{name} = {name}[..., ::-1].copy()[..., ::-1]")
    elif layout == "readonly":
        src.append(f"{name}.flags.writeable = False")
    elif layout == "misaligned" and arr.itemsize > 1:
        src.append(f"_b = np.zeros({name}.nbytes + 1, np.uint8); _b[1:] = {name}.view(np.uint8)"
                   f".ravel()")
        src.append(f"{name} = np.frombuffer(_b.data, {name}.dtype, {name}.size, 1)"
                   f".reshape({name}.shape)")
    return src


class Case:
    """One random program: ``inputs`` (name, dtype, broadcastable), graph source lines that
    define ``outs``, and value source lines that define the input values."""

    def __init__(self, seed: int, index: int):
        import opcore.tensor as T

        self.id = index
        rng = np.random.RandomState([seed, index])
        self.inputs, self.values = [], []
        ns = {"T": T, "np": np}
        shapes = {}
        n_in = rng.randint(1, 4)
        base_nd = rng.randint(0, 4)
        base_shape = tuple(int(s) for s in rng.choice([0, 1, 2, 3, 4], size=base_nd,
                                                      p=[.05, .2, .3, .25, .2]))
        for k in range(n_in):
            dt = DTYPES[rng.randint(len(DTYPES))]
            if k > 0 and rng.rand() < 0.3:
                shape = ()  # a scalar partner
            elif rng.rand() < 0.25 and base_nd:
                shape = tuple(1 if rng.rand() < 0.5 else s for s in base_shape)
            else:
                shape = base_shape
            bc = tuple(s == 1 for s in shape)
            name = f"x{k}"
            self.inputs.append((name, dt, bc))
            ns[name] = T.TensorType(dt, bc)(name)
            shapes[name] = shape
            layout = LAYOUTS[rng.randint(len(LAYOUTS))] if shape and 0 not in shape else (
                "contiguous")
            self.values += _value_source(f"v{k}", _values(rng, dt, shape), layout)
        self.graph = []
        live = [f"x{k}" for k in range(n_in)]
        n_steps = rng.randint(1, 7)
        tries = 0
        while len(self.graph) < n_steps and tries < 60:
            tries += 1
            a = live[rng.randint(len(live))]
            var = ns[a]
            kind = rng.rand()
            if kind < 0.4:
                expr = UNARY[rng.randint(len(UNARY))].format(a=a)
            elif kind < 0.7:
                b = live[rng.randint(len(live))]
                expr = BINARY[rng.randint(len(BINARY))].format(a=a, b=b)
            elif kind < 0.82 and var.ndim > 0:
                axes = [d for d in range(var.ndim) if rng.rand() < 0.5]
                ax = None if not axes or rng.rand() < 0.2 else tuple(axes)
                ax1 = None if rng.rand() < 0.3 else int(rng.randint(var.ndim))
                expr = REDUCE[rng.randint(len(REDUCE))].format(a=a, ax=ax, ax1=ax1)
            elif kind < 0.92 and var.ndim > 0:
                expr = self._index(rng, a, var)
            else:
                expr = self._dot_or_nnet(rng, a, var)
            if expr is None:
                continue
            name = f"y{len(self.graph)}"
            try:
                ns[name] = eval(expr, ns)  # noqa: S307 (our own generated source)
            except Exception:  # not a valid graph for these types (bool - bool...)
                continue
            if not hasattr(ns[name], "type") or not hasattr(ns[name].type, "dtype"):
                continue
            self.graph.append(f"{name} = {expr}")
            live.append(name)
        outs = [v for v in live[n_in:]][-2:] or live[:1]
        self.graph.append(f"outs = [{', '.join(outs)}]")
        self.low_precision = any(getattr(ns[v], "dtype", "") in ("float32", "float16")
                                 for v in live)

    @staticmethod
    def _index(rng, a, var):
        choice = rng.randint(5)
        if choice == 0:
            return f"{a}[1:]"
        if choice == 1:
            return f"{a}[::-1]"
        if choice == 2:
            return f"{a}[::2]"
        if choice == 3:
            return f"{a}[{int(rng.randint(-1, 1))}:]"
        return f"T.inc_subtensor({a}[:1], 1)"

    @staticmethod
    def _dot_or_nnet(rng, a, var):
        if not var.dtype.startswith("float"):
            return None
        if var.ndim == 2:
            choice = rng.randint(5)
            return [f"T.dot({a}, {a}.T)", f"T.dot({a}.T, {a})", f"T.dot({a}, {a}[0])",
                    f"T.nnet.softmax({a})", f"T.nnet.logsoftmax({a})"][choice]
        if var.ndim == 1:
            return f"T.dot({a}, {a})"
        return None

    def source(self) -> str:
        """A standalone program comparing FAST_RUN with FAST_COMPILE on this case."""
        ins = ", ".join(n for n, _, _ in self.inputs)
        vals = ", ".join(f"v{k}" for k in range(len(self.inputs)))
        lines = ["import numpy as np", "import opcore", "import opcore.tensor as T",
                 "nan, inf = float('nan'), float('inf')"]
        lines += [f"{n} = T.TensorType({dt!r}, {bc!r})({n!r})" for n, dt, bc in self.inputs]
        lines += self.graph + self.values
        lines += [f"fr = opcore.function([{ins}], outs, mode='FAST_RUN', on_unused_input='ignore')",
                  f"fc = opcore.function([{ins}], outs, mode='FAST_COMPILE', "
                  "on_unused_input='ignore')",
                  "for name, f in (('FAST_RUN', fr), ('FAST_COMPILE', fc)):",
                  "    try:",
                  f"        print(name, f({vals}))",
                  "    except Exception as exc:",
                  "        print(name, 'raised', type(exc).__name__, exc)"]
        return "\n".join(lines) + "\n"


# -- comparison ------------------------------------------------------------------------------------
def compare(got, want, low_precision: bool = False) -> str | None:
    """None when ``got`` (FAST_RUN) agrees with ``want`` (FAST_COMPILE), else why not.
    ``low_precision``: the case computes in float32 somewhere, so a float64 result may carry a
    float32 intermediate's last-ulp difference (libm's ``tanhf`` vs NumPy's own)."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype.kind != "f":
        return None if np.array_equal(got, want) else f"values differ:\n{got!r}\n{want!r}"
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return f"NaN positions differ:\n{got!r}\n{want!r}"
    ok = np.isnan(want) | (got == want)
    rtol = 2e-5 if got.dtype == np.float32 or low_precision else 1e-11
    scale = np.max(np.abs(np.where(np.isfinite(want), want, 0)), initial=1.0)
    close = np.isclose(got, want, rtol=rtol, atol=rtol * scale)
    if not np.all(ok | close):
        return f"values differ:\n{got!r}\n{want!r}"
    return None


def _run(fn, vals):
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*[v.copy() if v.flags.writeable else v for v in vals]), None
        except Exception as exc:  # compared between the modes
            return None, exc


def _build(cases):
    """Symbolic inputs, outputs (per case) and values of ``cases`` in one namespace each."""
    import opcore.tensor as T

    ins, outs, vals, spans = [], [], [], []
    for case in cases:
        ns = {"T": T, "np": np, "nan": float("nan"), "inf": float("inf")}
        for n, dt, bc in case.inputs:
            ns[n] = T.TensorType(dt, bc)(f"c{case.id}_{n}")
        exec("\n".join(case.graph + case.values), ns)  # noqa: S102 (our own generated source)
        start = len(outs)
        ins += [ns[n] for n, _, _ in case.inputs]
        vals += [ns[f"v{k}"] for k in range(len(case.inputs))]
        outs += ns["outs"]
        spans.append((start, len(outs)))
    return ins, outs, vals, spans


def _outcome(e1, e2, name1, name2):
    if e1 is not None and e2 is not None:
        return None if type(e1) is type(e2) else (
            f"{name1} raised {type(e1).__name__}: {str(e1)[:300]}; {name2} raised "
            f"{type(e2).__name__}: {str(e2)[:300]}")
    if e1 is not None:
        return f"only {name1} raised {type(e1).__name__}: {str(e1)[:500]}"
    return f"only {name2} raised {type(e2).__name__}: {str(e2)[:500]}"


def _check_cases(cases):
    """Yield (case id, backend failure or None, rewrite difference or None) for cases run in
    one function per mode (a batch that raises in any mode is split in halves).

    Three modes run: FAST_RUN (the C backend), FAST_RUN's rewrites on the Python backend, and
    FAST_COMPILE.  The first two differ only by backend (a difference is a C backend failure);
    the last two differ only by rewrites (reported apart: an algebraic rewrite such as
    ``x / x -> 1`` changes NaN results by design, as in Theano)."""
    import opcore
    from opcore.compile import Mode

    ins, outs, vals, spans = _build(cases)
    fns = [opcore.function(ins, outs, mode=m, on_unused_input="ignore")
           for m in ("FAST_RUN", Mode(backend="py"), "FAST_COMPILE")]
    (got, e1), (mid, e2), (want, e3) = (_run(f, vals) for f in fns)
    if e1 is None and e2 is None and e3 is None:
        for case, (s, e) in zip(cases, spans):
            low = case.low_precision
            why = next((w for w in (compare(g, m, low) for g, m in zip(got[s:e], mid[s:e])) if w),
                       None)
            rw = next((w for w in (compare(m, w, low) for m, w in zip(mid[s:e], want[s:e])) if w),
                      None)
            yield case.id, why, rw
        return
    if len(cases) > 1:  # bisect: one failing case costs a few compiles, not one per case
        half = len(cases) // 2
        yield from _check_cases(cases[:half])
        yield from _check_cases(cases[half:])
        return
    why = rw = None
    if e1 is not None or e2 is not None:
        why = _outcome(e1, e2, "FAST_RUN", "FAST_RUN on the Python backend")
    if e2 is not None or e3 is not None:
        rw = _outcome(e2, e3, "FAST_RUN on the Python backend", "FAST_COMPILE")
    low = cases[0].low_precision
    if why is None and e1 is None and e2 is None:
        why = next((w for w in (compare(g, m, low) for g, m in zip(got, mid)) if w), None)
    if rw is None and e2 is None and e3 is None:
        rw = next((w for w in (compare(m, w, low) for m, w in zip(mid, want)) if w), None)
    yield cases[0].id, why, rw


def worker(seed: int, ids: list) -> None:
    cases = [Case(seed, i) for i in ids]
    for cid, why, rw in _check_cases(cases):
        print(json.dumps({"id": cid, "why": why, "rewrite": rw}), flush=True)


# -- driver ----------------------------------------------------------------------------------------
def _spawn(seed, ids, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--seed", str(seed), "--ids",
           ",".join(map(str, ids))]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out, rc, err = p.stdout, p.returncode, p.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        rc, err = "timeout", ""
    done = {}
    for line in out.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            done[r["id"]] = (r["why"], r["rewrite"])
    return done, rc, err


def _report(seed: int, i: int, why: str, out_dir: str | None) -> None:
    """Print case ``i``'s failure and its standalone repro (and save it under ``out_dir``)."""
    src = Case(seed, i).source()
    print(f"=== case {i} (seed {seed}): {why}\n--- repro:\n{src}", flush=True)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"repro_{seed}_{i}.py"), "w") as fh:
            fh.write(f"# {why.splitlines()[0]}\n" + src)


def run(cases: int, seed: int, batch: int, timeout: float, out_dir: str | None,
        jobs: int = 1, quiet: bool = False, strict_rewrites: bool = False) -> dict:
    """Run ``cases`` cases; returns the counts and the failures (id -> reason)."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.time()
    failures, crashes, rewrites = {}, [], {}
    batches = [list(range(i, min(i + batch, cases))) for i in range(0, cases, batch)]

    def one(ids):
        done, rc, err = _spawn(seed, ids, timeout)
        res = dict(done)
        missing = [i for i in ids if i not in done]
        if not missing:
            return res
        if len(missing) == 1:  # the case that killed (or hung) the worker
            what = "TIMEOUT" if rc == "timeout" else "CRASH"
            res[missing[0]] = (f"{what} (exit {rc}): {err[-800:]}", None)
            return res
        # the worker died or ran out of time: the rest again, in halves, to isolate the case
        half = len(missing) // 2
        res.update(one(missing[:half]))
        res.update(one(missing[half:]))
        return res

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for k, res in enumerate(pool.map(one, batches)):
            for i, (why, rw) in sorted(res.items()):
                if why:
                    failures[i] = why
                    if why.startswith(("CRASH", "TIMEOUT")):
                        crashes.append(i)
                elif rw:
                    rewrites[i] = rw
                if why or (rw and strict_rewrites):
                    _report(seed, i, why or rw, out_dir)
            if not quiet:
                print(f"  {min((k + 1) * batch, cases)}/{cases} cases, {len(failures)} failures,"
                      f" {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    shown = dict(failures)
    if strict_rewrites:
        shown.update(rewrites)
    summary = {"cases": cases, "crashes": len(crashes), "mismatches": len(failures) - len(crashes),
               "rewrite_differences": len(rewrites), "seconds": round(time.time() - t0, 1),
               "failures": shown, "rewrites": rewrites}
    print(f"fuzz_c: {cases} cases, seed {seed}: {len(crashes)} crashes, "
          f"{summary['mismatches']} mismatches (C vs Python backend), "
          f"{len(rewrites)} FAST_RUN-vs-FAST_COMPILE rewrite differences "
          f"{sorted(rewrites)[:20]}, {summary['seconds']} s")
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=40, help="cases per subprocess and compile")
    p.add_argument("--jobs", type=int, default=1, help="worker subprocesses at once")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per worker subprocess")
    p.add_argument("--out", help="write each failing case's repro script into this folder")
    p.add_argument("--strict-rewrites", action="store_true",
                   help="also fail on FAST_RUN-vs-FAST_COMPILE differences that the Python "
                        "backend shares (rewrites such as x / x -> 1)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.seed, [int(i) for i in args.ids.split(",")])
        return 0
    summary = run(args.cases, args.seed, args.batch, args.timeout, args.out, args.jobs,
                  strict_rewrites=args.strict_rewrites)
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
