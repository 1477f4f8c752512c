"""The C backend's Scan loop (``opcore_cpu_c/impls/scan.py``) against the Python backend's loop.

Every case compiles the same graph twice, with the C backend (the loop runs in C) and with
``FAST_COMPILE`` (the Python backend's loop), checks that the C function really runs its Scan
nodes in C, and compares the results (and errors) with the Python loop's and with NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad
from opcore.ifelse import ifelse
from opcore.scan import Scan, until

from opcore_cpu_c.impls.scan import why_python

warnings.filterwarnings("ignore", message=".*backend 'gpu'.*")


def _scans(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def _both(inputs, outputs, updates=None, expect_c=True):
    """(C function, Python-backend function) of the same graph; asserts where the Scans run."""
    fc = opcore.function(inputs, outputs, updates=updates)
    fp = opcore.function(inputs, outputs, updates=updates, mode="FAST_COMPILE")
    nodes = _scans(fc)
    assert nodes, "the graph has no Scan node"
    for n in nodes:
        if expect_c:
            assert fc.placement(n) == ("c", "compiled"), (n, why_python(n.op))
        else:
            assert fc.placement(n) == ("c", f"python fallback (Python loop: {why_python(n.op)})")
    return fc, fp


def _same(a, b):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, x.shape, y.dtype, y.shape)
        np.testing.assert_allclose(x, y, rtol=1e-6 if x.dtype == np.float32 else 1e-12)


def test_sequence_taps_and_state():
    x = T.dvector("x")
    s0 = T.dscalar("s0")
    r, _ = opcore.scan(lambda a, b, c, s: s * 0.5 + a * b - c,
                       sequences=dict(input=x, taps=[-2, 0, 1]), outputs_info=s0)
    fc, fp = _both([x, s0], r)
    val = np.linspace(-1.0, 2.0, 9)
    ref, s = [], 0.25
    for t in range(2, len(val) - 1):
        s = s * 0.5 + val[t - 2] * val[t] - val[t + 1]
        ref.append(s)
    np.testing.assert_allclose(fc(val, 0.25), ref)
    _same(fc(val, 0.25), fp(val, 0.25))


@pytest.mark.parametrize("last_only", [False, True])
def test_two_states_with_taps_and_non_sequences(last_only):
    a0 = T.dmatrix("a0")  # taps [-1, -2]: two initial rows
    b0 = T.dvector("b0")
    w = T.dvector("w")
    k = T.iscalar("k")

    def step(a2, a1, b, w):
        return a1 + a2 * w, b * 0.5 + a1

    (a, b), _ = opcore.scan(step, outputs_info=[dict(initial=a0, taps=[-2, -1]), b0],
                            non_sequences=w, n_steps=k)
    outs = [a[-1], b[-1]] if last_only else [a, b]
    fc, fp = _both([a0, b0, w, k], outs)
    av, bv, wv = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.0, 1.0]), np.array([0.9, 1.1])
    hist = [av[0], av[1]]
    bs = [bv]
    for _ in range(7):
        bs.append(bs[-1] * 0.5 + hist[-1])
        hist.append(hist[-1] + hist[-2] * wv)
    ra, rb = fc(av, bv, wv, 7)
    np.testing.assert_allclose(ra, hist[-1] if last_only else hist[2:])
    np.testing.assert_allclose(rb, bs[-1] if last_only else bs[1:])
    _same(fc(av, bv, wv, 7), fp(av, bv, wv, 7))


def test_nit_sot_outputs():
    x = T.dmatrix("x")
    (s, m), _ = opcore.scan(lambda r: (r.sum(), r * 2.0), sequences=x)
    fc, fp = _both([x], [s, m])
    v = np.arange(12.0).reshape(4, 3)
    got = fc(v)
    np.testing.assert_allclose(got[0], v.sum(axis=1))
    np.testing.assert_allclose(got[1], v * 2)
    _same(got, fp(v))
    # only the last entry of a nit output
    f_last = opcore.function([x], m[-1])
    assert f_last.placement(_scans(f_last)[0]) == ("c", "compiled")
    np.testing.assert_allclose(f_last(v), v[-1] * 2)


def test_shared_updates():
    acc = opcore.shared(np.float64(0.0), name="acc")
    count = opcore.shared(np.int64(0), name="count")
    x = T.dvector("x")
    out, updates = opcore.scan(lambda v: (v * acc, {acc: acc + v, count: count + 1}),
                               sequences=x)
    fc = opcore.function([x], out, updates=updates)
    assert all(fc.placement(n) == ("c", "compiled") for n in _scans(fc))
    np.testing.assert_allclose(fc(np.array([1.0, 2.0, 3.0])), [0.0, 2.0, 9.0])
    assert acc.get_value() == 6.0 and count.get_value() == 3
    fp = opcore.function([x], out, updates=updates, mode="FAST_COMPILE")
    np.testing.assert_allclose(fp(np.array([1.0])), [6.0])
    np.testing.assert_allclose(fc(np.array([2.0])), [14.0])
    assert acc.get_value() == 9.0 and count.get_value() == 5


def test_until_stops_the_loop():
    x0 = T.dscalar("x0")

    def step(x):
        y = x * 2.0
        return y, until(y > 100.0)

    xs, _ = opcore.scan(step, outputs_info=x0, n_steps=50)
    fc, fp = _both([x0], [xs, xs.shape[0]])
    got = fc(3.0)
    np.testing.assert_allclose(got[0], [6.0, 12.0, 24.0, 48.0, 96.0, 192.0])
    assert int(got[1]) == 6
    _same(got, fp(3.0))
    assert int(fc(1000.0)[1]) == 1


def test_zero_steps():
    k = T.iscalar("k")
    a0 = T.dvector("a0")
    (a, b), _ = opcore.scan(lambda a: (a + 1.0, a.sum()), outputs_info=[a0, None], n_steps=k)
    fc, fp = _both([a0, k], [a, b])
    got = fc(np.ones(3), 0)
    assert got[0].shape == (0, 3) and got[1].shape == (0,)
    _same(got, fp(np.ones(3), 0))
    with pytest.raises(ValueError, match="n_steps must be >= 0"):
        fc(np.ones(3), -1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_dtypes(dtype):
    x = T.vector("x", dtype=dtype)
    s0 = T.scalar("s0", dtype=dtype)
    if dtype == "bool":
        r, _ = opcore.scan(lambda a, s: T.xor(a, s), sequences=x, outputs_info=s0)
        val, init = np.array([True, False, True, True]), np.array(False)
        ref = np.logical_xor.accumulate(np.concatenate([[init], val]))[1:]
    else:
        r, _ = opcore.scan(lambda a, s: s * 3 + a, sequences=x, outputs_info=s0)
        val = np.arange(1, 8).astype(dtype)
        init = np.array(2, dtype=dtype)
        ref, s = [], init
        for a in val:
            s = (s * np.array(3, dtype=dtype) + a).astype(dtype)  # wraps as NumPy does
            ref.append(s)
    fc, fp = _both([x, s0], r)
    got = fc(val, init)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got.astype(float), np.asarray(ref).astype(float),
                               rtol=1e-6 if dtype == "float32" else 0)
    _same(got, fp(val, init))


def test_rnn_forward_backward_and_finite_differences():
    rng = np.random.default_rng(3)
    x, W, U = T.dmatrices("x", "W", "U")
    h0, b = T.dvectors("h0", "b")

    def rnn(x, h0, W, U, b):
        h, _ = opcore.scan(lambda x_t, h, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h, U) + b),
                           sequences=x, outputs_info=h0, non_sequences=[W, U, b])
        return h

    cost = (rnn(x, h0, W, U, b) ** 2).sum()
    fc, fp = _both([x, h0, W, U, b], T.grad(cost, [x, h0, W, U, b]))
    vals = [rng.normal(size=(20, 4)), rng.normal(size=5), rng.normal(size=(4, 5)) * 0.5,
            rng.normal(size=(5, 5)) * 0.5, rng.normal(size=5)]
    _same(fc(*vals), fp(*vals))
    # the NumPy forward pass and back-propagation through time
    xv, hv, Wv, Uv, bv = vals
    hs = [hv]
    for t in range(len(xv)):
        hs.append(np.tanh(xv[t] @ Wv + hs[-1] @ Uv + bv))
    carry = np.zeros(5)
    gW, gU = np.zeros_like(Wv), np.zeros_like(Uv)
    for t in range(len(xv) - 1, -1, -1):
        da = (2 * hs[t + 1] + carry) * (1 - hs[t + 1] ** 2)
        gW += np.outer(xv[t], da)
        gU += np.outer(hs[t], da)
        carry = da @ Uv.T
    got = fc(*vals)
    np.testing.assert_allclose(got[2], gW, rtol=1e-10)
    np.testing.assert_allclose(got[3], gU, rtol=1e-10)
    np.testing.assert_allclose(got[1], carry, rtol=1e-10)
    verify_grad(lambda x, h0, W, U, b: (rnn(x, h0, W, U, b) ** 2).sum(),
                [v[:4] if i == 0 else v for i, v in enumerate(vals)], rng=rng)


def test_truncated_gradient():
    x = T.dvector("x")
    s0 = T.dscalar("s0")
    s, _ = opcore.scan(lambda a, s: s * a, sequences=x, outputs_info=s0, truncate_gradient=2)
    fc, fp = _both([x, s0], T.grad(s[-1], [x, s0]))
    v = np.array([1.5, 2.0, 0.5, 3.0])
    _same(fc(v, 2.0), fp(v, 2.0))


def test_nested_scan():
    x = T.dmatrix("x")

    def row(r):
        c, _ = opcore.scan(lambda v, acc: acc + v, sequences=r, outputs_info=T.constant(0.0))
        return c

    out, _ = opcore.scan(row, sequences=x)
    fc, fp = _both([x], out)
    v = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(fc(v), np.cumsum(v, axis=1))
    _same(fc(v), fp(v))


def test_error_names_the_node_and_the_step():
    x = T.dvector("x")
    n = T.lmatrix("n")  # one target shape per step
    r, _ = opcore.scan(lambda a, k: T.reshape(a * T.ones((2,)), k, ndim=1), sequences=[x, n])
    fc, fp = _both([x, n], r)
    ok = np.array([[2], [2], [3], [2]])
    np.testing.assert_allclose(fc(np.ones(2), ok[:2]), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"(?s)error at step 2.*Reshape") as c_err:
        fc(np.ones(4), ok)
    with pytest.raises(ValueError, match=r"(?s)error at step 2.*Reshape") as py_err:
        fp(np.ones(4), ok)
    assert "Scan{" in str(c_err.value) and "Scan{" in str(py_err.value)


def test_error_state_changes_shape():
    x = T.dvector("x")
    s0 = T.dvector("s0")
    r, _ = opcore.scan(lambda a, s: T.concatenate([s, s])[:T.cast(a, "int64") + 1],
                       sequences=x, outputs_info=s0)
    fc, fp = _both([x, s0], r)
    np.testing.assert_allclose(fc(np.array([1.0, 1.0]), np.ones(2)), [[1.0, 1.0]] * 2)
    for f in (fc, fp):
        with pytest.raises(ValueError, match="recurrent output 0 has shape \\(3,\\) at step 1.*"
                                             "keep its shape"):
            f(np.array([1.0, 2.0]), np.ones(2))


def test_lazy_inner_graph_falls_back_to_the_python_loop():
    x = T.dvector("x")
    s0 = T.dscalar("s0")
    r, _ = opcore.scan(lambda a, s: ifelse(T.gt(a, 0), s + a, s - a), sequences=x,
                       outputs_info=s0)
    fc, fp = _both([x, s0], r, expect_c=False)
    node = _scans(fc)[0]
    assert "ifelse" in why_python(node.op)
    shown = opcore.printing.debugprint(fc, file="str")
    assert "python fallback (Python loop: the inner graph has lazy nodes (ifelse)" in shown
    v = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(fc(v, 0.0), [1.0, 3.0, 6.0])
    _same(fc(v, 0.0), fp(v, 0.0))


def test_states_keeping_their_last_value_only():
    """States whose last value only is kept live in arrays the C loop owns and the inner function
    updates in place: outputs that are the same variable for two states, a non-sequence, a
    constant or a view must not be corrupted, nor the user's inputs."""
    k = T.iscalar("k")
    w = T.dvector("w")
    a0, b0, c0 = T.dvectors("a0", "b0", "c0")
    d0 = T.dmatrix("d0")

    def step(a, b, c, d, e, w):
        new = a * 1.5 + w
        # c's new value is the non-sequence itself; e's may be computed in place over c
        return new, new + b * 0.0, w, d[::-1] * 2.0, c * 2.0 + 2.0

    outs, _ = opcore.scan(step, outputs_info=[a0, b0, c0, d0, T.zeros((3,))],
                          non_sequences=w, n_steps=k)
    last = [o[-1] for o in outs]
    fc, fp = _both([a0, b0, c0, d0, w, k], last)
    assert all(_scans(fc)[0].op.info.save_last[:5])
    vals = [np.array([1.0, 2.0, 3.0]), np.zeros(3), np.ones(3), np.arange(6.0).reshape(2, 3),
            np.array([0.5, -0.5, 0.25])]
    keep = [v.copy() for v in vals]
    a, d = vals[0].copy(), vals[3].copy()
    for _ in range(5):
        a = a * 1.5 + vals[4]
        d = d[::-1] * 2.0
    for _ in range(2):  # a second call starts from the same values
        got = fc(*vals, 5)
        np.testing.assert_allclose(got[0], a)
        np.testing.assert_allclose(got[1], a)
        np.testing.assert_allclose(got[2], vals[4])
        np.testing.assert_allclose(got[3], d)
        np.testing.assert_allclose(got[4], vals[4] * 2.0 + 2.0)
        _same(got, fp(*vals, 5))
        for v, ref in zip(vals, keep):
            np.testing.assert_array_equal(v, ref)
    for f in (fc, fp):  # the last entry of zero steps (Theano's rule, docs/control-flow.md)
        with pytest.raises(IndexError):
            f(*vals, 0)


