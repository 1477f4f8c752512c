"""Typed lists: every op against Python's list, types and errors."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.typed_list import (TypedListType, append, count, extend, getitem, index_, insert,
                               length, make_list, remove, reverse)

M = [np.full((2, 3), k, dtype="float64") for k in range(4)]


def _f(inputs, outputs):
    return opcore.function(inputs, outputs, mode="FAST_COMPILE")


def _eq(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_type():
    t = TypedListType(T.dmatrix)
    assert t == TypedListType(T.dmatrix) != TypedListType(T.fmatrix)
    assert t.dtype == "float64" and t.ndim == 2 and str(t) == f"TypedList <{T.dmatrix}>"
    assert TypedListType(T.dmatrix, 1).ttype == t
    with pytest.raises(TypeError):
        t.filter(np.zeros((2, 2)))
    with pytest.raises(TypeError):
        t.filter([np.zeros(2)])  # wrong rank


def test_every_op_against_python_lists():
    l = TypedListType(T.dmatrix)()
    l2 = TypedListType(T.dmatrix)()
    m = T.dmatrix()
    i = T.lscalar()
    outs = [append(l, m), extend(l, l2), insert(l, i, m), remove(l, m), reverse(l),
            getitem(l, i), l[1:3], length(l), count(l, m), index_(l, m)]
    f = _f([l, l2, m, i], outs)
    src, other, item, k = M[:3], [M[3]], M[1], 1
    r = f(src, other, item, k)
    py = list(src)
    assert _eq(r[0], py + [item]) and _eq(r[1], py + other)
    assert _eq(r[2], py[:k] + [item] + py[k:]) and _eq(r[3], [py[0], py[2]])
    assert _eq(r[4], py[::-1]) and np.array_equal(r[5], py[k]) and _eq(r[6], py[1:3])
    assert (int(r[7]), int(r[8]), int(r[9])) == (3, 1, 1)
    assert _eq(src, M[:3])  # inputs untouched (not in place)


def test_errors():
    l = TypedListType(T.dmatrix)()
    with pytest.raises(TypeError):
        append(l, T.dvector())
    with pytest.raises(TypeError):
        getitem(l, T.dscalar())
    with pytest.raises(TypeError):
        extend(l, TypedListType(T.fmatrix)())
    a = T.dmatrix()
    g = _f([a], make_list([a, a * 2]))
    assert _eq(g(np.ones((1, 1))), [np.ones((1, 1)), 2 * np.ones((1, 1))])
    with pytest.raises(TypeError):
        make_list([a, T.dvector()])
    m = T.dmatrix()
    h = _f([l, m], index_(l, m))
    with pytest.raises(ValueError):
        h(M[:2], M[3])
