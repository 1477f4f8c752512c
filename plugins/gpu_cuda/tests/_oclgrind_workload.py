"""Run under ``oclgrind --data-races``: every kind of generated kernel once, with small shapes.

Prints ``WORKLOAD OK`` when all results match NumPy; Oclgrind prints its findings on stderr.
"""

import sys

import numpy as np

from opcore.scalar import basic as S
from opcore_gpu_cuda import array as A
from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.drivers import open_context
from opcore_gpu_cuda.pygpu import elemwise

ctx = open_context("opencl0:0")
rng = np.random.default_rng(0)
x = rng.random((6, 9)).astype("float32")
g = A.asarray(x, ctx)
checks = []
o, = K.elemwise_scalar_op(S.mul, [g.T[1::2], g.T[::2][:4]], ["float32"])
checks.append(np.allclose(o.get(), x.T[1::2] * x.T[::2][:4]))
checks.append(np.allclose(g[:, ::-3].copy().get(), x[:, ::-3]))
for kind in ("sum", "max"):
    r = K.reduce(g[1:, 2:], kind, (0,), "float32")
    checks.append(np.allclose(r.get(), getattr(np, kind)(x[1:, 2:], axis=0), rtol=1e-5))
checks.append(np.allclose(K.reduce(g, "sum", None, "float32").get(), x.sum(), rtol=1e-5))
checks.append(np.allclose(K.gemm(g[::2], g.T[:, 1:]).get(), x[::2] @ x.T[:, 1:], rtol=1e-4))
ge = elemwise.GpuElemwise(ctx, "c = 4 * x + 5", [elemwise.arg("x", "float32", read=True),
                                                 elemwise.arg("c", "float32", write=True)])
c = A.empty(x.shape, "float32", ctx)
ge(g, c)
checks.append(np.allclose(c.get(), 4 * x + 5))
ctx.sync()
print("WORKLOAD OK" if all(checks) else f"WORKLOAD MISMATCH {checks}")
sys.exit(0 if all(checks) else 1)
