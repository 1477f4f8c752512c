"""The compile cache key is structural: names of variables are not part of a module."""

import os

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.cbuild.cli import list_entries as _all_entries
from opcore.compile import Mode
from opcore.config import change_flags


def list_entries() -> list:
    """The cache's module entries (a linked module's kernels are entries of kind "object",
    shared by every module holding them)."""
    return [e for e in _all_entries() if e["kind"] == "module"]


#: graphs per run in the suite; the notes give the figures of a 300-graph run
GRAPHS = int(os.environ.get("OPCORE_TEST_RENAMED_GRAPHS", "25"))


def test_graphs_differing_only_in_names_share_one_module(tmp_path):
    a = np.linspace(-1, 1, 5)
    with change_flags(compiledir=str(tmp_path)):
        fns = []
        for i in range(GRAPHS):
            x = T.dvector(f"input_{i}")
            y = T.exp(x) * 2 + x
            y.name = f"output_{i}"
            f = opcore.function([x], y, mode=Mode(backend="c"), name=f"fn_{i}")
            assert f.linker.c_nodes
            np.testing.assert_allclose(f(a), np.exp(a) * 2 + a)
            fns.append(f)
        entries = list_entries()
    assert len(entries) == 1, [e["ops"] for e in entries]
    # the names still reach the messages, each function its own
    for i in (0, GRAPHS - 1):
        with pytest.raises(TypeError, match=f"input_{i}"):
            fns[i](np.ones((2, 2)))


def test_broadcast_error_names_its_own_input(tmp_path):
    with change_flags(compiledir=str(tmp_path)):
        msgs = []
        for name in ("left_operand", "other_name"):
            x = T.dmatrix(name)
            z = T.dmatrix("z")
            # a constant no other test uses: the module must not be one this process already
            # loaded (an earlier test's identical graph would leave this compiledir empty)
            f = opcore.function([x, z], x + z * 1.0471975, mode=Mode(backend="c"))
            with pytest.raises(ValueError) as info:
                f(np.ones((1, 3)), np.ones((4, 3)))
            msgs.append(str(info.value))
        assert len(list_entries()) == 1
    assert "left_operand" in msgs[0] and "other_name" in msgs[1], msgs


def _elemwise(n):
    x = T.dmatrix(n)
    return [x], T.tanh(x) ** 2 + 1, [np.ones((2, 3))]


def _reduce(n):
    x = T.dmatrix(n)
    return [x], [x.sum(axis=0), x.max(axis=1), x.mean()], [np.arange(6.0).reshape(2, 3)]


def _dot(n):
    a, b = T.dmatrix(n + "_a"), T.dvector(n + "_b")
    return [a, b], T.dot(a, b) + T.dot(a.T, a).sum(), [np.ones((2, 3)), np.ones(3)]


def _subtensor(n):
    x, i = T.dvector(n), T.lscalar(n + "_i")
    return [x, i], T.set_subtensor(x[1:i], 0.0)[::-1] + x[i], [np.arange(5.0), 3]


def _shape(n):
    x = T.dmatrix(n)
    return [x], T.concatenate([x.reshape((3, 2)), x.T], axis=0).dimshuffle(1, 0), [np.ones((2, 3))]


def _softmax(n):
    x = T.dmatrix(n)
    return [x], T.nnet.softmax(x), [np.ones((2, 3))]


@pytest.mark.parametrize("build", [_elemwise, _reduce, _dot, _subtensor, _shape, _softmax],
                         ids=lambda b: b.__name__[1:])
def test_every_op_family_keys_without_names(build, tmp_path):
    results = []
    with change_flags(compiledir=str(tmp_path)):
        for n in ("first_name", "second_name", "x"):
            if build is _softmax and not hasattr(T, "nnet"):
                pytest.skip("the nnet plugin is not installed")
            ins, out, vals = build(n)
            f = opcore.function(ins, out, mode=Mode(backend="c"))
            assert f.linker.c_nodes
            results.append(f(*vals))
        n_entries = len(list_entries())
    assert n_entries == 1
    for r in results[1:]:
        for a, b in zip(r if isinstance(r, list) else [r], results[0] if isinstance(
                results[0], list) else [results[0]]):
            np.testing.assert_allclose(a, b)
