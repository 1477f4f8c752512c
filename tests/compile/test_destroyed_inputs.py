"""Inputs a function overwrites in place (``In(mutable=True)``, updated shared values) are copied
first when they are read-only, overlap themselves or share memory with another input or a shared
value; every backend gives the answer of the same function without in-place rewrites."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import In, shared
from opcore.compile import Mode
from opcore.plugins import get_host


def _backends() -> list:
    host = get_host()
    host.ensure_loaded()
    names = {b.name for b in host.healthy_backends()}
    return ["py"] + (["c"] if "c" in names else [])


BACKENDS = _backends()


def _mutating(backend):
    """``maximum(x, 3)`` written into ``x`` in place, then ``y`` read reversed."""
    x, y = T.dvector("x"), T.dvector("y")
    f = opcore.function([In(x, mutable=True), y], [T.maximum(x, 3.0), y[::-1] * 2],
                        mode=Mode(backend=backend))
    assert any(n.op.destroy_map for n in f.maker.fgraph.toposort()), "no in-place node"
    return f


def _want(a, b):
    return [np.maximum(a, 3.0), b[::-1] * 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_aliased_inputs_read_before_overwrite(backend):
    f = _mutating(backend)
    a = np.arange(6.0)
    want = _want(a.copy(), a.copy())
    got = f(a, a)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # a view of the same buffer counts as an alias too
    a = np.arange(12.0)
    want = _want(a[::2].copy(), a[::2].copy())
    for g, w in zip(f(a[::2], a[::2]), want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_only_and_self_overlapping_inputs_are_not_written(backend):
    f = _mutating(backend)
    ro = np.arange(6.0)
    ro.flags.writeable = False
    b = np.ones(6)
    for g, w in zip(f(ro, b), _want(ro, b)):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(ro, np.arange(6.0))
    zero_stride = np.lib.stride_tricks.as_strided(np.array([1.0]), (6,), (0,), writeable=True)
    np.testing.assert_array_equal(f(zero_stride, b)[0], np.full(6, 3.0))
    # a writeable input nobody else sees is still overwritten (mutable=True's point)
    own = np.arange(6.0)
    f(own, b)
    np.testing.assert_array_equal(own, np.maximum(np.arange(6.0), 3.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_only_memmap_input_subprocess(backend, tmp_path):
    """A read-only memmap given to an overwritten input: the answer, never a crash."""
    path = tmp_path / "data.bin"
    np.arange(6.0).tofile(path)
    code = textwrap.dedent(f"""
        import numpy as np, opcore, opcore.tensor as T
        from opcore import In
        from opcore.compile import Mode
        x, y = T.dvector("x"), T.dvector("y")
        f = opcore.function([In(x, mutable=True), y], T.maximum(x, 3.0) + y,
                            mode=Mode(backend={backend!r}))
        mm = np.memmap({str(path)!r}, dtype="float64", mode="r")
        r = f(mm, np.ones(6))
        assert np.array_equal(r, np.maximum(np.arange(6.0), 3.0) + 1), r
        assert np.array_equal(mm, np.arange(6.0))
        print("OK")
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "OK" in p.stdout, (p.returncode, p.stderr[-2000:])


@pytest.mark.parametrize("backend", BACKENDS)
def test_borrowed_shared_value_updated_in_place(backend):
    """A shared variable built with borrow=True over a read-only array, updated in place, and
    a call whose input is the shared value's own buffer."""
    ro = np.arange(4.0)
    ro.flags.writeable = False
    s = shared(ro, borrow=True)
    x = T.dvector("x")
    f = opcore.function([x], (x * 10).sum(), updates=[(s, T.maximum(s, 2.0) + x)],
                        mode=Mode(backend=backend))
    assert any(n.op.destroy_map for n in f.maker.fgraph.toposort()), "no in-place node"
    f(np.zeros(4))
    np.testing.assert_array_equal(ro, np.arange(4.0))
    np.testing.assert_array_equal(s.get_value(), np.maximum(np.arange(4.0), 2.0))
    inner = s.get_value(borrow=True)
    before = inner.copy()
    out = f(inner)
    np.testing.assert_array_equal(out, (before * 10).sum())
    np.testing.assert_array_equal(s.get_value(), np.maximum(before, 2.0) + before)
