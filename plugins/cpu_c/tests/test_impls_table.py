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
