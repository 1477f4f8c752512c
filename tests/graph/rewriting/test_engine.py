"""The rewrite engine: queries, phase ordering, type checks, error reporting, tracing, linear cost."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode
from opcore.config import config
from opcore.graph.fg import FunctionGraph
from opcore.graph.rewriting import RewriteError, RewriteWarning, order_phases, rewrite_graph, select
from opcore.plugins import get_host


@dataclass
class Entry:
    name: str
    fn: object
    tags: tuple
    phase: str = "canonicalize"
    after: tuple = ()
    before: tuple = ()
    plugin: str = "test"


def _exp_to_log(fgraph, node):
    if getattr(node.op, "scalar_op", None) is not None and node.op.scalar_op.name == "exp":
        return [T.log(node.inputs[0])]
    return None


def test_core_rules_registered_through_the_host():
    host = get_host()
    host.ensure_loaded()
    names = {e.name: e for e in host.rewrites.entries}
    for n in ("merge", "constant_folding", "add_canonizer", "elemwise_fusion", "elemwise_inplace",
              "dot_to_gemv", "logsumexp", "shape_i_infer"):
        assert n in names and names[n].plugin == "core", n


def test_select_by_tags_names_and_phase():
    e = [Entry("a", _exp_to_log, ("fast_run", "x")), Entry("b", _exp_to_log, ("fast_run",)),
         Entry("c", _exp_to_log, ("gpu",), phase="gpu_lift")]
    assert [r.name for r in select(e, ("fast_run",))] == ["a", "b"]
    assert [r.name for r in select(e, ("fast_run",), ("x",))] == ["b"]
    assert [r.name for r in select(e, ("fast_run",), ("b",))] == ["a"]
    assert [r.name for r in select(e, ("fast_run",), ("canonicalize",))] == []
    assert [r.name for r in select(e, ("fast_run", "gpu"), require=("gpu",))] == ["c"]


def test_phase_order_and_after_before():
    e = [Entry("late", _exp_to_log, ("t",), after=("early",)),
         Entry("early", _exp_to_log, ("t",)),
         Entry("first", _exp_to_log, ("t",), before=("late", "early")),
         Entry("fuse", _exp_to_log, ("t",), phase="fusion"),
         Entry("lift", _exp_to_log, ("t",), phase="gpu_lift"),
         Entry("odd", _exp_to_log, ("t",), phase="my_phase")]
    slots = {"gpu_lift": "fusion"}
    phases = [(p, [r.name for r in rs]) for p, rs in order_phases(select(e, ("t",)), slots) if rs]
    # a declared phase runs after its slot (gpu_lift after fusion); undeclared ones before fusion
    assert phases == [("canonicalize", ["first", "early", "late"]), ("my_phase", ["odd"]),
                      ("fusion", ["fuse"]), ("gpu_lift", ["lift"])]
    cyc = [Entry("p", _exp_to_log, ("t",), after=("q",)), Entry("q", _exp_to_log, ("t",),
                                                                after=("p",))]
    with pytest.raises(RewriteError, match="contradictory"):
        order_phases(select(cyc, ("t",)))


def test_the_engine_names_no_plugin_phase():
    e = [Entry("lift", _exp_to_log, ("t",), phase="gpu_lift"),
         Entry("fuse", _exp_to_log, ("t",), phase="fusion")]
    # undeclared, a plugin phase runs before fusion: the core knows none of them by name
    assert [p for p, rs in order_phases(select(e, ("t",))) if rs] == ["gpu_lift", "fusion"]


def test_a_registered_rule_runs_and_can_be_excluded():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    rewrite_graph(fg, include=("t",), entries=[Entry("e2l", _exp_to_log, ("t",))])
    assert fg.outputs[0].owner.op.scalar_op.name == "log"
    fg = FunctionGraph([x], [T.exp(x)])
    rewrite_graph(fg, include=("t",), exclude=("e2l",),
                  entries=[Entry("e2l", _exp_to_log, ("t",))])
    assert fg.outputs[0].owner.op.scalar_op.name == "exp"


def test_wrong_type_replacement_is_an_error_naming_the_rewrite():
    def bad(fgraph, node):
        return [T.cast(node.outputs[0], "int32")] if node.op.scalar_op.name == "exp" else None

    bad.tracks = ("exp",)
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(RewriteError, match="rewrite 'bad_cast'.*float64.*int32"):
        rewrite_graph(fg, include=("t",), entries=[Entry("bad_cast", bad, ("t",))])


def test_a_failing_rewrite_is_reported_and_skipped_or_raised():
    def boom(fgraph, node):
        raise RuntimeError("kaput")

    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    # the default reports and skips; the engine reads no config flag (CI's rewrite_raise=True
    # reaches it through function, which passes raise_errors)
    for flag in (False, True):
        with config.change_flags(rewrite_raise=flag), \
                pytest.warns(RewriteWarning, match="rewrite 'boom'.*kaput"):
            rewrite_graph(fg, include=("t",), entries=[Entry("boom", boom, ("t",))])
        assert fg.outputs[0].owner.op.scalar_op.name == "exp"
    with pytest.raises(RuntimeError, match="kaput"):
        rewrite_graph(FunctionGraph([x], [T.exp(x)]), include=("t",),
                      entries=[Entry("boom", boom, ("t",))], raise_errors=True)


@pytest.mark.parametrize("flags, expected", [
    ({"rewrite_raise": False, "on_opt_error": "warn", "rewrite_trace": False},
     {"raise_errors": False, "trace": False}),
    ({"rewrite_raise": True, "on_opt_error": "warn", "rewrite_trace": False},
     {"raise_errors": True, "trace": False}),
    ({"rewrite_raise": False, "on_opt_error": "raise", "rewrite_trace": True},
     {"raise_errors": True, "trace": True}),
])
def test_function_and_optdb_hand_the_config_flags_to_the_engine(monkeypatch, flags, expected):
    import opcore.compile.rewritedb as rewritedb
    import opcore.graph.rewriting as rewriting  # function() reads rewrite_graph from it per call

    seen = []

    def spy(fgraph, **kwargs):
        seen.append({k: kwargs.get(k) for k in expected})
        return fgraph

    monkeypatch.setattr(rewriting, "rewrite_graph", spy)
    monkeypatch.setattr(rewritedb, "rewrite_graph", spy)
    x = T.dvector("x")
    with config.change_flags(**flags):
        opcore.function([x], T.exp(x), mode=Mode(linker="py"))
        rewritedb.optdb.query("+fast_run").optimize(FunctionGraph([x], [T.exp(x)]))
    assert seen == [expected, expected]


def test_the_engine_reads_no_config():
    import inspect

    import opcore.graph.rewriting.engine as engine

    assert "opcore.config" not in inspect.getsource(engine)
    assert not hasattr(engine, "config")


def test_trace_prints_what_fired(capsys):
    x = T.dvector("x")
    with config.change_flags(rewrite_trace=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opcore.function([x], T.log(1 + T.exp(x)), mode=Mode(linker="py"))
    out = capsys.readouterr().out
    assert "rewrite log1p_exp_to_softplus" in out and "ms" in out


def test_optimizer_none_and_fast_compile():
    x = T.dvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = opcore.function([x], x * 1 + 0, mode=Mode(linker="py", optimizer=None))
        assert len(f.maker.fgraph.apply_nodes) == 4  # mul, add and two DimShuffles
        g = opcore.function([x], T.exp(x) + T.exp(x), mode="FAST_COMPILE")
    names = [n.op.scalar_op.name for n in g.maker.fgraph.toposort()]
    assert names.count("exp") == 1  # merge runs in FAST_COMPILE
    np.testing.assert_allclose(g(np.zeros(2)), [2.0, 2.0])


def _chain_grad(depth):
    x = T.dvector("x")
    params = []
    h = x
    for k in range(depth):
        W, b = T.dmatrix(f"W{k}"), T.dvector(f"b{k}")
        params += [W, b]
        h = T.tanh(T.dot(W, h) + b)
    return [x] + params, T.grad(h.sum(), params)


def test_rewrite_cost_grows_about_linearly():
    times = {}
    for depth in (10, 40):
        ins, outs = _chain_grad(depth)
        fg = FunctionGraph(ins, outs)
        t0 = time.perf_counter()
        rewrite_graph(fg, include=("fast_run",), backend="py")
        times[depth] = time.perf_counter() - t0
    # 4x the graph; quadratic behaviour would be ~16x. Generous bound for noisy CI machines.
    assert times[40] < 10 * times[10] + 0.05, times
