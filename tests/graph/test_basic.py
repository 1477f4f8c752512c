"""Variables, Apply nodes, traversal, cloning and FunctionGraph (incl. very deep graphs)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.graph.traversal import (ancestors, clone, clone_replace, graph_inputs,
                                    io_toposort)


def test_variable_owner_index_and_apply():
    x, y = T.dvectors("x, y")
    z = x + y
    assert isinstance(z.owner, Apply)
    assert z.owner.inputs == [x, y] and z.owner.outputs == [z] and z.index == 0
    assert x.owner is None
    assert z.owner.out is z and z.owner.nin == 2 and z.owner.nout == 1
    c = T.constant(1.0)
    assert isinstance(c, Constant) and c.owner is None


def test_apply_rejects_non_variables():
    with pytest.raises(TypeError, match="not a Variable"):
        Apply(T.add.op, [1.0], [T.dscalar()])


def test_traversal_helpers():
    x, y = T.dscalars("x, y")
    a = x * y
    b = a + x
    c = T.exp(b)
    assert set(graph_inputs([c])) == {x, y}
    order = io_toposort([x, y], [c])
    assert order == [a.owner, b.owner, c.owner]
    anc = ancestors([c])
    assert {x, y, a, b, c} <= set(anc)
    assert graph_inputs([c], blockers=[b]) == [b]


def test_clone_and_clone_replace():
    x, y = T.dscalars("x, y")
    z = x * 2 + y
    (x2, y2), (z2,) = clone([x, y], [z])
    assert x2 is not x and z2 is not z and z2.owner.op == z.owner.op
    assert set(graph_inputs([z2])) - {v for v in graph_inputs([z2]) if isinstance(v, Constant)} \
        == {x2, y2}
    w = T.dscalar("w")
    z3 = clone_replace(z, {x: w})
    f = opcore.function([w, y], z3)
    assert float(f(3.0, 1.0)) == 7.0
    z4 = clone_replace([z], [(y, x)])[0]
    assert float(opcore.function([x], z4)(2.0)) == 6.0
    with pytest.raises(TypeError):
        clone_replace(z, {x: T.dvector()})


def _chain(n):
    x = T.dscalar("x")
    y = x
    for _ in range(n):
        y = y + 1.0
    return x, y


def test_deep_chain_toposort_clone_no_recursion():
    n = 100_000
    x, y = _chain(n)
    order = io_toposort([x], [y])
    assert len(order) == n
    fg = FunctionGraph([x], [y], clone=True)
    assert len(fg.apply_nodes) == n
    assert len(fg.toposort()) == n
    fg2 = fg.clone()
    assert len(fg2.apply_nodes) == n and fg2.inputs[0] is not fg.inputs[0]
    assert [v for v in graph_inputs([y]) if not isinstance(v, Constant)] == [x]


def test_deep_chain_compiles_and_runs():
    x, y = _chain(5_000)
    f = opcore.function([x], y)
    assert float(f(1.0)) == 5_001.0
    g = T.grad(y, x)
    assert float(opcore.function([x], g)(0.0)) == 1.0
    assert "add" in opcore.printing.debugprint(y, depth=3, file="str")


def test_function_graph_clients_and_replace():
    x, y = T.dvectors("x, y")
    a = x * y
    out = T.exp(a) + a
    fg = FunctionGraph([x, y], [out], clone=False)
    assert len(fg.clients[a]) == 2
    assert fg.clients[out] == [("output", 0)]
    new = x + y
    fg.replace(a, new, reason="test")
    assert a.owner not in fg.apply_nodes
    assert new.owner in fg.apply_nodes
    assert len(fg.clients[new]) == 2
    with pytest.raises(TypeError, match="type"):
        fg.replace(new, T.dmatrix())
    # the edited graph computes the new expression
    f = opcore.function([x, y], fg.outputs[0])
    xv, yv = np.array([1.0]), np.array([2.0])
    np.testing.assert_allclose(f(xv, yv), np.exp(xv + yv) + xv + yv)


def test_function_graph_inputs_must_be_roots():
    x = T.dvector("x")
    y = x * 2
    with pytest.raises(ValueError, match="roots"):
        FunctionGraph([y], [y + 1], clone=False)


def test_function_graph_pickles():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) * 2])
    fg2 = pickle.loads(pickle.dumps(fg))
    assert len(fg2.apply_nodes) == len(fg.apply_nodes)
    assert [str(n.op) for n in fg2.toposort()] == [str(n.op) for n in fg.toposort()]


def test_variable_pickle_roundtrip_keeps_structure():
    x = T.dmatrix("x")
    y = (x.sum(axis=0) * 3).dimshuffle("x", 0)
    y2 = pickle.loads(pickle.dumps(y))
    (x2,) = [v for v in graph_inputs([y2]) if isinstance(v, Variable) and v.name == "x"]
    xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(opcore.function([x2], y2)(xv), xv.sum(0)[None] * 3)


def test_as_symbolic_turns_values_into_variables_of_the_registered_family():
    from opcore.graph.basic import as_symbolic
    from opcore.graph.type import Type

    x = T.dvector("x")
    assert as_symbolic(x) is x
    node = (x * 2).owner
    assert as_symbolic(node) is node.outputs[0]
    # plain values are tensors: opcore.tensor registers as_tensor_variable for them
    for value in (3, 2.5, [1.0, 2.0], np.arange(6, dtype="int16").reshape(2, 3)):
        v = as_symbolic(value)
        ref = T.as_tensor_variable(value)
        assert v.type == ref.type
        np.testing.assert_array_equal(v.data, ref.data)

    class Box:  # a family of its own registers its value class
        pass

    class BoxType(Type):
        def filter(self, data, strict=False, allow_downcast=None):
            if not isinstance(data, Box):
                raise TypeError("not a Box")
            return data

        def __eq__(self, other):
            return type(other) is BoxType

        def __hash__(self):
            return hash(BoxType)

    as_symbolic.register(Box, lambda b: BoxType().make_constant(b))
    b = Box()
    c = as_symbolic(b)
    assert isinstance(c, Constant) and c.data is b and c.type == BoxType()


def test_function_turns_plain_outputs_updates_and_givens_into_tensors():
    # compile imports no tensor module: plain values reach it through graph.basic.as_symbolic
    x = T.dscalar("x")
    s = opcore.shared(np.float64(1.0), name="s")
    f = opcore.function([x], [x + 1, 7.5], updates={s: 4.0})
    out = f(1.0)
    assert float(out[0]) == 2.0 and float(out[1]) == 7.5
    assert float(s.get_value()) == 4.0
    g = opcore.function([], s * 2, givens={s: np.float64(3.0)})
    assert float(g()) == 6.0
    with pytest.raises(TypeError, match="function output 0 is object"):
        opcore.function([x], object())
