"""The stabilising rewrites (through the engine and directly) and the plugin wiring."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import log_softmax as sp_log_softmax

import opcore
import opcore.tensor as T
from opcore.graph.fg import FunctionGraph

from opcore_nnet import rewrites
from opcore_nnet.softmax import LogSoftmax, Softmax
from opcore_nnet.xent import CrossentropySoftmax1Hot


def _ops(fn):
    return {type(n.op).__name__ for n in fn.maker.fgraph.toposort()}


def _costs(x, y):
    sm = T.nnet.softmax(x)
    idx = T.arange(y.shape[0])
    return {
        "tutorial": -T.mean(T.log(sm)[idx, y]),
        "log_of_index": -T.mean(T.log(sm[idx, y])),
        "categorical": T.mean(T.nnet.categorical_crossentropy(sm, y)),
    }


@pytest.mark.parametrize("form", ["tutorial", "log_of_index", "categorical"])
def test_crossentropy_is_fused_and_finite_at_p_zero(form):
    x, y = T.dmatrix("x"), T.ivector("y")
    cost = _costs(x, y)[form]
    gx = T.grad(cost, x)
    f = opcore.function([x, y], [cost, gx])
    assert "CrossentropySoftmax1Hot" in _ops(f)
    # row 0: the label's probability underflows to exactly 0 in float64
    xv = np.array([[1e4, 0.0, 0.0], [1.0, 2.0, 3.0]])
    yv = np.array([1, 2], dtype="int32")
    c, g = f(xv, yv)
    ls = sp_log_softmax(xv, axis=1)
    np.testing.assert_allclose(c, -ls[[0, 1], yv].mean())
    sm = np.exp(ls)
    ref = sm.copy()
    ref[[0, 1], yv] -= 1
    np.testing.assert_allclose(g, ref / 2, atol=1e-15)
    assert np.isfinite(g).all()
    # the unrewritten graph agrees where it is finite
    slow = opcore.function([x, y], [cost, gx], mode=opcore.compile.Mode(optimizer=None))
    xs = np.array([[0.5, -1.0, 2.0], [1.0, 2.0, 3.0]])
    for a, b in zip(f(xs, yv), slow(xs, yv)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("form", ["tutorial", "log_of_index", "categorical"])
def test_fused_crossentropy_is_not_recomputed_for_the_mean(form):
    """The mean's batch length is read from the inputs: no elementwise node of the loss vector
    is left that only a ``Shape_i`` reads (the stabilize phase replaces ``-log(p[i, y])`` after
    the shape rules of canonicalize measured it)."""
    x, y = T.dmatrix("x"), T.ivector("y")
    f = opcore.function([x, y], _costs(x, y)[form])
    fg = f.maker.fgraph
    for n in fg.apply_nodes:
        if type(n.op).__name__ in ("Elemwise", "DimShuffle"):
            readers = fg.clients.get(n.outputs[0], ())
            assert not readers or not all(
                c != "output" and type(c.op).__name__ == "Shape_i" for c, _ in readers), n
    xv = np.array([[0.5, -1.0, 2.0], [1.0, 2.0, 3.0]])
    yv = np.array([1, 2], dtype="int32")
    np.testing.assert_allclose(f(xv, yv), -sp_log_softmax(xv, axis=1)[[0, 1], yv].mean())


def test_log_softmax_rewrite_through_engine():
    x = T.dmatrix("x")
    f = opcore.function([x], T.log(T.nnet.softmax(x)))
    assert "LogSoftmax" in _ops(f) and "Softmax" not in _ops(f)
    out = f(np.array([[1e4, 0.0]]))
    np.testing.assert_allclose(out, [[0.0, -1e4]])


def test_rewrite_functions_directly_on_a_function_graph():
    x, y = T.dmatrix("x"), T.ivector("y")
    logsm = T.log(Softmax(-1)(x))
    fg = FunctionGraph([x, y], [logsm[T.arange(y.shape[0]), y]], clone=False)
    log_node = logsm.owner
    new = rewrites.log_softmax_rewrite(fg, log_node)
    assert isinstance(new[0].owner.op, LogSoftmax)
    fg.replace(log_node.outputs[0], new[0])
    sub = fg.outputs[0].owner
    repl = rewrites.xent_from_indexed_log_softmax(fg, sub)
    assert isinstance(repl[0].owner.inputs[0].owner.op, CrossentropySoftmax1Hot)
    # no match: a column index that is not arange over the rows
    other = FunctionGraph([x, y], [T.log(Softmax(-1)(x))[y, y]], clone=False)
    assert rewrites.xent_from_indexed_log_softmax(other, other.outputs[0].owner) is None
    assert rewrites.log_softmax_rewrite(fg, fg.outputs[0].owner) is None


def test_rewrites_are_registered_with_tags():
    from opcore.plugins import get_host

    host = get_host().ensure_loaded()
    mine = {e.name: e for e in host.rewrites.entries if e.plugin == "nnet"}
    assert set(mine) == {name for name, _ in rewrites.RULES}
    for e in mine.values():
        assert e.phase == "stabilize" and {"fast_run", "stabilize"} <= set(e.tags)


def test_namespace_import_forms():
    import opcore.tensor.nnet as nnet1
    from opcore.tensor.nnet import bn, pool

    assert T.nnet is nnet1
    assert pool.pool_2d is T.nnet.pool.pool_2d
    assert callable(bn.batch_normalization_train)


def test_disabled_plugin_names_the_distribution():
    code = ("import opcore.tensor as T\n"
            "for name in ('nnet', 'signal'):\n"
            "    try:\n        getattr(T, name)\n"
            "    except ModuleNotFoundError as e:\n        print('ERR', e)\n")
    env = dict(os.environ, OPCORE_DISABLE_PLUGINS="nnet")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and all(ln.startswith("ERR") for ln in lines), out.stdout + out.stderr
    for ln, ns in zip(lines, ("opcore.tensor.nnet", "opcore.tensor.signal")):
        # the error names the namespace, the distribution, and that it is disabled, not absent
        assert ns in ln and "opcore-nnet" in ln and "disabled" in ln, ln
