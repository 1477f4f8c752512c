"""One C function per distinct kernel: nodes whose rendered C is the same share one function of
the module, the schedule is a table given at run time, and everything per node (its storage
cells, its error messages, its profile slot, its state) stays per node."""

from __future__ import annotations

import re

import numpy as np
import pytest

import opcore
import opcore.cbuild.cache as cache
import opcore.tensor as T
from opcore.compile import Mode
from opcore.config import change_flags

opcore_cpu_c = pytest.importorskip("opcore_cpu_c")
from opcore_cpu_c.linker import step_table  # noqa: E402
from test_theano_c_protocol import Counter  # noqa: E402

C = Mode(backend="c")
PY = Mode(backend="py")


def _kernels(f) -> list[str]:
    """The C function of each distinct kernel of ``f``'s module."""
    return f.linker.program.kernel_sources


def _chain(depth: int):
    rng = np.random.default_rng(0)
    x = T.dmatrix("x")
    W = opcore.shared(rng.normal(size=(16, 16)) * 0.1, name="W")
    b = opcore.shared(np.zeros(16), name="b")
    h = x
    for _ in range(depth):
        h = T.tanh(T.dot(h, W) + b) + 0.5 * h
    cost = h.sum()
    return [x], [cost, *opcore.grad(cost, [W, b])], rng.normal(size=(4, 16))


def test_nodes_with_the_same_body_share_one_function():
    x, y, z = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("z")
    outs = [T.tanh(x) * 2 + 1, T.tanh(y) * 2 + 1, T.tanh(z) * 2 + 1]
    f = opcore.function([x, y, z], outs, mode=C)
    prog = f.linker.program
    fused = [k for n, k in zip(prog.nodes, prog.kernel_ids) if "Composite" in str(n.op)]
    assert len(fused) == 3 and len(set(fused)) == 1, (fused, [str(n.op) for n in prog.nodes])
    assert len(_kernels(f)) == len(set(prog.kernel_ids) - {-1})
    rng = np.random.default_rng(1)
    vals = [rng.normal(size=(3, 5)) for _ in range(3)]
    for got, v in zip(f(*vals), vals):  # each node reads and writes its own cells
        np.testing.assert_allclose(got, np.tanh(v) * 2 + 1, rtol=1e-14)


