"""Theano's debugging tools: compute_test_value, printing.Print, NanGuardMode, MonitorMode,
DebugMode's check_* switches and compile.mode.get_default_mode.  Values checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import mode as mode_module
from opcore.compile.debugmode import DebugMode, InvalidValueError
from opcore.compile.monitormode import MonitorMode
from opcore.compile.nanguardmode import NanGuardMode
from opcore.graph.testvalue import TestValueError
from opcore.printing import Print


def test_compute_test_value_fills_tags_and_fails_at_build_time():
    x = T.dmatrix("x")
    x.tag.test_value = np.arange(6.0).reshape(2, 3)
    W = opcore.shared(np.ones((3, 4)), name="W")
    bad = T.dmatrix("bad")
    bad.tag.test_value = np.ones((5, 2))
    with opcore.config.change_flags(compute_test_value="raise"):
        h = T.tanh(T.dot(x, W)).sum(axis=1)
        np.testing.assert_allclose(h.tag.test_value, np.tanh(x.tag.test_value @ np.ones((3, 4))).sum(1))
        np.testing.assert_allclose(h.get_test_value(), h.tag.test_value)
        # the error names the op and the shapes, when the graph is built
        with pytest.raises(ValueError, match=r"Dot.*shape \(2, 3\).*shape \(5, 2\)"):
            T.dot(x, bad)
        with pytest.raises(TestValueError, match="input 1 \\(y.*has no test value"):
            x + T.dmatrix("y")
        # grad and compiling work with test values on
        g = opcore.grad(h.sum(), W)
        assert g.tag.test_value.shape == (3, 4)
        f = opcore.function([x], h)
        np.testing.assert_allclose(f(x.tag.test_value), h.tag.test_value)
    with opcore.config.change_flags(compute_test_value="warn"):
        with pytest.warns(UserWarning, match="no test value"):
            out = x * T.dmatrix("z")
        assert "test_value" not in out.tag.__dict__
    with opcore.config.change_flags(compute_test_value="ignore"):
        out = x * T.dmatrix("z")
        assert "test_value" not in out.tag.__dict__
    with opcore.config.change_flags(compute_test_value="off"):
        T.dot(x, bad)  # nothing is computed


def test_compute_test_value_through_scan():
    x = T.dmatrix("x")
    x.tag.test_value = np.ones((4, 3))
    h0 = T.dvector("h0")
    h0.tag.test_value = np.zeros(5)
    W = opcore.shared(np.full((3, 5), 0.1), name="W")
    with opcore.config.change_flags(compute_test_value="raise"):
        hs, _ = opcore.scan(lambda xt, h: T.tanh(T.dot(xt, W) + h), sequences=x, outputs_info=h0)
        assert hs.tag.test_value.shape == (4, 5)
        with pytest.raises(ValueError, match=r"Dot.*shape \(3,\).*shape \(5, 3\)"):
            opcore.scan(lambda xt, h: T.dot(xt, W.T) + h, sequences=x, outputs_info=h0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_print_prints_when_computed_and_keeps_the_graph(mode, capsys):
    x = T.dvector("x")
    f = opcore.function([x], Print("x is")(x) * 2, mode=mode)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    assert capsys.readouterr().out == "x is __str__ = [1. 2.]\n"
    p = Print("stats", attrs=("shape", "sum"))(x)
    g = opcore.function([x], [p + 1, opcore.grad((p * 3).sum(), x)], mode=mode)
    got = g(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(got[0], [2.0, 3.0])
    np.testing.assert_array_equal(got[1], [3.0, 3.0])
    assert capsys.readouterr().out == "stats shape = (2,)\nstats sum = 3.0\n"
    assert Print("a") == Print("a") and Print("a") != Print("b")


def test_nan_guard_mode():
    x = T.dvector("x")
    f = opcore.function([x], T.log(x) * 2, mode=NanGuardMode())
    np.testing.assert_allclose(f(np.array([1.0, np.e])), [0.0, 2.0])
    with pytest.raises(AssertionError, match="NaN detected in output 0"):
        f(np.array([-1.0]))
    with pytest.raises(AssertionError, match="Inf detected"):
        f(np.array([0.0]))
    g = opcore.function([x], T.exp(x), mode="NanGuardMode")
    with pytest.raises(AssertionError, match="above 1e\\+10"):
        g(np.array([30.0]))
    quiet = opcore.function([x], T.log(x), mode=NanGuardMode(nan_is_error=False,
                                                             inf_is_error=False))
    assert np.isnan(quiet(np.array([-1.0]))[0])
    # an input already holding NaN is reported as the node's input
    h = opcore.function([x], x * 2, mode=NanGuardMode())
    with pytest.raises(AssertionError, match="NaN detected in input 0"):
        h(np.array([np.nan]))


def test_monitor_mode_sees_every_node():
    x = T.dvector("x")
    calls = []

    def pre(i, node, fn):
        calls.append(("pre", i, [c[0] is not None for c in fn.inputs]))

    def post(i, node, fn):
        calls.append(("post", i, np.array(fn.outputs[0][0], copy=True)))

    mode = MonitorMode(pre_func=pre, post_func=post, optimizer=None)
    f = opcore.function([x], T.exp(x) + T.log(x), mode=mode)
    xv = np.array([1.0, 2.0])
    np.testing.assert_allclose(f(xv), np.exp(xv) + np.log(xv))
    n = len(f.maker.fgraph.apply_nodes)
    assert [c[0] for c in calls] == ["pre", "post"] * n
    assert all(all(c[2]) for c in calls if c[0] == "pre")
    np.testing.assert_allclose(calls[-1][2], np.exp(xv) + np.log(xv))


@pytest.mark.parametrize("derive", ["including", "excluding", "requiring"])
def test_a_derived_debugging_mode_keeps_its_class_and_checks(derive):
    """``mode.excluding('fusion')`` (Theano's ``Mode.clone``) keeps the mode's class: a
    MonitorMode still monitors, a NanGuardMode still guards, a DebugMode still checks."""
    x = T.dvector("x")
    seen = []
    monitor = MonitorMode(post_func=lambda i, node, fn: seen.append(str(node.op)))
    derived = getattr(monitor, derive)("fusion") if derive != "requiring" else monitor.requiring()
    assert type(derived) is MonitorMode
    f = opcore.function([x], T.exp(x) + 1, mode=derived)
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.exp([0.0, 1.0]) + 1)
    assert seen and len(seen) == len(f.maker.fgraph.apply_nodes)
    guard = getattr(NanGuardMode(), derive)("fusion") if derive != "requiring" \
        else NanGuardMode().requiring()
    assert type(guard) is NanGuardMode
    with pytest.raises(AssertionError, match="NaN detected in output 0"):
        opcore.function([x], T.log(x), mode=guard)(np.array([-1.0]))
    debug = getattr(DebugMode(), derive)("fusion") if derive != "requiring" \
        else DebugMode().requiring()
    assert type(debug) is DebugMode
    with pytest.raises(InvalidValueError, match="NaN"):
        opcore.function([x], T.log(x), mode=debug)(np.array([-1.0]))


def test_debug_mode_switches():
    x = T.dvector("x")
    with pytest.raises(InvalidValueError, match="NaN"):
        opcore.function([x], T.log(x), mode=DebugMode())(np.array([-1.0]))
    f = opcore.function([x], T.log(x), mode=DebugMode(check_isfinite=False))
    assert np.isnan(f(np.array([-1.0]))[0])
    for kw in (dict(check_c_code=False), dict(check_py_code=False),
               dict(check_c_code=False, check_py_code=False)):
        g = opcore.function([x], T.exp(x) * 2, mode=DebugMode(**kw))
        np.testing.assert_allclose(g(np.array([0.0, 1.0])), 2 * np.exp([0.0, 1.0]))


def test_get_default_mode_follows_config():
    assert mode_module.get_default_mode().name == "FAST_RUN"
    with opcore.config.change_flags(mode="FAST_COMPILE"):
        assert mode_module.get_default_mode().name == "FAST_COMPILE"
    assert isinstance(mode_module.get_mode("NanGuardMode"), NanGuardMode)
    assert opcore.compile.MonitorMode is MonitorMode
