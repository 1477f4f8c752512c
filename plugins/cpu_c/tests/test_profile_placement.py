"""The C backend's placement marks and profiling: a profiled call runs the function's one module
(timing each step inside it), and nodes without C are shown as Python fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.printing import debugprint

opcore_cpu_c = pytest.importorskip("opcore_cpu_c")
from opcore_cpu_c import linker as clinker  # noqa: E402


def _graph():
    x = T.dmatrix("x")
    i = T.lvector("i")
    y = (T.exp(x) * 2).sum(axis=1)[i] + T.argmax(x, axis=1)[i]
    return [x, i], y


def test_debugprint_marks_compiled_and_python_fallback_nodes():
    ins, y = _graph()
    f = opcore.function(ins, y, mode=Mode(backend="c"))
    text = debugprint(f, file="str")
    assert "AdvancedSubtensor" in text
    for line in text.splitlines():
        if "AdvancedSubtensor" in line:  # advanced indexing has no C: called back from C
            assert line.endswith("[c: python fallback]"), line
        if "Composite" in line or line.lstrip(" |").startswith("Sum"):
            assert line.endswith("[c]"), line
    kinds = {f.placement(n)[1] for n in f.maker.fgraph.apply_nodes}
    assert kinds == {"compiled", "python fallback"}


def test_profiled_call_runs_the_one_module_of_the_unprofiled_call(monkeypatch):
    built = []
    real = clinker.build_program

    def counting(nodes, *a, **k):
        built.append(len(nodes))
        return real(nodes, *a, **k)

    monkeypatch.setattr(clinker, "build_program", counting)
    ins, y = _graph()
    fp = opcore.function(ins, y, mode=Mode(backend="c"), profile=True)
    fu = opcore.function(ins, y, mode=Mode(backend="c"))
    x = np.random.default_rng(0).normal(size=(5, 3))
    idx = np.array([4, 0, 2])
    for _ in range(3):
        np.testing.assert_allclose(fp(x, idx), fu(x, idx))
    n_nodes = len(fp.maker.fgraph.apply_nodes)
    assert built == [n_nodes, n_nodes]  # one whole-function module each, no per-node modules
    prof = fp.profile
    assert set(prof.node_times) == set(fp.maker.fgraph.apply_nodes)
    assert all(c == 3 for c in prof.node_calls.values())
    assert 0 < sum(prof.node_times.values()) <= prof.call_time
    text = prof.summary(file="str")
    assert "[c, python fallback]" in text and "[c]" in text


def test_profiled_error_names_the_node():
    x = T.dvector("x")
    i = T.lscalar("i")
    f = opcore.function([x, i], T.exp(x)[i], mode=Mode(backend="c"), profile=True)
    with pytest.raises(IndexError, match="Apply node that caused the error"):
        f(np.ones(3), 7)
