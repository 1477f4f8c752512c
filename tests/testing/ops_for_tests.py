"""Small ops, good and deliberately broken, for the opcore.testing tests (module level: they
must pickle)."""

from __future__ import annotations

import numpy as np

import opcore
import opcore.tensor as T
from opcore import Apply, Op


class AXPB(Op):
    """a * x + b, with shapes and gradients: keeps the whole contract."""

    __props__ = ("a", "b")

    def __init__(self, a: float, b: float) -> None:
        self.a = a
        self.b = b

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = np.asarray(self.a * x + self.b, dtype=x.dtype)

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def grad(self, inputs, output_grads):
        return [output_grads[0] * self.a]


class WrongShape(AXPB):
    """Claims its output has the input's shape with the last dimension doubled."""

    def infer_shape(self, node, shapes):
        return [tuple(shapes[0][:-1]) + (shapes[0][-1] * 2,)]


class WrongGrad(AXPB):
    """Forgets the factor a in its gradient."""

    def grad(self, inputs, output_grads):
        return [output_grads[0]]


class WrongDtype(AXPB):
    """Returns float32 for a float64 output."""

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = (self.a * inputs[0] + self.b).astype("float32")


class NoProps(Op):
    """Forgets __props__ although it has a parameter: copies are not equal."""

    def __init__(self, k: int = 2) -> None:
        self.k = k

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.k


class FakeLinkerOp(AXPB):
    """Only used to give a test backend an op type it lacks."""


@opcore.as_op(itypes=[T.dvector], otypes=[T.dvector])
def reverse(x):
    return x[::-1]
