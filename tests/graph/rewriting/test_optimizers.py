"""Theano's optimizer API over the rewrite engine: each class changes the graph it should, and
the rewritten graph computes what the original did (NumPy reference)."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph
from opcore.graph.op import Op
from opcore.compile.rewritedb import Query, optdb, phase_of_position, register_canonicalize
from opcore.graph.rewriting.optimizers import (EquilibriumOptimizer, LocalOptGroup,
                                               LocalOptimizer, MergeOptimizer, OpRemove, OpSub,
                                               Optimizer, PatternSub, SeqOptimizer,
                                               TopoOptimizer, in2out, local_optimizer, out2in)


class _Unary(Op):
    __props__ = ("factor",)
    factor = 1.0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * self.factor


class Twice(_Unary):
    factor = 2.0


class Thrice(_Unary):
    factor = 3.0


class Ident(_Unary):
    factor = 1.0


def _ops(fg):
    return [type(n.op).__name__ for n in fg.toposort()]


def _run(fg, inputs, value):
    f = opcore.function(inputs, fg.outputs, mode=opcore.Mode(linker="py", optimizer=None))
    return f(value)


def test_opsub_replaces_every_application():
    x = T.dvector("x")
    fg = FunctionGraph([x], [Twice()(Twice()(x))], clone=False)
    TopoOptimizer(OpSub(Twice(), Thrice())).optimize(fg)
    assert _ops(fg) == ["Thrice", "Thrice"]
    np.testing.assert_allclose(_run(fg, [x], np.array([1.0, 2.0]))[0], [9.0, 18.0])


def test_opremove():
    x = T.dvector("x")
    fg = FunctionGraph([x], [Twice()(Ident()(x))], clone=False)
    out2in(OpRemove(Ident())).optimize(fg)
    assert _ops(fg) == ["Twice"]


def test_patternsub_matches_repeated_variable_and_constants():
    x, y = T.dvectors("x", "y")
    fg = FunctionGraph([x, y], [T.sub(x, x) + T.sub(x, y)], clone=False)
    in2out(PatternSub((T.sub, "a", "a"), (T.zeros_like, "a"))).optimize(fg)
    subs = [n for n in fg.toposort() if getattr(getattr(n.op, "scalar_op", None), "name", "")
            == "sub"]
    assert len(subs) == 1  # x - y is not x - x: kept
    v, w = np.array([1.0, 5.0]), np.array([3.0, 2.0])
    f = opcore.function([x, y], fg.outputs[0], mode=opcore.Mode(linker="py", optimizer=None))
    np.testing.assert_allclose(f(v, w), v - w)
    # a constant in the pattern and a constraint
    fg2 = FunctionGraph([x], [T.mul(x, 1.0) + T.mul(x, 2.0)], clone=False)
    in2out(PatternSub({"pattern": (T.mul, "a", 1.0), "constraint": lambda v: True}, "a"
                      )).optimize(fg2)
    f2 = opcore.function([x], fg2.outputs[0], mode=opcore.Mode(linker="py", optimizer=None))
    np.testing.assert_allclose(f2(v), v + 2 * v)


def test_local_optimizer_decorator_both_signatures_and_tracks():
    x = T.dvector("x")
    seen = []

    @local_optimizer([Twice])
    def theano_style(node):
        seen.append(type(node.op).__name__)
        return [Thrice()(node.inputs[0])]

    @local_optimizer(None)
    def pytensor_style(fgraph, node):
        assert isinstance(fgraph, FunctionGraph)
        if isinstance(node.op, Thrice):
            return {node.outputs[0]: Ident()(node.inputs[0])}
        return None

    fg = FunctionGraph([x], [Twice()(T.exp(x))], clone=False)
    TopoOptimizer(theano_style).optimize(fg)
    assert seen == ["Twice"]  # tracks: the exp node was never offered
    TopoOptimizer(pytensor_style).optimize(fg)
    assert "Ident" in _ops(fg) and "Thrice" not in _ops(fg)
    with pytest.raises(TypeError):
        local_optimizer(Twice)
    with pytest.raises(ValueError):
        local_optimizer([])


def test_localoptimizer_subclass_and_group_and_equilibrium():
    class TwiceToIdent(LocalOptimizer):
        def tracks(self):
            return [Twice]

        def transform(self, node):
            return [Ident()(node.inputs[0])]

    remove_ident = OpRemove(Ident())
    x = T.dvector("x")
    fg = FunctionGraph([x], [Twice()(Twice()(x)) + 1], clone=False)
    EquilibriumOptimizer([TwiceToIdent(), remove_ident], max_use_ratio=10).optimize(fg)
    assert "Twice" not in _ops(fg) and "Ident" not in _ops(fg)
    fg2 = FunctionGraph([x], [Twice()(x)], clone=False)
    in2out(LocalOptGroup(TwiceToIdent(), remove_ident)).optimize(fg2)
    assert "Twice" not in _ops(fg2)


def test_global_optimizer_seq_and_merge():
    class ReplaceOutputs(Optimizer):
        def apply(self, fgraph):
            out = fgraph.outputs[0]
            fgraph.replace_validate(out, Thrice()(out.owner.inputs[0]), reason="test")

    x = T.dvector("x")
    fg = FunctionGraph([x], [Twice()(x)], clone=False)
    SeqOptimizer(ReplaceOutputs()).optimize(fg)
    assert _ops(fg) == ["Thrice"]
    a, b = T.exp(x), T.exp(x)
    fg2 = FunctionGraph([x], [a + b], clone=False)
    MergeOptimizer().optimize(fg2)
    assert sum(1 for n in fg2.toposort() if "exp" in str(n.op)) == 1


def test_optdb_positions_map_to_phases():
    assert [phase_of_position(p) for p in (0, 1, 1.5, 2, 3, 49, 75, 100)] == [
        "canonicalize", "canonicalize", "stabilize", "specialize", "specialize", "fusion",
        "inplace", "inplace"]


class Quad(_Unary):
    factor = 4.0


def test_optdb_register_runs_in_function_and_query():
    @local_optimizer([Quad])
    def local_quad_to_twice_twice(node):
        return [Twice()(Twice()(node.inputs[0]))]

    optdb.register("test_quad_to_twice_twice", in2out(local_quad_to_twice_twice), 1.2,
                   "fast_run")
    with pytest.raises(ValueError, match="already registered"):
        optdb.register("test_quad_to_twice_twice", local_quad_to_twice_twice, 1.2, "fast_run")
    x = T.dvector("x")
    f = opcore.function([x], Quad()(x), mode=opcore.Mode(linker="py"))
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()] == ["Twice", "Twice"]
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [4.0, 8.0])
    g = opcore.function([x], Quad()(x), mode=opcore.Mode(linker="py").excluding(
        "test_quad_to_twice_twice"))
    assert [type(n.op).__name__ for n in g.maker.fgraph.toposort()] == ["Quad"]
    fg = FunctionGraph([x], [Quad()(x)], clone=False)
    optdb.query(Query(include=["test_quad_to_twice_twice"])).optimize(fg)
    assert _ops(fg) == ["Twice", "Twice"]


class Octo(_Unary):
    factor = 8.0


def test_register_canonicalize_with_tags_and_name():
    @register_canonicalize("fast_compile", name="test_octo_to_quad_twice")
    @local_optimizer([Octo])
    def anything(node):
        return [Quad()(Twice()(node.inputs[0]))]

    x = T.dvector("x")
    f = opcore.function([x], Octo()(x), mode="FAST_COMPILE")
    assert "Octo" not in [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    np.testing.assert_allclose(f(np.array([1.0])), [8.0])
    assert "test_octo_to_quad_twice" in optdb["canonicalize"]
