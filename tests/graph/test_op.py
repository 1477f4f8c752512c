"""The Op contract: __props__, make_node/perform/infer_shape/grad, itypes/otypes, as_op."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad


class AXPBOp(opcore.Op):
    """a * x + b, the Op-writing guide's example."""

    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b
        super().__init__()

    def make_node(self, x):
        x = opcore.tensor.as_tensor_variable(x)
        return opcore.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = self.a * x + self.b

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [self.a * output_grads[0]]


class AXPBTyped(opcore.Op):
    """The same op declared with itypes/otypes instead of make_node."""

    __props__ = ("a", "b")
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.a * inputs[0] + self.b

    def infer_shape(self, fgraph, node, input_shapes):  # the PyTensor signature
        return input_shapes

    def grad(self, inputs, output_grads):
        return [self.a * output_grads[0]]


def test_axpb_runs_as_in_the_guide():
    mult4plus5op = AXPBOp(4, 5)
    x = T.matrix()
    y = mult4plus5op(x)
    f = opcore.function([x], y)
    xv = np.random.default_rng(0).random((3, 2))
    np.testing.assert_allclose(f(xv), 4 * xv + 5)


def test_props_eq_hash_str():
    a, b = AXPBOp(4, 5), AXPBOp(4, 5)
    assert a == b and hash(a) == hash(b)
    assert a != AXPBOp(4, 6)
    assert a != AXPBTyped(4, 5)
    assert str(AXPBOp(3, 7)) == "AXPBOp{a=3, b=7}"
    assert "AXPBOp{a=4, b=5}" in opcore.printing.pprint(a(T.matrix()))


def test_ops_without_props_compare_by_identity():
    class NoProps(opcore.Op):
        def make_node(self, x):
            return opcore.Apply(self, [x], [x.type()])

    p, q = NoProps(), NoProps()
    assert p == p and p != q
    assert str(p) == "NoProps"


@pytest.mark.parametrize("op", [AXPBOp(2.5, -1.0), AXPBTyped(2.5, -1.0)], ids=str)
def test_axpb_grad_and_shape(op):
    verify_grad(op, [np.random.default_rng(1).random((3, 2))])
    x = T.dmatrix("x")
    y = op(x)
    node = y.owner
    shapes = [(T.shape_i(x, 0), T.shape_i(x, 1))]
    if isinstance(op, AXPBTyped):
        inferred = op.infer_shape(None, node, shapes)
    else:
        inferred = op.infer_shape(node, shapes)
    got = opcore.function([x], list(inferred[0]))(np.zeros((4, 7)))
    assert [int(g) for g in got] == [4, 7]


def test_itypes_otypes_check_inputs():
    op = AXPBTyped(1, 2)
    with pytest.raises(TypeError, match="input 0"):
        op(T.fmatrix())
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        op(T.dmatrix(), T.dmatrix())
    y = op(np.ones((2, 2)))  # values become constants
    np.testing.assert_array_equal(opcore.function([], y)(), np.full((2, 2), 3.0))


def test_make_node_wrong_ndim_is_named():
    op = AXPBTyped(1, 2)
    with pytest.raises(TypeError) as info:
        op(T.dvector("v"))
    msg = str(info.value)
    assert "AXPBTyped{a=1, b=2}" in msg and "v" in msg and "TensorType(float64, matrix)" in msg


@opcore.as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
def flip_rows(x):
    return x[::-1]


def _flip_shape(node, shapes):
    return shapes


@opcore.as_op(itypes=[T.dvector, T.dvector], otypes=[T.dvector, T.dscalar],
              infer_shape=_flip_shape)
def add_and_dot(a, b):
    return a + b, np.dot(a, b)


def test_as_op():
    x = T.dmatrix("x")
    xv = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(opcore.function([x], flip_rows(x))(xv), xv[::-1])
    a, b = T.dvectors("a, b")
    s, d = add_and_dot(a, b)
    got = opcore.function([a, b], [s, d])(np.ones(2), np.arange(2.0))
    np.testing.assert_array_equal(got[0], [1.0, 2.0])
    assert float(got[1]) == 1.0
    assert flip_rows == pickle.loads(pickle.dumps(flip_rows))
    with pytest.raises(TypeError):
        flip_rows(T.dvector())
    # no gradient: asking for one is an error naming the op
    with pytest.raises(TypeError, match="flip_rows"):
        T.grad(flip_rows(x).sum(), x)


def test_perform_missing_is_reported():
    class NoPerform(opcore.Op):
        __props__ = ()

        def make_node(self, x):
            return opcore.Apply(self, [x], [x.type()])

    x = T.dvector("x")
    f = opcore.function([x], NoPerform()(x))
    with pytest.raises(NotImplementedError, match="NoPerform"):
        f(np.ones(2))


def test_op_pickles_and_graph_pickles():
    x = T.dmatrix("x")
    y = AXPBOp(2, 3)(x) + 1
    x2, y2 = pickle.loads(pickle.dumps((x, y)))
    assert y2.owner.inputs[0].owner.op == AXPBOp(2, 3)
    f = opcore.function([x2], y2)
    np.testing.assert_array_equal(f(np.ones((1, 1))), [[6.0]])


def test_output_shape_does_not_need_perform():
    # the shape rewrite computes y.shape from infer_shape: perform never runs
    calls = []

    class Counting(AXPBOp):
        def perform(self, node, inputs, output_storage):
            calls.append(1)
            super().perform(node, inputs, output_storage)

    x = T.dmatrix("x")
    y = Counting(1, 0)(x)
    f = opcore.function([x], y.shape)
    np.testing.assert_array_equal(f(np.zeros((2, 5))), [2, 5])
    assert not calls, "perform ran although infer_shape gives the shape"
    # without rewrites the value is still right (perform runs)
    g = opcore.function([x], y.shape, mode=opcore.Mode(linker="py", optimizer=None))
    np.testing.assert_array_equal(g(np.zeros((3, 1))), [3, 1])


class DoubleOp(opcore.Op):
    """The Op guide's DoubleOp, verbatim but for imports."""

    __props__ = ()

    def make_node(self, x):
        x = opcore.tensor.as_tensor_variable(x)
        return opcore.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return eval_points
        return self.grad(inputs, eval_points)


class _Stateful(opcore.Op):
    """No __props__ declared: identity equality, whatever its attributes."""

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        x = opcore.tensor.as_tensor_variable(x)
        return opcore.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.k


def test_empty_props_make_all_instances_equal():
    from opcore.testing import check_op_contract

    assert DoubleOp() == DoubleOp() and hash(DoubleOp()) == hash(DoubleOp())
    assert _Stateful(2) != _Stateful(2) and _Stateful(2) != DoubleOp()
    x = T.dmatrix("x")
    f = opcore.function([x], [DoubleOp()(x), DoubleOp()(x)])
    # the two applies merge into one node
    assert len([n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, DoubleOp)]) == 1
    xv = np.arange(6.0).reshape(2, 3)
    for got in f(xv):
        np.testing.assert_array_equal(got, 2 * xv)
    check_op_contract(DoubleOp(), [xv])
    g = opcore.function([x], [_Stateful(2)(x), _Stateful(3)(x)])
    np.testing.assert_array_equal(g(xv)[1], 3 * xv)


def test_shape_unknown_is_an_exception_class_that_can_be_caught():
    from opcore.graph.op import ShapeUnknown

    assert isinstance(ShapeUnknown, type) and issubclass(ShapeUnknown, Exception)
    try:
        raise ShapeUnknown("op")
    except (ValueError, ShapeUnknown) as exc:  # as the shape feature catches it
        assert isinstance(exc, ShapeUnknown)
