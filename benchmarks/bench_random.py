"""Random numbers: dropout on a 600x784 float32 batch, and MRG31k3p uniform draws per backend.

    python benchmarks/bench_random.py [--quick] [--gpu DEVICE]

Rows (time per call, and the ratio to NumPy; lower is better):

* dropout ``x * (u < 0.8)`` per call: NumPy ``Generator.random(dtype=float32)`` + compare +
  multiply, against opcore with ``RandomStream`` (NumPy-backed) and with ``MRG_RandomStreams``
  on the Python, C and (``--gpu opencl0:0`` / ``cuda0``) GPU backends, and PyTensor's
  ``RandomStream`` when it is importable;
* MRG uniform draws/s (float32, 470,400 draws from 15,360 streams per call) on each backend,
  as a ratio to NumPy's ``Generator.random`` draws/s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.sandbox.rng_mrg import MRG_RandomStreams
from opcore.tensor.random import RandomStream

try:
    import pytensor
    import pytensor.tensor as PT
except Exception:  # not installed: that row is skipped
    pytensor = None

SHAPE = (600, 784)
P = 0.8


def best(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--gpu", default=None, help="also run on this device (opencl0:0, cuda0)")
    args = ap.parse_args()
    rep = 3 if args.quick else 15
    xv = np.ones(SHAPE, dtype="float32")
    gen = np.random.default_rng(0)

    def numpy_dropout():
        return xv * (gen.random(SHAPE, dtype=np.float32) < P)

    t_np = best(numpy_dropout, rep)
    rows = [("dropout, NumPy Generator.random + compare", t_np)]
    x = T.fmatrix("x")
    backends = [("py", Mode(backend="py")), ("c", Mode(backend="c"))]
    for be, mode in backends:
        srng = RandomStream(1)
        f = opcore.function([x], x * T.lt(srng.uniform(size=x.shape, dtype="float32"), P),
                            mode=mode)
        rows.append((f"dropout, RandomStream.uniform ({be})", best(lambda: f(xv), rep)))
    for be, mode in backends:
        r = MRG_RandomStreams(1)
        f = opcore.function([x], x * r.binomial(size=x.shape, p=P, dtype="float32"), mode=mode)
        rows.append((f"dropout, MRG_RandomStreams.binomial ({be})", best(lambda: f(xv), rep)))
    if args.gpu:
        with opcore.config.change_flags(device=args.gpu):
            r = MRG_RandomStreams(1)
            f = opcore.function([x], x * r.binomial(size=x.shape, p=P, dtype="float32"))
            rows.append((f"dropout, MRG_RandomStreams.binomial ({args.gpu})",
                         best(lambda: f(xv), rep)))
    if pytensor is not None:
        from pytensor.tensor.random.utils import RandomStream as PTStream

        px = PT.fmatrix("x")
        ps = PTStream(1)
        pf = pytensor.function([px], px * PT.lt(ps.uniform(size=px.shape, dtype="float32"), P))
        rows.append(("dropout, PyTensor RandomStream.uniform", best(lambda: pf(xv), rep)))
    print(f"{'dropout on a 600x784 float32 batch':50s} {'time/call':>12s} {'vs NumPy':>9s}")
    for name, t in rows:
        print(f"{name:50s} {t * 1e3:10.3f}ms {t / t_np:8.2f}x")

    n = SHAPE[0] * SHAPE[1]
    t_gen = best(lambda: gen.random(SHAPE, dtype=np.float32), rep)
    draws = [("NumPy Generator.random (float32)", n / t_gen)]
    for be, mode in backends:
        r = MRG_RandomStreams(1)
        f = opcore.function([], r.uniform(size=SHAPE, dtype="float32"), mode=mode)
        draws.append((f"MRG31k3p uniform ({be})", n / best(f, rep)))
    if args.gpu:
        with opcore.config.change_flags(device=args.gpu):
            r = MRG_RandomStreams(1)
            f = opcore.function([], r.uniform(size=SHAPE, dtype="float32"))
            draws.append((f"MRG31k3p uniform ({args.gpu}, incl. transfers)", n / best(f, rep)))
    print()
    print(f"{'uniform draws (470,400 per call)':50s} {'draws/s':>12s} {'vs NumPy':>9s}")
    for name, rate in draws:
        print(f"{name:50s} {rate / 1e6:10.1f}M/s {rate / draws[0][1]:8.2f}x")


if __name__ == "__main__":
    main()
