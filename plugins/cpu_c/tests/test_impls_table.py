"""The C backend's one implementation table: what `opcore plugins --json` lists, and the lookup."""

from __future__ import annotations

import json
import subprocess
import sys

import opcore.tensor as T
from opcore.plugins import get_host
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise

from opcore_cpu_c.impls import family_modules
from opcore_cpu_c.impls.elemwise import ElemwiseC


def test_plugins_json_lists_the_c_backends_implementations_by_op_type():
    out = subprocess.run([sys.executable, "-m", "opcore", "plugins", "--json"],
                         capture_output=True, text=True, check=True).stdout
    backends = {b["name"]: b for b in json.loads(out)["backends"]}
    c = backends["c"]
    assert c["adapter"] == "c_code"
    # the op classes carrying their own c_code are listed too (plugin namespaces resolved)
    assert "opcore_cpu_c.external.ExternalCOp" in c["own_impls"]
    for name in ("opcore.tensor.elemwise.Elemwise", "opcore.tensor.elemwise.CAReduce",
                 "opcore.tensor.elemwise.DimShuffle", "opcore.tensor.basic.Alloc",
                 "opcore.tensor.shape.Reshape", "opcore.tensor.subtensor.Subtensor",
                 "opcore.tensor.math.Dot", "opcore.tensor.blas.Gemm"):
        assert name in c["impls"], name


def test_every_family_module_registers_under_backend_c():
    assert {"elemwise", "reduce", "basic", "shape", "subtensor", "blas"} <= set(family_modules())
    table = get_host().ensure_loaded().impls.by_backend()["c"]
    assert set(table["plugins"].values()) >= {"cpu_c"}


def test_lookup_gives_the_registered_impl_and_an_ops_own_c_code():
    impls = get_host().ensure_loaded().impls
    x = T.matrix("x")
    node = T.exp(x).owner
    assert isinstance(impls.lookup("c", node), ElemwiseC)
    assert impls.lookup("c", Elemwise) is impls.lookup("c", node.op)
    for op_type in (CAReduce, DimShuffle):
        assert impls.lookup("c", op_type) is not None

    class WithOwnC(Elemwise):  # an op carrying Theano's c_code is its own implementation
        def c_code(self, node, name, inputs, outputs, sub):
            return ""

    op = WithOwnC(node.op.scalar_op)
    assert impls.lookup("c", op) is op


def test_scipy_blas_is_a_py_implementation_and_agrees_with_the_numpy_perform():
    """The SciPy fast path of Gemm/Gemv/Ger is this plugin's ``py`` implementation; the core's
    perform() is NumPy only.  Both give the same values (and SciPy's BLAS is not imported to
    compile a function)."""
    import numpy as np

    import opcore
    from opcore.compile import Mode
    from opcore.tensor.blas import Gemm, Gemv, Ger, gemm, gemv, ger

    impls = get_host().ensure_loaded().impls
    for op_type in (Gemm, Gemv, Ger):
        assert type(impls.lookup("py", op_type)).__name__ == "ScipyBlasThunk"
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64", "complex128"):
        z = T.tensor(dtype=dtype, shape=(None, None))
        x = T.tensor(dtype=dtype, shape=(None, None))
        y = T.tensor(dtype=dtype, shape=(None, None))
        v = T.tensor(dtype=dtype, shape=(None,))
        w = T.tensor(dtype=dtype, shape=(None,))
        a, b = T.scalar(dtype=dtype), T.scalar(dtype=dtype)
        outs = [gemm(z, a, x, y, b), gemv(v, a, x, w, b), ger(z, a, v, w)]
        f = opcore.function([z, a, x, y, b, v, w], outs, mode=Mode(backend="py", optimizer=None))
        zv, xv, yv = (rng.standard_normal((3, 3)).astype(dtype) for _ in range(3))
        vv, wv = (rng.standard_normal(3).astype(dtype) for _ in range(2))
        av, bv = np.asarray(1.5, dtype), np.asarray(-0.5, dtype)
        got = f(zv, av, xv, yv, bv, vv, wv)
        want = [1.5 * xv @ yv - 0.5 * zv, 1.5 * xv @ wv - 0.5 * vv, zv + 1.5 * np.outer(vv, wv)]
        for g, r in zip(got, want):
            assert g.dtype == np.dtype(dtype)
            np.testing.assert_allclose(g, r, rtol=1e-5)
        # a shape error is still the op's own message (the thunk falls back to perform)
    import pytest

    with pytest.raises(ValueError, match="Gemm: shapes"):
        f(zv, av, np.ones((3, 2), zv.dtype), yv, bv, vv, wv)
    code = ("import sys, opcore, opcore.tensor as T; x = T.matrix(); y = T.matrix(); "
            "f = opcore.function([x, y], T.tanh(T.dot(x, y)) + 1); "
            "print('scipy.linalg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"  # (opcore-sparse, if installed, imports scipy.sparse)
