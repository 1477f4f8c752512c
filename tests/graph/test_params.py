"""Op parameters: Generic, EnumList/EnumType, ParamsType/Params, and perform receiving them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.graph.params import (CEnumType, EnumList, EnumType, Generic, Params, ParamsType,
                                 generic)


def test_enum_types():
    e = EnumType(ADD=1, SUB=(2, "minus"))
    assert (e.ADD, e.SUB, e.fromalias("minus"), e.has_alias("minus")) == (1, 2, 2, True)
    assert e.filter(2) == 2 and e.filter("minus") == 2
    with pytest.raises(TypeError):
        e.filter(3)
    with pytest.raises(AttributeError):
        EnumType(lower=1)
    el = EnumList("A", ("B", "bee"), "C")
    assert (el.A, el.B, el.C, el.fromalias("bee")) == (0, 1, 2, 1)
    assert EnumList("A", "B") == EnumList("A", "B") != EnumList("B", "A")
    assert "#define B ((int)1)" in el.c_defines() and CEnumType("X").c_defines() == ""


def test_generic():
    assert generic == Generic() and generic.filter(object) is object
    v = generic("g")
    assert v.type is generic


def test_params_type_fields_and_enums():
    pt = ParamsType(b=T.dscalar, a=generic, mode=EnumList("SUM", "MEAN"))
    assert pt.fields == ("a", "b", "mode") and pt.MEAN == 1
    assert pt == ParamsType(a=generic, b=T.dscalar, mode=EnumList("SUM", "MEAN"))
    assert pt.struct_name == ParamsType(a=generic, b=T.dscalar,
                                        mode=EnumList("SUM", "MEAN")).struct_name

    class Holder:
        a, b, mode = "x", 2, 1

    p = pt.get_params(Holder())
    assert isinstance(p.b, np.ndarray) and p.b.dtype == "float64" and p.mode == 1
    assert p == pt.get_params(Holder()) and hash(p) == hash(pt.get_params(Holder()))
    with pytest.raises(TypeError):
        Params(pt, a=1)
    with pytest.raises(AttributeError):
        pt.get_params(object())
    assert pickle.loads(pickle.dumps(p)) == p


class Affine(Op):
    __props__ = ("scale", "how")
    params_type = ParamsType(scale=T.dscalar, how=EnumList("ADD", "MUL"))

    def __init__(self, scale, how):
        self.scale, self.how = scale, how

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params):
        x = inputs[0]
        out[0][0] = x + params.scale if params.how == self.params_type.ADD else x * params.scale


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN", "DebugMode"])
def test_perform_receives_params(mode):
    x = T.dvector("x")
    f = opcore.function([x], [Affine(3.0, 0)(x), Affine(3.0, 1)(x)], mode=mode)
    v = np.array([1.0, 2.0])
    a, b = f(v)
    np.testing.assert_allclose(a, v + 3)
    np.testing.assert_allclose(b, v * 3)


def test_constant_folding_passes_params():
    f = opcore.function([], Affine(2.0, 1)(T.constant(np.array([1.0, 4.0]))))
    np.testing.assert_allclose(f(), [2.0, 8.0])
