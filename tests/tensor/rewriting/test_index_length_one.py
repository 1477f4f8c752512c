"""``x[0]`` / ``x[-1]`` of an axis of length 1 by type is a view dropping the axis (the one-step
scan's ``outputs[-1]``): the unrewritten graph's values on every dtype; other indices still
raise ``IndexError``."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.tensor.subtensor import Subtensor

ON = Mode(linker="py")
OFF = Mode(linker="py").excluding("index_of_length_one_axis")


def _subtensors(f) -> int:
    return sum(isinstance(n.op, Subtensor) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int64", "float32", "float64",
                                   "complex128"])
def test_first_and_last_of_a_padded_axis(dtype):
    v = T.matrix("v", dtype=dtype)
    p = T.shape_padleft(v)
    row = T.TensorType(dtype, shape=(1, None))("row")
    outs = [p[-1], p[0], row[0], row[-1]]
    f = opcore.function([v, row], outs, mode=ON)
    g = opcore.function([v, row], outs, mode=OFF)
    assert _subtensors(f) == 0 and _subtensors(g) == 4
    vv = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    rv = np.arange(4).reshape(1, 4).astype(dtype)
    for got, want in zip(f(vv, rv), g(vv, rv)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_other_indices_still_raise():
    row = T.TensorType("float64", shape=(1, None))("row")
    i = T.lscalar("i")
    f = opcore.function([row, i], [row[1], row[i]], mode=ON)
    assert _subtensors(f) == 2
    with pytest.raises(IndexError):
        f(np.zeros((1, 3)), 0)


def test_scan_of_one_step_reads_its_output_without_indexing():
    x0 = T.dvector("x0")
    out, _ = opcore.scan(lambda h: h * 2 + 1, outputs_info=x0, n_steps=1)
    f = opcore.function([x0], out[-1], mode=ON)
    assert _subtensors(f) == 0
    np.testing.assert_array_equal(f(np.array([1.0, -2.0])), [3.0, -3.0])
