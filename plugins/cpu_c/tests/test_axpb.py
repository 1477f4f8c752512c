"""The Op guide's AXPB example as an ExternalCOp (C in axpb.c)."""

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from axpb_op import AXPB

from opcore_cpu_c.external import parse_sections


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_axpb_views_and_zero_size(dtype):
    x = T.matrix("x", dtype=dtype)
    f = opcore.function([x], AXPB(2.5, -1.0)(x), mode=Mode(backend="c"))
    assert f.linker.c_nodes, "the AXPB node should run in C"
    base = np.random.RandomState(0).randn(7, 6).astype(dtype)
    for a in (base, base[::2, 1::3], base[::-1, ::-2], base.T, base[:0], base[:, :0]):
        got = f(a)
        assert got.dtype == np.dtype(dtype) and got.shape == a.shape
        np.testing.assert_allclose(got, (2.5 * a.astype("float64") - 1.0).astype(dtype),
                                   rtol=1e-6)


def test_axpb_per_node_thunk_matches():
    """make_thunk (what DebugMode uses) compiles the node alone."""
    from opcore_cpu_c import CLinker

    x = T.dvector("x")
    node = AXPB(3, 1)(x).owner
    storage = {node.inputs[0]: [np.arange(5.0)[::-1]], node.outputs[0]: [None]}
    thunk = CLinker().make_thunk(node, storage)
    thunk()
    np.testing.assert_allclose(storage[node.outputs[0]][0], 3 * np.arange(5.0)[::-1] + 1)


def test_axpb_wrong_dtype_is_a_clear_error():
    from opcore_cpu_c import CLinker

    x = T.dvector("x")
    node = AXPB(1, 1)(x).owner
    storage = {node.inputs[0]: [np.arange(5, dtype="float32")], node.outputs[0]: [None]}
    with pytest.raises(TypeError, match="expected dtype float64"):
        CLinker().make_thunk(node, storage)()


def test_sections_parser_rejects_junk():
    with pytest.raises(ValueError, match="before the first"):
        parse_sections("int x;\n#section code\n")
    with pytest.raises(ValueError, match="unknown section"):
        parse_sections("#section nonsense\n")
