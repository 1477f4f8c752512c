"""GPU plugin benchmark, on whatever device ``--device`` names (default: the first OpenCL device;
in CI that is PoCL running on the CPU, so absolute numbers say nothing about a real GPU).

    python benchmarks/bench_gpu.py [--quick] [--device opencl0:0|cuda0]

1. fused elementwise bandwidth (``a + a**3 * exp(b)`` as one generated kernel) as a fraction of
   the device's buffer-copy bandwidth;
2. one MLP training step (SGD on a 2-layer tanh/softmax-free MSE net) on the ``gpu`` backend vs
   NumPy written by hand and vs opcore's Python backend.
Prints one table.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.config import config
from opcore.scalar import basic as S
from opcore_gpu_cuda import array as A
from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.type import get_context

QUICK = "--quick" in sys.argv
DEVICE = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "opencl0:0"


def best(fn, repeat=5):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def bandwidth(ctx):
    n = 2**20 if QUICK else 2**22
    rng = np.random.default_rng(0)
    a = A.asarray(rng.random(n, dtype="float32"), ctx)
    b = A.asarray(rng.random(n, dtype="float32"), ctx)
    dst = A.empty((n,), "float32", ctx)
    rows = []
    copy_gb = None

    def copy():
        ctx.copy_bytes(dst.data, 0, a.data, 0, a.nbytes)
        ctx.sync()

    copy()
    t_c = best(copy)
    copy_gb = 2 * n * 4 / t_c / 1e9
    ha, hb = a.get(), b.get()
    mul_add = S.Composite(2, ("float32", "float32"), [
        (S.mul, (("i", 0), ("i", 1)), "float32"), (S.add, (("s", 0), ("i", 0)), "float32")],
        (1,))
    cube_exp = S.Composite(2, ("float32", "float32"), [
        (S.pow, (("i", 0), ("c", 3, "float32")), "float32"),
        (S.exp, (("i", 1),), "float32"), (S.mul, (("s", 0), ("s", 1)), "float32"),
        (S.add, (("i", 0), ("s", 2)), "float32")], (3,))
    for label, comp, ref_fn in [("a*b+a", mul_add, lambda: ha * hb + ha),
                                ("a+a**3*exp(b)", cube_exp, lambda: ha + ha ** 3 * np.exp(hb))]:
        body = K.scalar_body(comp, ["float32"] * 2, ["float32"])

        def fused():
            K.run_elemwise(ctx, "bench", body, [a, b], [dst])
            ctx.sync()

        fused()
        np.testing.assert_allclose(dst.get(), ref_fn(), rtol=1e-5)
        t_f = best(fused, repeat=3)
        gb = 3 * n * 4 / t_f / 1e9
        rows.append((f"fused {label} (1 kernel)", f"{n:,} f32", t_f, gb, gb / copy_gb))
        t_np = best(ref_fn, repeat=3)
        rows.append((f"NumPy {label} (host)", f"{n:,} f32", t_np, 3 * n * 4 / t_np / 1e9, None))
    rows.append(("device buffer copy", f"{n:,} f32", t_c, copy_gb, 1.0))
    return rows


def mlp(ctx_name):
    batch, nin, nh, nout = (64, 128, 64, 10) if QUICK else (256, 512, 256, 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, nin)).astype("float32")
    Y = rng.standard_normal((batch, nout)).astype("float32")
    W1_0 = (rng.standard_normal((nin, nh)) * 0.05).astype("float32")
    W2_0 = (rng.standard_normal((nh, nout)) * 0.05).astype("float32")
    lr = np.float32(0.01)

    def build(mode, make_shared=opcore.shared):
        x, y = T.fmatrix("x"), T.fmatrix("y")
        W1, W2 = make_shared(W1_0.copy()), make_shared(W2_0.copy())
        h = T.tanh(T.dot(x, W1))
        cost = T.sqr(T.dot(h, W2) - y).mean()
        g1, g2 = opcore.grad(cost, [W1, W2])
        return opcore.function([x, y], cost, updates=[(W1, W1 - lr * g1), (W2, W2 - lr * g2)],
                               mode=mode)

    W1, W2 = W1_0.copy(), W2_0.copy()

    def numpy_step():
        nonlocal W1, W2
        h = np.tanh(X @ W1)
        d = (h @ W2 - Y) * (2.0 / Y.size)
        g2 = h.T @ d
        g1 = X.T @ ((d @ W2.T) * (1 - h * h))
        W1 -= lr * g1
        W2 -= lr * g2

    rows = []
    t_np = best(numpy_step)
    rows.append(("MLP step, NumPy by hand", f"{batch}x{nin}x{nh}x{nout}", t_np, None, 1.0))
    f_py = build(Mode(backend="py"))
    f_py(X, Y)
    t_py = best(lambda: f_py(X, Y))
    rows.append(("MLP step, opcore py backend", "", t_py, None, t_py / t_np))
    with config.change_flags(device=ctx_name):
        f_gpu = build(Mode(backend="gpu"), lambda v: opcore.shared(v, target="cpu"))
        c0 = f_gpu(X, Y)
        assert np.isfinite(c0)
        t_gpu = best(lambda: f_gpu(X, Y))
        f_dev = build(Mode(backend="gpu"))  # opcore.shared puts the weights on the device
        f_dev(X, Y)
        t_dev = best(lambda: f_dev(X, Y))
    rows.append(("MLP step, gpu backend, host weights", "", t_gpu, None, t_gpu / t_np))
    rows.append(("  ... weights on device (shared)", "", t_dev, None, t_dev / t_np))
    return rows


def main() -> None:
    ctx = get_context(DEVICE)
    print(f"device {DEVICE}: {ctx.devname()}")
    rows = bandwidth(ctx)
    print(f"\n{'benchmark':<34} {'size':>14} {'time':>10} {'GB/s':>8} {'ratio':>8}")
    for name, size, t, gb, ratio in rows:
        print(f"{name:<34} {size:>14} {t * 1e3:>8.2f}ms {gb:>8.2f} "
              f"{'' if ratio is None else f'{ratio:.2f}':>8}")
    print("  (ratio = bandwidth / device copy bandwidth; aim >= 0.8 on a real GPU)")
    rows = mlp(DEVICE)
    print(f"\n{'benchmark':<34} {'shape':>14} {'time':>10} {'vs NumPy':>8}")
    for name, size, t, _, ratio in rows:
        print(f"{name:<34} {size:>14} {t * 1e3:>8.2f}ms {ratio:>8.2f}")


if __name__ == "__main__":
    main()
