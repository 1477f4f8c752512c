"""opcore.graph's vocabulary and Theano's graph queries: inputs/ancestors order,
equal_computations, is_same_graph, clone_replace(share_inputs=), opcore.clone."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import graph


def test_vocabulary_exported():
    for name in ("Variable", "Constant", "Apply", "Op", "Type", "FunctionGraph", "graph_inputs",
                 "inputs", "ancestors", "io_toposort", "clone", "clone_replace",
                 "equal_computations", "is_same_graph"):
        assert hasattr(graph, name), name
    assert graph.Op is opcore.Op and graph.Apply is opcore.Apply


def test_inputs_and_ancestors_follow_theano_order():
    x, y, z = T.dscalars("x", "y", "z")
    out1 = x * y
    out2 = z + x
    # Theano walks depth-first from the last variable, each node's inputs left to right
    assert graph.inputs([out1, out2]) == [z, x, y]
    assert graph.inputs([out1]) == [x, y]
    anc = graph.ancestors([out1, out2])
    assert anc[0] is out2 and anc[1] is z and out1 in anc
    assert graph.inputs([out1 + out2], blockers=[out2]) == [x, y]
    c = T.constant(2.0)
    assert graph.inputs([x * c]) == [x, c]


def test_io_toposort_and_graph_inputs():
    x, y = T.dscalars("x", "y")
    a = x + y
    b = a * x
    nodes = graph.io_toposort([x, y], [b])
    assert nodes == [a.owner, b.owner]
    assert set(graph.graph_inputs([b])) == {x, y}


def test_equal_computations():
    x, y = T.dvectors("x", "y")
    assert graph.equal_computations([x + 1], [x + 1])
    assert not graph.equal_computations([x + 1], [x + 2])
    assert not graph.equal_computations([x + 1], [y + 1])
    assert graph.equal_computations([x + 1], [y + 1], [x], [y])
    assert not graph.equal_computations([x * (y * x)], [(x * y) * x])
    assert graph.equal_computations([T.exp(x).sum()], [T.exp(x).sum()])


def test_is_same_graph_theano_table():
    x, y = T.dscalars("x", "y")
    assert graph.is_same_graph(x + 1, x + 1)
    assert not graph.is_same_graph(x + 1, y + 1)
    assert graph.is_same_graph(x + 1, y + 1, givens={x: y})


@pytest.mark.parametrize("share", [True, False])
def test_clone_replace_share_inputs(share):
    x, y = T.dvectors("x", "y")
    w = opcore.shared(np.ones(2), name="w")
    out = (x * 2 + w) * y
    z = T.dvector("z")
    new = graph.clone_replace(out, {y: z}, share_inputs=share)
    roots = graph.inputs([new])
    assert z in roots and y not in roots and w in roots
    assert (x in roots) is share
    new_x = [r for r in roots if r.name == "x"][0]
    f = opcore.function([new_x, z], new)
    np.testing.assert_allclose(f(np.array([1.0, 2.0]), np.array([3.0, 4.0])),
                               (np.array([1.0, 2.0]) * 2 + 1) * np.array([3.0, 4.0]))


def test_opcore_clone_is_theano_clone():
    x, y = T.dscalars("x", "y")
    out = x ** 2
    new = opcore.clone(out, replace={x: y})
    assert graph.inputs([new])[0] is y
    assert float(opcore.function([y], new)(3.0)) == 9.0
    assert opcore.clone_replace is graph.clone_replace
