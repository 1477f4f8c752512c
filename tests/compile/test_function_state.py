"""Theano's function state: In(update=, value=), f[x], f.value, f.container, f.copy, tuple input
forms, and inputs that cut the graph.  Values are the ones Theano 1.0's docs give."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import In


def test_input_with_update_and_value_is_a_state():
    # Theano's docs: the accumulator example returns 10, 11, 12 and leaves 13 stored
    x, s = T.dscalars("x", "s")
    f = opcore.function([x, In(s, update=s + x, value=10.0)], s + 0 * x)
    assert [float(f(1)) for _ in range(3)] == [10.0, 11.0, 12.0]
    assert float(f[s]) == 13.0
    # the output s alone: x is used by the update, so it is not an unused input
    g = opcore.function([x, In(s, update=s + x, value=0.0)], s)
    g(2.0)
    g(3.0)
    assert float(g[s]) == 5.0
    # passing the state explicitly uses that value, then stores its update
    assert float(f(1.0, 100.0)) == 100.0 and float(f[s]) == 101.0


def test_reading_and_setting_stored_values():
    x, s = T.dscalars("x", "s")
    f = opcore.function([x, In(s, update=s * x, value=1.0, name="acc")], s)
    f[s] = 3.0
    assert float(f(2.0)) == 3.0
    assert float(f.value["acc"]) == 6.0 and float(f.value[s]) == 6.0
    f.value["acc"] = 1.0
    assert float(f(5.0)) == 1.0 and float(f.container[s].value) == 5.0
    f.container[s].value = 2.0
    assert float(f(1.0)) == 2.0
    assert s in f and "acc" in f and x in f
    with pytest.raises(KeyError, match="not an input"):
        f[T.dscalar("other")]
    w = opcore.shared(np.float64(4.0), name="w")
    h = opcore.function([x], x * w)
    assert float(h[w]) == 4.0
    h[w] = 5.0
    assert w.get_value() == 5.0


def test_tuple_input_forms():
    x, y, s = T.dscalars("x", "y", "s")
    f = opcore.function([x, (y, 3.0)], x + y)
    assert float(f(1.0)) == 4.0 and float(f(1.0, 1.0)) == 2.0
    g = opcore.function([x, ((s, s + x), 1.0)], s)
    assert [float(g(2.0)) for _ in range(3)] == [1.0, 3.0, 5.0]
    h = opcore.function([x, ("named", y, 2.0)], x * y)
    assert float(h(3.0)) == 6.0 and float(h(3.0, named=4.0)) == 12.0
    with pytest.raises(TypeError, match="update"):
        opcore.function([x, ((s, s + x, 1), 1.0)], s)


def test_copy():
    x, s = T.dscalars("x", "s")
    f = opcore.function([x, In(s, update=s + x, value=0.0)], s, name="acc")
    f(1.0)
    g = f.copy()  # starts from f's current stored value, then goes its own way
    assert g.name == "acc copy"
    assert float(g(10.0)) == 1.0 and float(f[s]) == 1.0 and float(g[s]) == 11.0
    h = f.copy(share_memory=True)
    h(5.0)
    assert float(f[s]) == 6.0
    k = f.copy(delete_updates=True, name="k")
    assert k.name == "k" and float(k(1.0)) == 6.0 and float(k(1.0)) == 6.0
    a = opcore.shared(np.float64(1.0), name="a")
    b = opcore.shared(np.float64(5.0), name="b")
    p = opcore.function([x], a * x, updates=[(a, a + 1)])
    q = p.copy(swap={a: b})
    assert float(q(2.0)) == 10.0 and b.get_value() == 6.0 and a.get_value() == 1.0
    with pytest.raises(TypeError, match="swap"):
        p.copy(swap={a: x})


def test_input_computed_from_other_variables_cuts_the_graph():
    # Theano and PyTensor: the value given for b replaces the subgraph that computes it
    a = T.dscalar("a")
    b = a * 2
    c = b + 1
    f = opcore.function([b], c)
    assert float(f(5.0)) == 6.0
    g = opcore.function([a, b], [c, a])
    assert [float(v) for v in g(1.0, 10.0)] == [11.0, 1.0]


def test_pickled_function_keeps_its_stored_values():
    import pickle

    x, s = T.dscalars("x", "s")
    f = opcore.function([x, In(s, update=s + x, value=0.0)], s)
    f(2.0)
    g = pickle.loads(pickle.dumps(f))
    # the unpickled function has its own variables: look the input up by name
    assert float(g["s"]) == 2.0 and float(g(1.0)) == 2.0 and float(g["s"]) == 3.0
    assert float(f[s]) == 2.0
