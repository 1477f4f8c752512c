"""Theano's graph text (as_string, FunctionGraph str) and var.clients."""

from __future__ import annotations

import pytest

import opcore
import opcore.tensor as T
from opcore.graph.describe import as_string
from opcore.graph.fg import FunctionGraph


def test_as_string_marks_shared_nodes_and_multi_outputs():
    x, y = T.dscalars("x", "y")
    s = x + y
    out = as_string([x, y], [s * s, s])
    assert out == ["Elemwise{mul,no_inplace}(*1 -> Elemwise{add,no_inplace}(x, y), *1)", "*1"]
    deep = x
    for _ in range(3000):  # no recursion limit
        deep = deep + 1
    assert as_string([x], [deep])[0].count("Elemwise{add,no_inplace}(") == 3000


def test_functiongraph_str_is_theanos():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)], clone=False)
    assert str(fg) == repr(fg) == "[Elemwise{exp,no_inplace}(x)]"


def test_variable_clients_as_theano_1_0():
    x = T.dvector("x")
    f = opcore.function([x], T.exp(x) * 2, mode=opcore.Mode(linker="py", optimizer=None))
    fg = f.maker.fgraph
    out = fg.outputs[0]
    assert out.clients == [("output", 0)] == fg.clients[out]
    inner = out.owner.inputs[0]
    assert inner.clients == fg.clients[inner] and inner.clients[0][0] is out.owner
    with pytest.raises(AttributeError, match="no FunctionGraph"):
        T.dvector().clients
