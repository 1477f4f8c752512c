"""Elementwise fusion of nodes with several clients: absorbed once, or exported as extra outputs
of a multi-output Composite; graphs before/after and values vs. the unrewritten graph, on the
Python backend and (when its plugin and a compiler are there) the C backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.scalar.basic import Composite
from opcore.tensor.elemwise import Elemwise

warnings.filterwarnings("ignore", message=".*installed but unavailable.*")

NONE = Mode(linker="py", optimizer=None)


def _c_available() -> tuple[bool, str]:
    from opcore.plugins import get_host

    host = get_host()
    host.ensure_loaded()
    be = host.backends.get("c")
    if be is None:
        return False, "the cpu_c plugin is not installed"
    ok, why = be.available()
    return bool(ok), why


@pytest.fixture(params=["py", "c"])
def mode(request):
    if request.param == "c":
        ok, why = _c_available()
        if not ok:
            pytest.skip(f"C backend unavailable: {why}")
    return Mode(backend=request.param, optimizer="fast_run")


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def _compile_and_compare(inputs, outputs, values, mode):
    f = opcore.function(inputs, outputs, mode=mode)
    g = opcore.function(inputs, outputs, mode=NONE)
    got, want = f(*[np.copy(v) for v in values]), g(*[np.copy(v) for v in values])
    if not isinstance(got, list):
        got, want = [got], [want]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert np.asarray(a).shape == np.asarray(b).shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return f


def _nodes(f):
    return f.maker.fgraph.toposort()


def _composite_outputs(node) -> int:
    so = node.op.scalar_op
    return len(so.outputs) if isinstance(so, Composite) else 1


def test_node_with_two_clients_in_the_group_is_computed_once(mode, rng):
    x = T.dvector("x")
    y = T.exp(x)
    out = y + y * 2
    before = len(opcore.function([x], out, mode=NONE).maker.fgraph.apply_nodes)
    f = _compile_and_compare([x], out, [rng.random(7)], mode)
    (node,) = _nodes(f)
    assert before >= 3
    assert isinstance(node.op, Elemwise) and _composite_outputs(node) == 1
    names = [s[0].name for s in node.op.scalar_op.steps]
    assert names.count("exp") == 1  # computed once, used twice


def test_pow10_and_pow3_outputs_fuse_into_one_node(mode, rng):
    x = T.dvector("x")
    f = _compile_and_compare([x], [x ** 10, x ** 3], [rng.random(9) + 0.5], mode)
    (node,) = _nodes(f)
    assert _composite_outputs(node) == 2
    excl = opcore.function([x], [x ** 10, x ** 3], mode=mode.excluding("fusion"))
    assert len(_nodes(excl)) >= 3


def test_intermediate_that_is_also_an_output_becomes_an_extra_output(mode, rng):
    x = T.dmatrix("x")
    z = T.sin(x)
    outs = [z, z * 2 + 1, T.cos(z) - x]
    f = _compile_and_compare([x], outs, [rng.random((4, 5))], mode)
    (node,) = _nodes(f)
    assert _composite_outputs(node) == 3


def test_sibling_consumers_of_a_shared_result_are_fused(mode, rng):
    x = T.dvector("x")
    y = T.dvector("y")
    s = T.tanh(x * y)
    outs = [s + 1, s * x, T.exp(s)]
    f = _compile_and_compare([x, y], outs, [rng.random(6), rng.random(6)], mode)
    assert len(_nodes(f)) == 1
    assert _composite_outputs(_nodes(f)[0]) == 3


def test_result_with_a_non_elementwise_client_stays_available(mode, rng):
    x = T.dmatrix("x")
    y = T.exp(x)
    total = y.sum()
    out = y * 2 + total  # total depends on y: y must be produced before the sum
    f = _compile_and_compare([x], [out], [rng.random((3, 4))], mode)
    elem = [n for n in _nodes(f) if isinstance(n.op, Elemwise)]
    assert len(elem) <= 2  # no cycle: exp is exported, the add after the sum is its own loop


def test_broadcast_pattern_mismatch_is_not_an_extra_output(mode, rng):
    x = T.dmatrix("x")
    r = T.drow("r")
    e = T.exp(r)  # (1, n): cannot be an output of an (m, n) loop
    outs = [e, x + e]
    f = _compile_and_compare([x, r], outs, [rng.random((3, 4)), rng.random((1, 4))], mode)
    for node in _nodes(f):
        if isinstance(node.op, Elemwise):
            for o in node.outputs:
                assert o.type.broadcastable in ((False, False), (True, False))
                if _composite_outputs(node) > 1:
                    assert all(v.type.broadcastable == (False, False) for v in node.outputs)


def test_strided_and_broadcast_inputs_with_multi_output(mode, rng):
    x = T.dmatrix("x")
    b = T.drow("b")
    z = T.exp(x + b)
    outs = [z, z * z, z - 1]
    xv = rng.random((5, 8))[:, ::2]
    _compile_and_compare([x, b], outs, [xv, rng.random((1, 4))], mode)


def test_excluding_fusion_keeps_separate_nodes(rng):
    x = T.dvector("x")
    y = T.exp(x)
    mode = Mode(backend="py", optimizer="fast_run").excluding("fusion")
    f = _compile_and_compare([x], [y, y * 2 + 1], [rng.random(4)], mode)
    assert len(_nodes(f)) >= 2
    assert all(_composite_outputs(n) == 1 for n in _nodes(f) if isinstance(n.op, Elemwise))


def test_fused_composite_is_deterministic():
    """The same graph built again fuses to the same Composite (the C cache key depends on it)."""
    def build():
        x = T.dvector("x")
        s = T.tanh(x)
        outs = [x ** 10, x ** 3, s + 1, s * x, T.exp(s)]
        f = opcore.function([x], outs, mode=Mode(backend="py", optimizer="fast_run"))
        return [n.op for n in _nodes(f)]
    first = build()
    for _ in range(6):
        assert build() == first


def test_residual_layers_fuse_forward_results_when_the_widest_group_closes_a_cycle(mode, rng):
    """In the gradient of ``h = tanh(h @ W + b) + 0.5 * h`` the forward and backward loops meet
    through Dots, so the group of all elementwise nodes around a layer would close a cycle; the
    producers-only group still fuses: each ``tanh`` is computed by a node that also gives the
    layer's residual sum or the backward factor (no single-output node computes ``tanh`` alone)."""
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    b = T.dvector("b")
    h = x
    for _ in range(3):
        h = T.tanh(T.dot(h, W) + b) + 0.5 * h
    outs = [h.sum(), *T.grad(h.sum(), [W, b])]
    vals = [rng.standard_normal((4, 5)), rng.standard_normal((5, 5)) * 0.3, rng.random(5)]
    f = _compile_and_compare([x, W, b], outs, vals, mode)
    tanh_nodes = [n for n in _nodes(f) if isinstance(n.op, Elemwise) and "tanh" in str(n.op)]
    assert tanh_nodes and all(_composite_outputs(n) >= 2 for n in tanh_nodes)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_residual_chain_every_fused_node_reads_a_non_elementwise_result(mode, rng, depth):
    """When the widest group around the last layer of ``h = tanh(h @ W + b) + 0.5 * h`` closes a
    cycle, the consumers that close none still join the producers: the last layer's residual
    sum is computed by the node that gives its ``tanh`` and the backward factor ``1 - tanh**2``,
    so no elementwise node is left reading only other elementwise nodes' results (which fusion
    would have merged into them)."""
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    b = T.dvector("b")
    h = x
    for _ in range(depth):
        h = T.tanh(T.dot(h, W) + b) + 0.5 * h
    outs = [h.sum(), *T.grad(h.sum(), [W, b])]
    vals = [rng.standard_normal((4, 5)), rng.standard_normal((5, 5)) * 0.3, rng.random(5)]
    f = _compile_and_compare([x, W, b], outs, vals, mode)
    for n in _nodes(f):
        if isinstance(n.op, Elemwise):
            owners = [v.owner for v in n.inputs if not isinstance(v, opcore.graph.basic.Constant)]
            assert not owners or not all(o is not None and isinstance(o.op, Elemwise)
                                         for o in owners), n