def test_deep_chain_and_gradient_match_python_with_few_kernels():
    shallow = None
    for depth in (6, 24):
        ins, outs, xv = _chain(depth)
        f = opcore.function(ins, outs, mode=C)
        ref = opcore.function(ins, outs, mode=PY)
        for got, want in zip(f(xv), ref(xv)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        n_c = sum(k >= 0 for k in f.linker.program.kernel_ids)
        n_kernels = len(_kernels(f))
        assert n_kernels < 20 < n_c, (n_kernels, n_c)
        if shallow is None:
            shallow = (n_kernels, n_c)
    # four times deeper: four times the nodes, the same number of kernels
    assert n_kernels == shallow[0] and n_c > 3 * shallow[1]


def test_graphs_from_the_same_kernels_share_one_module():
    f1 = opcore.function(*_chain(9)[:2], mode=C)
    f2 = opcore.function(*_chain(11)[:2], mode=C)
    # the only kernel that differs: the bias gradient adds `depth` terms in one fused loop
    assert len(set(_kernels(f1)) ^ set(_kernels(f2))) == 2
    x, y = T.dvector("x"), T.dvector("y")
    g1 = opcore.function([x, y], T.exp(x) * y, mode=C)
    g2 = opcore.function([x, y], [T.exp(y) * x, T.exp(x * y) * (x + 1)], mode=C)
    assert g1.linker.program.module is not g2.linker.program.module  # a kernel more in g2
    z = T.dvector("z")
    g3 = opcore.function([y, x, z], [T.exp(y) * x, T.exp(x) * y, T.exp(z) * y], mode=C)
    assert g3.linker.program.module is g1.linker.program.module  # three nodes, one kernel
    a, b, c = np.array([0.5, -1.0]), np.array([2.0, 3.0]), np.array([0.0, 0.25])
    np.testing.assert_allclose(g3(b, a, c), [np.exp(b) * a, np.exp(a) * b, np.exp(c) * b])


def test_error_in_a_shared_kernel_names_its_own_node():
    m1, m2, v1, v2 = T.dmatrix("m1"), T.dmatrix("m2"), T.dmatrix("v1"), T.dmatrix("v2")
    f = opcore.function([m1, v1, m2, v2], [T.dot(m1, v1), T.dot(m2, v2)], mode=C)
    prog = f.linker.program
    dots = [k for k in prog.kernel_ids if k >= 0]
    assert len(dots) == 2 and dots[0] == dots[1]
    good = np.ones((2, 3))
    with pytest.raises(ValueError) as info:
        f(good, np.ones((3, 2)), good, np.ones((4, 2)))
    msg = str(info.value)
    assert "not aligned" in msg and "m2" in msg and "v2" in msg and "m1" not in msg, msg
    np.testing.assert_allclose(f(good, np.ones((3, 2)), good, np.ones((3, 2)))[1],
                               np.full((2, 2), 3.0))


def test_bad_input_of_a_shared_kernel_names_its_own_input():
    x, y = T.dvector("first_input"), T.dvector("second_input")
    f = opcore.function([x, y], [T.exp(x) * 2, T.exp(y) * 2], mode=C)
    ids = [k for k in f.linker.program.kernel_ids if k >= 0]
    assert len(ids) == 2 and ids[0] == ids[1]
    f.trust_input = True  # the module's own input check sees the wrong rank
    with pytest.raises(TypeError, match=r"\(second_input\): expected a 1-d array, got 2-d"):
        f(np.ones(2), np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"\(first_input\): expected a 1-d array, got 2-d"):
        f(np.ones((2, 2)), np.ones(2))


def test_profile_times_each_node_of_a_shared_kernel():
    x, y = T.dvector("x"), T.dvector("y")
    f = opcore.function([x, y], [T.exp(x) * 3, T.exp(y) * 3], mode=C, profile=True)
    ids = [k for k in f.linker.program.kernel_ids if k >= 0]
    assert len(ids) == 2 and ids[0] == ids[1]
    big, small = np.ones(200_000), np.ones(3)
    for _ in range(3):
        f(big, small)
    times = f.profile.node_times
    nodes = f.linker.program.nodes
    assert set(times) == set(nodes) and all(f.profile.node_calls[n] == 3 for n in nodes)
    assert times[nodes[0]] > 10 * times[nodes[1]] or times[nodes[1]] > 10 * times[nodes[0]]


def test_nodes_with_their_own_state_keep_their_own_function():
    x, y = T.dvector("x"), T.dvector("y")
    f = opcore.function([x, y], [Counter(0.5)(x), Counter(0.5)(y)], mode=C)
    ids = [k for k in f.linker.program.kernel_ids if k >= 0]
    assert len(ids) == 2 and ids[0] != ids[1]  # APPLY_SPECIFIC names differ: not shared
    v = np.array([1.0, 2.0])
    for calls in (101, 102):  # each node counts its own calls
        a, b = f(v, v)
        np.testing.assert_allclose(a, v + calls * 0.5)
        np.testing.assert_allclose(b, v + calls * 0.5)


def test_in_place_and_python_fallback_nodes_in_a_shared_schedule():
    x = T.dmatrix("x")
    i = T.lvector("i")
    outs = [(T.exp(x) * 2).sum(axis=1)[i] + T.argmax(x, axis=1)[i],
            (T.exp(x.T) * 2).sum(axis=1)[i] + T.argmax(x.T, axis=1)[i]]
    f = opcore.function([x, i], outs, mode=C)
    assert -1 in f.linker.program.kernel_ids  # advanced indexing runs its Python thunk
    xv = np.random.default_rng(2).normal(size=(4, 4))
    iv = np.array([3, 0, 1])
    ref = opcore.function([x, i], outs, mode=PY)
    for got, want in zip(f(xv, iv), ref(xv, iv)):
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_module_rejects_a_bad_step_table():
    x = T.dvector("x")
    f = opcore.function([x], T.exp(x) + 1, mode=C)
    mod = f.linker.program.module
    with pytest.raises(ValueError, match="kernel"):
        mod.check(step_table([5], [[0, 1]], 2))
    with pytest.raises(ValueError, match="cell"):
        mod.check(step_table([0], [[0, 7]], 2))
    with pytest.raises(ValueError, match="past the cell table"):
        mod.check(step_table([0], [[0]], 2))
    with pytest.raises(ValueError, match="malformed"):
        mod.check(step_table([0], [[0, 1]], 2)[:-4])
    mod.check(step_table([0, -1], [[0, 1], []], 2))


def test_a_graph_of_known_kernels_compiles_no_kernel_again(monkeypatch):
    calls = []
    real = cache.run_compiler

    def counting(argv, timeout=None):
        calls.append("object" if "-c" in argv else "module")
        return real(argv, timeout)

    monkeypatch.setattr(cache, "run_compiler", counting)
    x, y = T.dvector("x"), T.dvector("y")
    with change_flags(cpu_c__kernel_objects=True):
        fa = opcore.function([x, y], T.sinh(x) * y + 3.5, mode=C)
        fb = opcore.function([x, y], T.cosh(x) - y * 1.25, mode=C)
        assert calls.count("object") >= 2 and calls.count("module") >= 2
        calls.clear()
        fab = opcore.function([x, y], [T.sinh(y) * x + 3.5, T.cosh(y) - x * 1.25], mode=C)
    assert calls == ["module"], calls  # the table of kernels, linked with the cached objects
    a, b = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    got = fab(a, b)
    np.testing.assert_allclose(got[0], np.sinh(b) * a + 3.5, rtol=1e-14)
    np.testing.assert_allclose(got[1], np.cosh(b) - a * 1.25, rtol=1e-14)
    np.testing.assert_allclose(fa(a, b), np.sinh(a) * b + 3.5, rtol=1e-14)
    np.testing.assert_allclose(fb(a, b), np.cosh(a) - b * 1.25, rtol=1e-14)


@pytest.mark.parametrize("objects", [True, False])
def test_both_build_ways_give_the_same_answers(objects):
    ins, outs, xv = _chain(5)
    with change_flags(cpu_c__kernel_objects=objects):
        f = opcore.function(ins, outs, mode=C)
    assert ("int oc_k_" in f.linker.program.source) == objects
    ref = opcore.function(ins, outs, mode=PY)
    for got, want in zip(f(xv), ref(xv)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
