"""Control-flow benchmark: a 1,000-step RNN forward+backward through scan, and ifelse vs switch.

    python benchmarks/bench_scan.py [--quick]

The RNN (hidden 64, input 32, ``h_t = tanh(x_t W + h_{t-1} U + b)``, cost ``sum(h**2)``) is run
by opcore (default mode, i.e. the best installed backend, and FAST_COMPILE = Python), by a
hand-written NumPy loop with manual back-propagation through time, and by PyTensor's scan when
PyTensor is importable.  The ifelse case picks the mean of one of two large matrices, lazily
(``ifelse``) or eagerly (``T.switch``).  Prints one table; lower is better.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import opcore
import opcore.tensor as T
from opcore.ifelse import ifelse

warnings.filterwarnings("ignore")

try:
    import pytensor
    import pytensor.tensor as PT
    from pytensor.ifelse import ifelse as pt_ifelse
except Exception:  # not installed: that column stays empty
    pytensor = None

QUICK = "--quick" in sys.argv
STEPS = 200 if QUICK else 1000
HID, INP = 64, 32


def best(fn, repeat=7):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def numpy_rnn(x, h0, W, U, b):
    """Forward and manual BPTT of sum(h**2); returns the gradients (x, h0, W, U, b)."""
    n = x.shape[0]
    hs = np.empty((n + 1, h0.shape[0]))
    hs[0] = h0
    for t in range(n):
        hs[t + 1] = np.tanh(x[t] @ W + hs[t] @ U + b)
    gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    gx = np.empty_like(x)
    carry = np.zeros_like(h0)
    for t in range(n - 1, -1, -1):
        g = 2 * hs[t + 1] + carry
        da = g * (1 - hs[t + 1] ** 2)
        gW += np.outer(x[t], da)
        gU += np.outer(hs[t], da)
        gb += da
        gx[t] = da @ W.T
        carry = da @ U.T
    return gx, carry, gW, gU, gb


def opcore_rnn(mode):
    x, W, U = T.dmatrices("x", "W", "U")
    h0, b = T.dvectors("h0", "b")
    h, _ = opcore.scan(lambda x_t, h, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h, U) + b),
                       sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    cost = (h ** 2).sum()
    return opcore.function([x, h0, W, U, b], T.grad(cost, [x, h0, W, U, b]), mode=mode)


def pytensor_rnn():
    x, W, U = PT.dmatrices("x", "W", "U")
    h0, b = PT.dvectors("h0", "b")
    h, _ = pytensor.scan(lambda x_t, h, W, U, b: PT.tanh(PT.dot(x_t, W) + PT.dot(h, U) + b),
                         sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    cost = (h ** 2).sum()
    return pytensor.function([x, h0, W, U, b], pytensor.grad(cost, [x, h0, W, U, b]))


def rnn_rows():
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal((STEPS, INP)), rng.standard_normal(HID),
            rng.standard_normal((INP, HID)) * 0.1, rng.standard_normal((HID, HID)) * 0.1,
            rng.standard_normal(HID) * 0.1]
    ref = numpy_rnn(*vals)
    t_np = best(lambda: numpy_rnn(*vals))
    rows = [("numpy loop (manual BPTT)", t_np, 0.0)]
    for label, mode in (("opcore FAST_RUN", None),
                        ("opcore FAST_COMPILE (Python)", "FAST_COMPILE")):
        t0 = time.perf_counter()
        f = opcore_rnn(mode)
        tc = time.perf_counter() - t0
        got = f(*vals)
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a, r, rtol=1e-7, atol=1e-9)
        rows.append((label, best(lambda: f(*vals)), tc))
    if pytensor is not None:
        t0 = time.perf_counter()
        g = pytensor_rnn()
        tc = time.perf_counter() - t0
        got = g(*vals)
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a, r, rtol=1e-7, atol=1e-9)
        rows.append(("pytensor scan", best(lambda: g(*vals)), tc))
    return rows, t_np


def ifelse_rows():
    n = 500 if QUICK else 2000
    big1 = np.ones((n, n))
    big2 = np.full((n, n), 2.0)
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    # branches with real work, so skipping one matters
    tx, ty = T.exp(x).mean(), T.log(y).mean()
    f_sw = opcore.function([a, b, x, y], T.switch(T.lt(a, b), tx, ty),
                           mode=opcore.Mode(linker="vm"))
    f_if = opcore.function([a, b, x, y], ifelse(T.lt(a, b), tx, ty),
                           mode=opcore.Mode(linker="vm"))
    assert np.isclose(f_sw(0.0, 1.0, big1, big2), f_if(0.0, 1.0, big1, big2))
    assert np.isclose(f_sw(1.0, 0.0, big1, big2), f_if(1.0, 0.0, big1, big2))
    rows = [(f"switch, {n}x{n} branches", best(lambda: f_sw(0.0, 1.0, big1, big2), 5)),
            (f"ifelse, {n}x{n} branches", best(lambda: f_if(0.0, 1.0, big1, big2), 5)),
            ("numpy, taken branch only", best(lambda: np.exp(big1).mean(), 5))]
    if pytensor is not None:
        pa, pb = PT.dscalars("a", "b")
        px, py = PT.dmatrices("x", "y")
        ptx, pty = PT.exp(px).mean(), PT.log(py).mean()
        g_sw = pytensor.function([pa, pb, px, py], PT.switch(PT.lt(pa, pb), ptx, pty))
        g_if = pytensor.function([pa, pb, px, py], pt_ifelse(PT.lt(pa, pb), ptx, pty))
        rows.append(("pytensor switch", best(lambda: g_sw(0.0, 1.0, big1, big2), 5)))
        rows.append(("pytensor ifelse", best(lambda: g_if(0.0, 1.0, big1, big2), 5)))
    return rows


def main():
    rows, t_np = rnn_rows()
    print(f"RNN forward+backward, {STEPS} steps, hidden {HID}, input {INP} "
          f"(gradients checked against the NumPy loop)")
    print(f"{'implementation':34s} {'time/call':>11s} {'x numpy':>8s} {'compile':>9s}")
    for label, t, tc in rows:
        print(f"{label:34s} {t * 1e3:9.2f}ms {t / t_np:8.2f} {tc:8.2f}s")
    print()
    irows = ifelse_rows()
    base = irows[0][1]
    print("ifelse vs switch (condition true: the exp branch is needed)")
    print(f"{'implementation':34s} {'time/call':>11s} {'x switch':>8s}")
    for label, t in irows:
        print(f"{label:34s} {t * 1e3:9.2f}ms {t / base:8.2f}")
    if pytensor is None:
        print("\n(PyTensor not importable: its rows are omitted)")


if __name__ == "__main__":
    main()
