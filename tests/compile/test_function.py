"""function(): signature, inputs checking, updates/givens, In/Out, shared, profile, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore import In, Out, function, shared
from opcore.compile.function import MissingInputError, UnusedInputError


def test_single_and_list_outputs():
    x, y = T.dscalars("x, y")
    f = function([x, y], x + y)
    assert float(f(2, 3)) == 5.0
    g = function([x, y], [x + y, x * y])
    out = g(2, 3)
    assert isinstance(out, list) and [float(v) for v in out] == [5.0, 6.0]
    h = function([x], [], on_unused_input="ignore")
    assert h(1.0) == []
    assert function([], T.constant(2.0) * 3)() == 6.0


def test_inputs_accept_lists_scalars_and_arrays():
    x = T.dmatrix("x")
    f = function([x], x.sum())
    assert float(f([[1, 2], [3, 4]])) == 10.0
    assert float(f(np.ones((2, 2), "float32"))) == 4.0  # safe upcast
    s = T.iscalar("s")
    assert int(function([s], s * 2)(7)) == 14


def test_wrong_argument_count():
    x, y = T.dscalars("x, y")
    f = function([x, y], x + y, name="adder")
    with pytest.raises(TypeError, match="missing input 1 .*y"):
        f(1.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        f(1.0, 2.0, 3.0)


def test_wrong_ndim_names_the_input():
    x = T.dmatrix("x")
    f = function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.ones(3))
    msg = str(info.value)
    assert "'x'" in msg and "expected 2" in msg and "got 1" in msg


def test_unsafe_dtype_cast_and_allow_input_downcast():
    x = T.fvector("x")
    f = function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.ones(2, "float64"))
    assert "'x'" in str(info.value) and "float32" in str(info.value)
    g = function([x], x * 2, allow_input_downcast=True)
    out = g(np.ones(2, "float64"))
    assert out.dtype == np.float32
    i = T.ivector("i")
    with pytest.raises(TypeError, match="'i'"):
        function([i], i)(np.array([1.5]))


def test_non_rectangular_list():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="rectangular"):
        function([x], x)([[1.0, 2.0], [3.0]])


def test_keyword_arguments():
    x, y = T.dscalars("x, y")
    f = function([x, In(y, value=10.0)], x - y)
    assert float(f(1.0)) == -9.0
    assert float(f(y=2.0, x=5.0)) == 3.0
    with pytest.raises(TypeError, match="unknown keyword argument 'z'"):
        f(1.0, z=3.0)
    with pytest.raises(TypeError, match="given twice"):
        f(1.0, x=2.0)
    g = function([In(x, name="alpha")], x * 2)
    assert float(g(alpha=3.0)) == 6.0


def test_input_that_is_not_a_root():
    # Theano and PyTensor: the value given for y replaces the subgraph computing it
    x = T.dscalar("x")
    y = x * 2
    assert float(function([y], y + 1)(5.0)) == 6.0
    with pytest.raises(TypeError, match="constant"):
        function([T.constant(1.0)], x)
    with pytest.raises(TypeError, match="list"):
        function(x, x)


def test_missing_input_is_named():
    x, y = T.dscalars("x, y")
    with pytest.raises(MissingInputError, match="y"):
        function([x], x + y)


def test_on_unused_input():
    x, y = T.dscalars("x, y")
    with pytest.raises(UnusedInputError, match="input 1 .y."):
        function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not used"):
        f = function([x, y], x * 2, on_unused_input="warn")
    assert float(f(1.0, 2.0)) == 2.0
    f = function([x, y], x * 2, on_unused_input="ignore")
    assert float(f(1.0, 5.0)) == 2.0
    with pytest.raises(ValueError, match="on_unused_input"):
        function([x], x, on_unused_input="maybe")


def test_unknown_keyword_to_function():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="bogus"):
        function([x], x, bogus=1)


def test_shared_get_set_and_borrow():
    v = np.zeros(3)
    s = shared(v, name="s")
    v[0] = 9
    assert s.get_value()[0] == 0.0  # copied at creation
    got = s.get_value()
    got[1] = 5
    assert s.get_value()[1] == 0.0  # get_value returns a copy
    inner = s.get_value(borrow=True)
    inner[2] = 7
    assert s.get_value()[2] == 7.0  # borrow gives the internal buffer
    b = shared(v, borrow=True)
    v[1] = 4
    assert b.get_value()[1] == 4.0
    new = np.ones(3)
    s.set_value(new)
    new[0] = 3
    assert s.get_value()[0] == 1.0
    with pytest.raises(TypeError, match="s"):
        s.set_value(np.ones((2, 2)))
    assert s.type == T.dvector and s.name == "s"
    assert shared(1.5).ndim == 0
    assert shared(np.int32(3)).dtype == "int32"
    with pytest.raises(TypeError):
        shared(T.dscalar())


def test_updates_list_and_dict_return_old_value():
    state = shared(0, name="state")
    inc = T.iscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)])
    assert int(acc(1)) == 0
    assert int(acc(10)) == 1
    assert int(state.get_value()) == 11
    dec = function([inc], state, updates={state: state - inc})
    assert int(dec(2)) == 11
    assert int(state.get_value()) == 9
    state.set_value(-1)
    assert int(acc(3)) == -1 and int(state.get_value()) == 2


def test_updates_are_simultaneous():
    a, b = shared(1.0, "a"), shared(2.0, "b")
    swap = function([], [], updates=[(a, b), (b, a)])
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (2.0, 1.0)


def test_update_errors():
    x = T.dscalar("x")
    s = shared(np.zeros(2))
    with pytest.raises(TypeError, match="not a shared variable"):
        function([x], x, updates=[(x, x + 1)])
    with pytest.raises(TypeError, match="cast"):
        function([], [], updates=[(s, T.zeros((2,), dtype="int32") + T.imatrix().sum())])
    with pytest.raises(ValueError, match="twice"):
        function([], [], updates=[(s, s + 1), (s, s * 2)])
    with pytest.raises(TypeError, match="pairs"):
        function([], [], updates=[s])


def test_givens():
    state = shared(0, name="state")
    inc = T.iscalar("inc")
    foo = T.scalar(dtype=state.dtype)
    fn_of_state = state * 2 + inc
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert int(skip_shared(1, 3)) == 7
    assert int(state.get_value()) == 0
    x, y = T.dvectors("x, y")
    f = function([y], T.sum(x * 2), givens={x: y + 1})
    assert float(f(np.ones(2))) == 8.0
    with pytest.raises(TypeError, match="givens"):
        function([y], x.sum(), givens={x: T.dmatrix()})


def test_two_functions_update_one_shared_variable():
    w = shared(np.zeros(2), name="w")
    x = T.dvector("x")
    add = function([x], [], updates=[(w, w + x)])
    mul = function([x], w.sum(), updates=[(w, w * x)])
    add(np.array([1.0, 2.0]))
    assert float(mul(np.array([3.0, 3.0]))) == 3.0
    np.testing.assert_array_equal(w.get_value(), [3.0, 6.0])


def test_outputs_are_fresh_unless_borrowed():
    x = T.dvector("x")
    f = function([x], x)
    xv = np.ones(2)
    out = f(xv)
    out[0] = 5.0
    assert xv[0] == 1.0
    s = shared(np.arange(3.0))
    g = function([], s)
    g()[0] = 100.0
    assert s.get_value()[0] == 0.0
    h = function([x], Out(x * 2, borrow=True))
    first = h(np.ones(2))
    np.testing.assert_array_equal(first, [2.0, 2.0])
    two = function([x], [x * 2, x * 2])
    a, b = two(np.ones(2))
    a[0] = 9
    assert b[0] == 2.0


def test_in_borrow_and_mutable():
    x = T.dvector("x")
    f = function([In(x, borrow=True)], x + 1)
    np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 1.0])
    g = function([In(x, mutable=True)], x * 3)
    xv = np.ones(2)
    np.testing.assert_array_equal(g(xv), [3.0, 3.0])


def test_name_profile_and_fgraph():
    x = T.dvector("x")
    f = function([x], T.exp(x).sum(), name="myfn", profile=True)
    for _ in range(3):
        f(np.ones(4))
    assert f.name == "myfn"
    text = f.profile.summary(file="str")
    assert "myfn" in text and "calls: 3" in text and "%" in text
    fg = f.maker.fgraph
    assert fg.inputs and fg.outputs and fg.apply_nodes
    assert all(n in fg.apply_nodes for n in fg.toposort())
    assert function([x], x * 2).profile is None


def test_modes():
    x = T.dvector("x")
    y = (x * 2 + 1).sum()
    xv = np.arange(3.0)
    for mode in ("FAST_RUN", "FAST_COMPILE", opcore.Mode(linker="py", optimizer=None),
                 opcore.Mode(linker="vm", optimizer="fast_run").excluding("fusion")):
        assert float(function([x], y, mode=mode)(xv)) == 9.0
    with pytest.raises(ValueError, match="mode"):
        function([x], y, mode="FASTEST")


def test_no_default_updates_and_rebuild_strict():
    x = T.dscalar("x")
    s = shared(1.0)
    s.default_update = s + 1
    f = function([x], x + s)
    f(0.0)
    assert float(s.get_value()) == 2.0
    g = function([x], x + s, no_default_updates=True)
    g(0.0)
    assert float(s.get_value()) == 2.0
    h = function([x], x * 2, rebuild_strict=False, accept_inplace=True)
    assert float(h(2.0)) == 4.0


def test_runtime_error_names_the_node():
    x, y = T.dvectors("x, y")
    f = function([x, y], T.exp(x) * y)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "Apply node that caused the error" in msg
    assert "Inputs shapes" in msg and "(3,)" in msg and "(4,)" in msg
    assert "Inputs dtypes" in msg


def test_function_pickles_with_shared_state():
    w = shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    f = function([x], (w * x).sum(), updates=[(w, w + 1)], name="f")
    f(np.ones(2))
    f2 = pickle.loads(pickle.dumps(f))
    assert float(f2(np.ones(2))) == 5.0  # w was [2, 3] when pickled
    assert float(f(np.ones(2))) == 5.0   # the original keeps its own state
    s2 = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(s2.get_value(), w.get_value())


def test_eval_cache():
    x = T.dscalar("x")
    y = x * 3
    assert float(y.eval({x: 2.0})) == 6.0
    assert float(y.eval({x: 3.0})) == 9.0


def test_call_errors_name_the_function_without_double_spaces():
    x = T.dscalar("x")
    f = opcore.function([x], x * 2)
    with pytest.raises(TypeError, match=r"^the function takes 1 argument\(s\), got 2"):
        f(1.0, 2.0)
    g = opcore.function([x], x * 2, name="double")
    with pytest.raises(TypeError, match=r"^function 'double' takes 1 argument\(s\): missing"):
        g()


def test_wrong_rank_update_does_not_suggest_a_cast():
    w = opcore.shared(np.zeros(3), name="w")
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="number of dimensions") as info:
        opcore.function([m], [], updates=[(w, m)])
    assert "cast" not in str(info.value)
    wf = opcore.shared(np.zeros(3, dtype="float32"), name="wf")
    with pytest.raises(TypeError, match=r"cast it: T.cast\(expr, 'float32'\)"):
        opcore.function([m], [], updates=[(wf, m.sum(axis=0))])


def test_trust_input_stores_values_without_filtering():
    """``f.trust_input = True`` (Theano's attribute): inputs of the right type give the same
    results and skip the per-input check and conversion; switching it off checks again."""
    a, b = T.dvector("a"), T.dvector("b")
    f = opcore.function([a, b], a * b + 1)
    x, y = np.arange(3.0), np.full(3, 2.0)
    want = x * y + 1

    def refuse(v):
        raise AssertionError("an input was filtered")

    f.trust_input = True
    f.filters = [refuse, refuse]
    np.testing.assert_array_equal(f(x, y), want)
    np.testing.assert_array_equal(f(b=y, a=x), want)
    f.trust_input = False
    with pytest.raises(AssertionError, match="filtered"):
        f(x, y)


def test_trusted_calls_match_checked_calls_with_updates_outputs_and_copies():
    """The trusted path gives what the checked path gives: several outputs, shared updates (all
    at once), stored-input updates, a copy sharing or not sharing its stored values, and the
    mode's call-time counter."""
    x, a = T.dvector("x"), T.dscalar("acc")
    acc = opcore.In(a, value=0.0, update=a + 1)
    w = opcore.shared(np.ones(3), name="w")
    v = opcore.shared(np.zeros(3), name="v")
    out = [x * w, (x * w).sum() + a]
    upd = [(w, v + 2), (v, w)]
    ref = opcore.function([x, acc], out, updates=upd)
    ref_w, ref_v = w.get_value(), v.get_value()
    want = []
    for k in range(3):
        r = ref(np.arange(3.0) + k)
        want.append([a.copy() if isinstance(a, np.ndarray) else a for a in r])
    w.set_value(ref_w)
    v.set_value(ref_v)
    f = opcore.function([x, acc], out, updates=upd)
    f.trust_input = True
    f.filters = [None, None]  # never called on this path
    for k in range(2):
        got = f(np.arange(3.0) + k, np.asarray(float(k)))
        np.testing.assert_array_equal(got[0], want[k][0])
        np.testing.assert_allclose(got[1], want[k][1])
    g = f.copy(share_memory=True)
    g.trust_input = True
    before = f.maker.mode.call_time
    got = g(np.arange(3.0) + 2, np.asarray(2.0))
    np.testing.assert_array_equal(got[0], want[2][0])
    np.testing.assert_allclose(got[1], want[2][1])
    assert f.maker.mode.call_time > before
    assert g.value[a] == 3.0  # the stored-input update ran on the shared storage


def test_scalar_inputs_given_as_numpy_or_python_scalars():
    """0-d inputs given as NumPy scalars of their dtype (or Python floats for float64) take the
    unchecked path and give the same values; other scalars are still checked."""
    x, y = T.dscalar("x"), T.dscalar("y")
    f = opcore.function([x, y], x + y)
    assert float(f(np.float64(1.5), 2.5)) == 4.0
    assert float(f(np.float32(1.5), 2)) == 3.5  # converted by the checked path
    i = T.iscalar("i")
    g = opcore.function([i], i * 2)
    assert int(g(np.int32(3))) == 6 and g(np.int32(3)).dtype == np.int32
    with pytest.raises(TypeError):
        g(np.int64(2 ** 40))
