"""Identity ops that only change gradients: ``zero_grad``, ``disconnected_grad``,
``consider_constant``, ``grad_clip``, ``grad_scale`` (Theano's ``theano.gradient`` helpers,
re-exported by :mod:`opcore.gradient`).

Each returns its input unchanged in the forward pass; the rewrite ``remove_gradient_ops``
(``opcore.tensor.rewriting.useless``) drops them when a function is compiled, so they cost
nothing at run time.
"""

from __future__ import annotations

import typing
from typing import Any

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable, zeros_like
from opcore.tensor.math import clip
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes


class GradientViewOp(Op):
    """Base: the identity in the forward pass, a different rule in the backward pass."""

    __props__: tuple[str, ...] = ()
    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        out[0][0] = inputs[0]

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return eval_points


class ZeroGrad(GradientViewOp):
    """Gradient zero (still connected): ``zero_grad``."""

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [zeros_like(inputs[0], dtype=gz[0].dtype)]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if e is None else zeros_like(e) for e in eval_points]


class ConsiderConstant(ZeroGrad):
    """Theano's older spelling of :class:`ZeroGrad` (``consider_constant``)."""


class DisconnectedGrad(GradientViewOp):
    """Gradient disconnected: ``grad`` treats the input as not reaching the cost."""

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if e is None else zeros_like(e) for e in eval_points]


class GradClip(GradientViewOp):
    """Gradient clipped elementwise to ``[clip_lower_bound, clip_upper_bound]``."""

    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound: float, clip_upper_bound: float) -> None:
        if not clip_upper_bound >= clip_lower_bound:
            raise ValueError(f"grad_clip: the upper bound {clip_upper_bound} is below the "
                             f"lower bound {clip_lower_bound}")
        self.clip_lower_bound = clip_lower_bound
        self.clip_upper_bound = clip_upper_bound

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [clip(gz[0], self.clip_lower_bound, self.clip_upper_bound)]


class GradScale(GradientViewOp):
    """Gradient multiplied by ``multiplier`` (a number or a symbolic scalar input)."""

    def make_node(self, x: Any, multiplier: Any = None) -> Apply:
        x = as_tensor_variable(x)
        m = as_tensor_variable(multiplier)  # type: ignore[arg-type]  # None raises TypeError
        if m.ndim != 0:
            raise TypeError(f"grad_scale: the multiplier {m} must be a scalar")
        return Apply(self, [x, m], [x.type()])

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [typing.cast("TensorVariable", gz[0]) * inputs[1], disconnected_type()]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [eval_points[0]]


def zero_grad(x: Any) -> TensorVariable:
    """``x``, with a zero gradient (the path through it contributes nothing).

    >>> import opcore, opcore.tensor as T
    >>> x = T.dscalar('x')
    >>> float(opcore.function([x], opcore.grad(x * zero_grad(x), x))(3.0))
    3.0
    """
    return ZeroGrad()(x)


def consider_constant(x: Any) -> TensorVariable:
    """``x``, treated as a constant by ``grad`` (same as :func:`zero_grad`)."""
    return ConsiderConstant()(x)


def disconnected_grad(x: Any) -> TensorVariable:
    """``x``, with its gradient disconnected: ``grad`` sees no path from the cost to what
    lies below it (``disconnected_inputs`` applies)."""
    return DisconnectedGrad()(x)


def grad_clip(x: Any, lower_bound: float, upper_bound: float) -> TensorVariable:
    """``x``, whose gradient is clipped to ``[lower_bound, upper_bound]`` on the way back.
    Raises ``ValueError`` if ``upper_bound < lower_bound``."""
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x: Any, multiplier: Any) -> TensorVariable:
    """``x``, whose gradient is multiplied by ``multiplier`` on the way back."""
    return GradScale()(x, multiplier)


__all__ = ["ConsiderConstant", "DisconnectedGrad", "GradClip", "GradScale", "GradientViewOp",
           "ZeroGrad", "consider_constant", "disconnected_grad", "grad_clip", "grad_scale",
           "zero_grad"]
