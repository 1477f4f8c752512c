"""A run-time error inside a node a rewrite made (Gemv for a ``dot``, a fused loop) names the
node the user wrote, with the error that op gives, as Theano's "Apply node that caused the
error" did."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.compile import Mode
from opcore.plugins import get_host


def _backends() -> list:
    host = get_host()
    host.ensure_loaded()
    return ["py"] + (["c"] if "c" in {b.name for b in host.healthy_backends()} else [])


@pytest.mark.parametrize("backend", _backends())
def test_bad_shape_dot_names_dot_not_gemv(backend):
    m, v = T.dmatrix("m"), T.dvector("v")
    f = opcore.function([m, v], T.dot(m, v) * 2, mode=Mode(backend=backend))
    ops = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    assert "Dot" not in ops, ops  # rewritten into an internal op (Gemv)
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 4)), np.ones(5))
    msg = str(info.value)
    first = msg.splitlines()[0]
    assert first.startswith("Dot") and "not aligned" in first and "Gemv" not in first, msg
    assert "Apply node that caused the error: Dot(m, v)" in msg
    ref = opcore.function([m, v], T.dot(m, v) * 2, mode="FAST_COMPILE")
    with pytest.raises(ValueError) as ref_info:
        ref(np.ones((3, 4)), np.ones(5))
    assert str(ref_info.value).splitlines()[0] == first


def test_rewrite_products_remember_the_users_node():
    m, v = T.dmatrix("m"), T.dvector("v")
    f = opcore.function([m, v], T.dot(m, v) * 2, mode=Mode(backend="py"))
    made = [n for n in f.maker.fgraph.toposort() if type(n.op).__name__ == "Gemv"]
    assert made
    for node in made:
        assert type(node.tag.origin.op).__name__ == "Dot"
