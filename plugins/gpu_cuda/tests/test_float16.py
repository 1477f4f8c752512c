"""float16 nodes on the device: stored as ``ga_half``, computed in float32 (``load_half`` /
``store_half``), compared with NumPy's float16 results."""

from __future__ import annotations

import numpy as np

import opcore
import opcore.tensor as T
from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import asarray
from opcore_gpu_cuda.ops import GpuOp

rng = np.random.default_rng(3)


def test_half_kernels_match_numpy(ctx):
    a = rng.standard_normal((5, 9)).astype("float16")
    b = rng.standard_normal((5, 9)).astype("float16")
    ga, gb = asarray(a, ctx), asarray(b, ctx)
    from opcore.scalar import basic as S

    (out,) = K.elemwise_scalar_op(S.mul, [ga, gb[:, ::-1]], ["float16"])
    # each product is computed in float32 and rounded once to half: NumPy does the same
    np.testing.assert_array_equal(out.get(), a * b[:, ::-1])
    (up,) = K.elemwise_scalar_op(S.exp, [ga], ["float32"])
    np.testing.assert_allclose(up.get(), np.exp(a.astype("float32")), rtol=1e-6)
    s = K.reduce(ga, "sum", (1,), "float16")
    np.testing.assert_allclose(s.get(), a.astype("float32").sum(axis=1).astype("float16"),
                               rtol=1e-3)
    m = K.reduce(ga, "max", None, "float16")
    assert m.get() == a.max()


def test_half_graph_lifts_and_matches_numpy(gpu_flags):
    x, y = T.matrix("x", dtype="float16"), T.matrix("y", dtype="float16")
    out = T.tanh(x * y + x).sum(axis=0)
    z = T.cast(x, "float32") * 2 + 1
    f = opcore.function([x, y], [out, z])
    xv = rng.standard_normal((4, 6)).astype("float16")
    yv = rng.standard_normal((4, 6)).astype("float16")
    got_out, got_z = f(xv, yv)
    assert got_out.dtype == np.float16 and got_z.dtype == np.float32
    ref = np.tanh((xv.astype("float32") * yv + xv)).sum(axis=0)
    np.testing.assert_allclose(got_out.astype("float32"), ref, rtol=5e-3, atol=5e-3)
    np.testing.assert_array_equal(got_z, xv.astype("float32") * 2 + 1)
    ops = [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, GpuOp)]
    assert any("Sum" in o for o in ops) and any("Elemwise" in o for o in ops), ops
