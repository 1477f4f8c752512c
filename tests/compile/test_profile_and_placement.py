"""profile=True and debugprint show where each node runs; summary() prints once, returns None."""

from __future__ import annotations

import io

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.printing import debugprint


def _fn(**kw):
    x = T.dmatrix("x")
    i = T.lvector("i")
    y = (T.exp(x) * 2).sum(axis=1)[i]
    return opcore.function([x, i], y, mode=Mode(backend="py"), **kw)


def test_summary_prints_once_and_returns_none(capsys):
    f = _fn(profile=True, name="picker")
    for _ in range(3):
        f(np.ones((4, 3)), np.array([0, 2]))
    assert f.profile.summary() is None
    out = capsys.readouterr().out
    assert out.count("Function profiling: picker") == 1
    assert "compile time" in out and "not part of the times below" in out and "calls: 3" in out
    buf = io.StringIO()
    assert f.profile.summary(file=buf) is None and "picker" in buf.getvalue()
    assert "[py]" in f.profile.summary(file="str")
    prof = f.profile
    assert set(prof.node_times) == set(f.maker.fgraph.apply_nodes)
    assert all(c == 3 for c in prof.node_calls.values())
    assert 0 < sum(prof.node_times.values()) <= prof.call_time


def test_debugprint_marks_the_backend_of_each_node():
    f = _fn()
    text = debugprint(f, file="str")
    lines = text.splitlines()
    assert len(lines) >= len(f.maker.fgraph.apply_nodes)
    # every Apply line (op, id, name field) is marked; input lines are not
    applies = [line for line in lines if "[id " in line and "'" in line]
    assert applies and all(line.endswith("[py]") for line in applies)
    assert f.placement(f.maker.fgraph.toposort()[0]) == ("py", "python")
    plain = debugprint(f, file="str", print_placement=False)
    assert "[py]" not in plain
    with opcore.config.change_flags(print_placement=False):
        assert "[py]" not in debugprint(f, file="str")
    # a symbolic graph has no placement: nothing is marked
    x = T.dvector("x")
    assert "[py]" not in debugprint(T.exp(x), file="str")
