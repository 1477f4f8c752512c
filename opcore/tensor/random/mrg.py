"""The ``mrg_uniform`` op: MRG31k3p uniform draws from a matrix of stream states.

Backends register faster implementations of this op (C in ``opcore-cpu-c``, a kernel in
``opcore-gpu-cuda``) that must return the same bits as :meth:`mrg_uniform.perform`, which runs
the vectorised NumPy generator of :mod:`opcore.tensor.random.mrg31k3p`.  The stream class on top
is Theano's ``MRG_RandomStreams`` (:mod:`opcore.sandbox.rng_mrg`).
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import _static_dims, as_tensor_variable
from opcore.tensor.random.mrg31k3p import uniform_draws
from opcore.tensor.random.op import shape_vector
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import DTypeLike, InputShapes, OutputShapes, ShapeLike, TensorLike


class mrg_uniform(Op):
    """``(rstate, size) -> (new_rstate, draws)``: MRG31k3p uniform draws in (0, 1).

    ``rstate`` is an ``(n_streams, 6)`` int32 matrix; draw ``i`` (C order over ``size``) comes
    from stream ``i % n_streams``.  ``perform`` runs the vectorised NumPy reference
    (:func:`opcore.sandbox.mrg31k3p.uniform_draws`); backends may register faster kernels that
    must return the same bits.  Raises ``ValueError`` for more than 2^31 - 1 draws.
    """

    __props__ = ("output_type", "inplace")

    def __init__(self, output_type: TensorType, inplace: bool = False) -> None:
        if output_type.dtype not in ("float16", "float32", "float64"):
            raise TypeError(f"mrg_uniform draws float16/32/64, not {output_type.dtype}")
        self.output_type = output_type
        self.inplace = inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def __str__(self) -> str:
        return f"mrg_uniform{{{self.output_type},{'inplace' if self.inplace else 'no_inplace'}}}"

    @classmethod
    def new(cls, rstate: TensorLike, ndim: int | None, dtype: str, size: ShapeLike
            ) -> list[Variable]:
        """Theano's constructor: returns ``(new_rstate, draws)``."""
        v_size = shape_vector(size)
        if ndim is None:
            ndim = v_size.type.shape[0]
            if ndim is None:
                raise ValueError(f"mrg_uniform: cannot tell the length of size {size}; give ndim")
        op = cls(TensorType(dtype, shape=(None,) * ndim))
        return op(rstate, v_size)

    def make_node(self, rstate: TensorLike, size: TensorLike) -> Apply:
        rstate = as_tensor_variable(rstate)
        if rstate.ndim != 2 or rstate.dtype != "int32":
            raise TypeError(f"mrg_uniform: rstate must be an int32 matrix, got {rstate.type}")
        size = shape_vector(size)
        ndim = self.output_type.ndim
        if size.type.shape[0] not in (None, ndim):
            raise ValueError(f"mrg_uniform: size has {size.type.shape[0]} entries but the "
                             f"output has {ndim} dimensions")
        static = tuple(_static_dims(size, ndim))
        out = TensorType(self.output_type.dtype, shape=static)()
        return Apply(self, [rstate, size], [rstate.type(), out])

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        rstate, size = inputs
        size = tuple(int(s) for s in size)
        if len(size) != self.output_type.ndim:
            raise ValueError(f"mrg_uniform: size {size} has {len(size)} entries, expected "
                             f"{self.output_type.ndim}")
        if any(s < 0 for s in size):
            raise ValueError(f"mrg_uniform: negative dimension in size {size}")
        n = int(np.prod(size, dtype="int64"))
        new_state, draws = uniform_draws(rstate, n, self.output_type.dtype)
        outputs[0][0] = new_state
        outputs[1][0] = draws.reshape(size)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        size = typing.cast("TensorVariable", node.inputs[1])  # the draw-size vector
        return [shapes[0], [size[i] for i in range(self.output_type.ndim)]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, False], [False, False]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [disconnected_type(), disconnected_type()]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None, None]
