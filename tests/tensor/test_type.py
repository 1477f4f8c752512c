"""TensorType, typed shortcuts, constructors and input filtering."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.tensor.type import TensorType

PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
            "d": "float64", "c": "complex64", "z": "complex128"}
RANKS = {"scalar": (), "vector": (False,), "row": (True, False), "col": (False, True),
         "matrix": (False, False), "tensor3": (False,) * 3, "tensor4": (False,) * 4}


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("rank", sorted(RANKS))
def test_typed_shortcuts_are_callable_types(prefix, rank):
    shortcut = getattr(T, prefix + rank)
    assert isinstance(shortcut, TensorType)
    v = shortcut("v")
    assert v.type is shortcut
    assert v.name == "v"
    assert v.dtype == PREFIXES[prefix]
    assert v.broadcastable == RANKS[rank]
    assert v.ndim == len(RANKS[rank])


def test_shortcut_repr_reads_like_theano():
    assert repr(T.dscalar) == "TensorType(float64, scalar)"
    assert repr(T.fvector) == "TensorType(float32, vector)"
    assert repr(T.imatrix) == "TensorType(int32, matrix)"
    assert repr(T.drow) == "TensorType(float64, row)"
    assert repr(T.dcol) == "TensorType(float64, col)"
    assert T.dscalar('x').type is T.dscalar


@pytest.mark.parametrize("ctor,bcast", [("scalar", ()), ("vector", (False,)),
                                        ("row", (True, False)), ("col", (False, True)),
                                        ("matrix", (False, False)), ("tensor3", (False,) * 3),
                                        ("tensor4", (False,) * 4)])
def test_generic_constructors_use_floatx(ctor, bcast):
    v = getattr(T, ctor)("v")
    assert v.dtype == opcore.config.floatX
    assert v.broadcastable == bcast
    with opcore.config.change_flags(floatX="float32"):
        assert getattr(T, ctor)().dtype == "float32"
    assert getattr(T, ctor)(dtype="int32").dtype == "int32"


def test_plural_constructors():
    x, y = T.dscalars("x, y")
    assert (x.name, y.name) == ("x", "y") and x.type is T.dscalar
    a, b = T.fmatrices("a, b")
    assert a.type is T.fmatrix and b.name == "b"
    u, v = T.ivectors("u, v")
    assert u.dtype == "int32"


def test_tensortype_broadcastable_and_shape():
    t = TensorType("float64", (False, True))
    assert t == T.dcol
    assert t.broadcastable == (False, True)
    assert hash(t) == hash(T.dcol)
    t5 = TensorType("int16", (False,) * 5)
    assert t5().ndim == 5
    ts = TensorType("float32", shape=(None, 1, 3))
    assert ts.broadcastable == (False, True, False)
    assert ts.shape == (None, 1, 3)
    assert TensorType("float32", shape=(None, 1)) == TensorType("float32", (False, True))
    v = T.tensor("float64", (True, False, False), name="t")
    assert v.broadcastable == (True, False, False) and v.name == "t"
    assert T.tensor(dtype="int8", shape=(2, None)).type.shape == (2, None)


def test_tensortype_bad_arguments():
    with pytest.raises(TypeError, match="dtype"):
        TensorType("float128x", (False,))
    with pytest.raises(TypeError, match="broadcastable or shape"):
        TensorType("float64")


def test_variable_attributes():
    x = T.dmatrix("x")
    assert (x.ndim, x.dtype, x.broadcastable, x.name) == (2, "float64", (False, False), "x")
    assert x.type is T.dmatrix
    assert str(x) == "x"


@pytest.mark.parametrize("t,value,ok", [
    (T.dvector, [1, 2, 3], True),           # int list -> float64: safe
    (T.dvector, np.arange(3, dtype="int32"), True),
    (T.fvector, np.ones(3, "float64"), False),  # unsafe downcast of an array
    (T.ivector, np.ones(3, "float64"), False),
    (T.ivector, np.ones(3, "int64"), False),
    (T.dmatrix, np.ones(3), False),          # wrong ndim
    (T.dscalar, 2.5, True),
    (T.iscalar, 2.5, False),
])
def test_filter_safe_casts(t, value, ok):
    if ok:
        out = t.filter(value)
        assert out.dtype == t.dtype
        np.testing.assert_array_equal(out, np.asarray(value))
    else:
        with pytest.raises(TypeError):
            t.filter(value)


def test_filter_allow_downcast():
    out = T.fvector.filter(np.ones(3, "float64"), allow_downcast=True)
    assert out.dtype == np.float32


def test_filter_non_rectangular_list():
    with pytest.raises(ValueError, match="rectangular"):
        T.dmatrix.filter([[1.0, 2.0], [3.0]])


def test_filter_static_shape():
    t = TensorType("float64", shape=(2, None))
    t.filter(np.zeros((2, 5)))
    with pytest.raises(TypeError, match="dimension 0 must have length 2"):
        t.filter(np.zeros((3, 5)))


def test_types_pickle():
    for t in (T.dscalar, T.fmatrix, TensorType("int8", shape=(None, 1, 4))):
        assert pickle.loads(pickle.dumps(t)) == t


def test_values_eq_approx():
    assert T.dvector.values_eq_approx(np.ones(3), np.ones(3) + 1e-9)
    assert not T.dvector.values_eq_approx(np.ones(3), np.ones(3) + 1e-2)
    assert not T.dvector.values_eq_approx(np.ones(3), np.ones(4))


def test_theano_positional_name_is_accepted():
    t = T.TensorType("float64", (False, True), "my_col_type")
    assert t.broadcastable == (False, True) and t.shape == (None, 1)
    assert t == T.TensorType("float64", (False, True))