def test_inner_node_without_c_falls_back_and_says_which():
    x = T.dmatrix("x")
    idx = T.lvector("idx")
    r, _ = opcore.scan(lambda row, i: row[i] * 2.0, sequences=x, non_sequences=idx)
    fc, fp = _both([x, idx], r, expect_c=False)
    why = why_python(_scans(fc)[0].op)
    assert why.startswith("inner nodes without C: ") and "AdvancedSubtensor" in why
    v = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(fc(v, np.array([3, 0])), v[:, [3, 0]] * 2.0)
    _same(fc(v, np.array([3, 0])), fp(v, np.array([3, 0])))


def test_step_building_a_shape_from_scalars_runs_in_c():
    x = T.dmatrix("x")
    k = T.lscalar("k")
    r, _ = opcore.scan(lambda row, k: T.reshape(row, (k, -1)).sum(axis=0), sequences=x,
                       non_sequences=k)  # MakeVector(k, -1) in the step
    fc, fp = _both([x, k], r)
    v = np.arange(12.0).reshape(2, 6)
    np.testing.assert_allclose(fc(v, 3), v.reshape(2, 3, 2).sum(axis=1))
    _same(fc(v, 3), fp(v, 3))


def test_last_value_states_exchanging_their_values():
    k = T.iscalar("k")
    a0, b0 = T.dvectors("a0", "b0")
    (a, b), _ = opcore.scan(lambda a, b: (b, a + b), outputs_info=[a0, b0], n_steps=k)
    fc, fp = _both([a0, b0, k], [a[-1], b[-1]])
    av, bv = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    ra, rb = av.copy(), bv.copy()
    for _ in range(6):
        ra, rb = rb, ra + rb
    got = fc(av, bv, 6)
    np.testing.assert_allclose(got[0], ra)
    np.testing.assert_allclose(got[1], rb)
    _same(got, fp(av, bv, 6))
    np.testing.assert_array_equal(av, [0.0, 1.0])
    np.testing.assert_array_equal(bv, [1.0, 1.0])
