"""Scalar graphs (Theano's theano.scalar): types, callable scalar ops, operators, printing."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.scalar as S
from opcore.graph.fg import FunctionGraph
from opcore.graph.rewriting.optimizers import LocalOptimizer, MergeOptimizer, TopoOptimizer


def test_types_and_filter():
    x = S.float64("x")
    assert x.type == S.Scalar("float64") and x.dtype == "float64" and x.ndim == 0
    assert S.int8.filter(3) == 3 and S.int8.filter(3).dtype == np.int8
    with pytest.raises(TypeError):
        S.int8.filter(np.arange(3))
    with pytest.raises(TypeError):
        S.int8.filter(np.float64(0.5))
    assert S.as_scalar(x) is x and S.as_scalar(2.5).type == S.float64


@pytest.mark.parametrize("name", ["add", "sub", "mul", "true_div", "pow", "maximum", "lt"])
def test_binary_ops_against_numpy(name):
    x, y = S.float64("x"), S.float64("y")
    out = getattr(S, name)(x, y)
    assert out.owner.op == getattr(S, name) and str(out.owner.op) == name
    f = opcore.function([x, y], out)
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide,
           "pow": np.power, "maximum": np.maximum, "lt": np.less}[name]
    for a, b in [(2.0, 3.0), (-1.5, 4.0)]:
        assert np.asarray(f(a, b)) == ref(a, b)


def test_operators_and_dtypes():
    i, x = S.int32("i"), S.float32("x")
    out = -(i * 2 + x) / x
    assert out.dtype == "float64" or out.dtype == "float32"
    f = opcore.function([i, x], out)
    assert np.isclose(float(f(3, np.float32(2.0))), -(3 * 2 + 2.0) / 2.0)


def test_theano_optimization_guide_example():
    """The scalar simplification of Theano's optimization guide, run as written there."""
    add, mul, true_div = S.add, S.mul, S.true_div

    class LocalSimplify(LocalOptimizer):
        def transform(self, node):
            if node.op == true_div:
                x, y = node.inputs
                if x.owner and x.owner.op == mul:
                    a, b = x.owner.inputs
                    if y == a:
                        return [b]
                    if y == b:
                        return [a]
            return False

        def tracks(self):
            return []  # Theano's guide: "that's not what you should do"; means every node

    x, y, z = S.float64("x"), S.float64("y"), S.float64("z")
    e = FunctionGraph([x, y, z], [add(z, mul(true_div(mul(y, x), y), true_div(z, x)))])
    assert str(e) == "[add(z, mul(true_div(mul(y, x), y), true_div(z, x)))]"
    TopoOptimizer(LocalSimplify()).optimize(e)
    assert str(e) == "[add(z, mul(x, true_div(z, x)))]"
    e2 = FunctionGraph([x, y, z], [true_div(mul(add(y, z), x), add(y, z))])
    res = MergeOptimizer().optimize(e2)
    assert isinstance(res, tuple) and len(res) == 7 and res[5] == 1
    assert str(e2) == "[true_div(mul(*1 -> add(y, z), x), *1)]"
    TopoOptimizer(LocalSimplify()).optimize(e2)
    assert str(e2) == "[x]"


def test_composite_names_spell_arithmetic_infix_as_theano():
    """Fused loops print as Theano's did: Composite{((i0 + i1) * i2)}, (-i0), other ops by name."""
    from opcore.scalar.basic import Composite, get_scalar_op as op

    f = "float64"
    comp = Composite(3, (f, f, f), [(op("add"), [("i", 0), ("i", 1)], f),
                                    (op("mul"), [("s", 0), ("i", 2)], f),
                                    (op("neg"), [("s", 1)], f),
                                    (op("exp"), [("i", 0)], f),
                                    (op("pow"), [("s", 3), ("c", 2.0, f)], f)], [2, 4])
    assert comp.name == "Composite{(-((i0 + i1) * i2)), (exp(i0) ** 2.0)}"
