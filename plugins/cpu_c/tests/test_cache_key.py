"""The compile cache key is structural: names of variables are not part of a module."""

import os

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.cbuild.cli import list_entries
from opcore.compile import Mode
from opcore.config import change_flags

#: graphs per run in the suite; the notes give the figures of a 300-graph run
GRAPHS = int(os.environ.get("OPCORE_TEST_RENAMED_GRAPHS", "25"))


def test_graphs_differing_only_in_names_share_one_module(tmp_path):
    a = np.linspace(-1, 1, 5)
    with change_flags(compiledir=str(tmp_path)):
        fns = []
        for i in range(GRAPHS):
            x = T.dvector(f"input_{i}")
            y = T.exp(x) * 2 + x
            y.name = f"output_{i}"
            f = opcore.function([x], y, mode=Mode(backend="c"), name=f"fn_{i}")
            assert f.linker.c_nodes
            np.testing.assert_allclose(f(a), np.exp(a) * 2 + a)
            fns.append(f)
        entries = list_entries()
    assert len(entries) == 1, [e["ops"] for e in entries]
    # the names still reach the messages, each function its own
    for i in (0, GRAPHS - 1):
        with pytest.raises(TypeError, match=f"input_{i}"):
            fns[i](np.ones((2, 2)))


def test_broadcast_error_names_its_own_input(tmp_path):
    with change_flags(compiledir=str(tmp_path)):
        msgs = []
        for name in ("left_operand", "other_name"):
            x = T.dmatrix(name)
            z = T.dmatrix("z")
            f = opcore.function([x, z], x + z, mode=Mode(backend="c"))
            with pytest.raises(ValueError) as info:
                f(np.ones((1, 3)), np.ones((4, 3)))
            msgs.append(str(info.value))
        assert len(list_entries()) == 1
    assert "left_operand" in msgs[0] and "other_name" in msgs[1], msgs
