"""Theano's mode objects: a mode name resolves to one ``Mode`` per flag setting, and
``Mode.call_time`` adds up the time spent calling the functions compiled with it (programs that
time themselves read ``get_default_mode().call_time``)."""

from __future__ import annotations

import time

import numpy as np

import opcore
import opcore.tensor as T
from opcore.compile.mode import Mode, get_default_mode, get_mode


def test_a_mode_name_resolves_to_one_mode_object():
    assert get_default_mode() is get_default_mode()
    assert get_mode("FAST_RUN") is get_mode("fast_run")
    assert get_mode("FAST_COMPILE") is get_mode("FAST_COMPILE")
    assert get_mode("FAST_RUN") is not get_mode("FAST_COMPILE")


def test_a_flag_change_gives_the_mode_of_the_new_flags():
    before = get_mode("FAST_RUN")
    with opcore.config.change_flags(optimizer_excluding="fusion"):
        excluded = get_mode("FAST_RUN")
        assert excluded is not before
        assert "fusion" in excluded.exclude
        assert get_mode("FAST_RUN") is excluded
    assert get_mode("FAST_RUN") is before
    assert "fusion" not in before.exclude


def test_call_time_counts_the_calls_of_the_default_modes_functions():
    x = T.vector("x")
    f = opcore.function([x], T.exp(x).sum())
    g = opcore.function([x], x * 2, mode="FAST_COMPILE")
    mode = get_default_mode()
    other = get_mode("FAST_COMPILE")
    assert f.maker.mode is mode
    v = np.linspace(0, 1, 1000)
    start, start_other = mode.call_time, other.call_time
    t0 = time.perf_counter()
    for _ in range(20):
        np.testing.assert_allclose(f(v), np.exp(v).sum())
    wall = time.perf_counter() - t0
    spent = mode.call_time - start
    assert 0.0 < spent <= wall
    assert other.call_time == start_other  # f belongs to the default mode only
    g(v)
    assert other.call_time > start_other
    assert mode.call_time - start == spent


def test_a_new_or_derived_mode_starts_at_zero():
    m = Mode(linker="py", optimizer="fast_run")
    assert (m.call_time, m.fn_time) == (0.0, 0.0)
    x = T.scalar("x")
    f = opcore.function([x], x + 1, mode=m)
    assert f(2.0) == 3.0
    assert m.call_time > 0.0
    assert m.excluding("fusion").call_time == 0.0