def test_consumer_that_would_close_a_cycle_stays_out(mode, rng):
    """``u = 1 - tanh(x)**2`` feeds a Dot that a consumer of ``tanh(x)`` reads: that consumer
    cannot join ``u``'s node (the loop would need the Dot's result before computing it)."""
    x = T.dmatrix("x")
    W = T.dmatrix("W")
    t = T.tanh(x)
    u = 1 - t * t
    z = (t + 0.5 * T.exp(x)) * T.dot(u, W)
    vals = [rng.standard_normal((4, 4)), rng.standard_normal((4, 4))]
    f = _compile_and_compare([x, W], [z, u], vals, mode)
    assert sum(isinstance(n.op, Elemwise) for n in _nodes(f)) == 2


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
@pytest.mark.parametrize("op", ["add", "mul"])
def test_long_sum_or_product_of_terms_fuses_into_few_nodes(mode, rng, dtype, op):
    """``add(t0, ..., t99)`` (a gradient accumulating a hundred contributions) folds left into
    binary nodes; fusion runs it as two loops of at most 64 operands each."""
    vs = [T.vector(f"v{i}", dtype=dtype) for i in range(100)]
    y = getattr(T, op)(*vs)
    vals = [(rng.random(3) + 0.5).astype(dtype) if dtype != "int64"
            else rng.integers(-2, 3, size=3).astype(dtype) for _ in vs]
    f = _compile_and_compare(vs, [y], vals, mode)
    fused = [n for n in _nodes(f) if isinstance(n.op, Elemwise)]
    assert len(fused) == 2
    assert all(len(n.inputs) + len(n.outputs) <= 64 for n in fused)
