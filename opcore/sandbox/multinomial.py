"""Multinomial and choice samples from uniform draws (Theano's ``theano.sandbox.multinomial``).

``MultinomialFromUniform(odtype)(pvals, unis, n)``: for each row ``r`` of ``pvals`` (shape
``(R, K)``) and each of the ``n`` trials ``c``, the uniform ``unis[c * R + r]`` picks the first
category whose cumulative probability (accumulated in float64) exceeds it; the output counts the
picks, shape ``(R, K)``.  ``ChoiceFromUniform(odtype, replace)(pvals, unis, n)`` returns the
picked indices, shape ``(R, n)``; without replacement a picked category's probability is set to
zero and the row renormalised before the next pick.  Both need ``unis.shape[0] == R * n``
(``ValueError`` otherwise); neither checks that ``pvals`` rows sum to 1 (as in Theano).
"""

from __future__ import annotations

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable, cast
from opcore.tensor.type import TensorType


class MultinomialFromUniform(Op):
    """Counts of ``n`` multinomial trials per row of ``pvals``, from uniform draws."""

    __props__ = ("odtype",)

    def __init__(self, odtype: str = "auto") -> None:
        self.odtype = odtype

    def _inputs(self, pvals, unis, n):
        pvals = as_tensor_variable(pvals)
        unis = as_tensor_variable(unis)
        n = as_tensor_variable(n)
        if pvals.ndim != 2:
            raise NotImplementedError(f"{type(self).__name__}: pvals must be a matrix, got "
                                      f"{pvals.type}")
        if unis.ndim != 1:
            raise NotImplementedError(f"{type(self).__name__}: unis must be a vector, got "
                                      f"{unis.type}")
        if n.ndim != 0 or not n.dtype.startswith(("int", "uint")):
            raise TypeError(f"{type(self).__name__}: n must be an integer scalar, got {n.type}")
        return pvals, unis, cast(n, "int64") if n.dtype != "int64" else n

    def _odtype(self, pvals) -> str:
        return pvals.dtype if self.odtype == "auto" else self.odtype

    def make_node(self, pvals, unis, n=1):
        pvals, unis, n = self._inputs(pvals, unis, n)
        return Apply(self, [pvals, unis, n],
                     [TensorType(self._odtype(pvals), shape=pvals.type.shape)()])

    @staticmethod
    def _check(pvals, unis, n):
        if unis.shape[0] != pvals.shape[0] * n:
            raise ValueError(f"unis.shape[0] ({unis.shape[0]}) != pvals.shape[0] "
                             f"({pvals.shape[0]}) * n_samples ({n})")

    def perform(self, node, inputs, outputs):
        pvals, unis, n = inputs
        n = int(n)
        self._check(pvals, unis, n)
        nrow, k = pvals.shape
        cdf = np.cumsum(pvals, axis=1, dtype="float64")
        z = np.zeros(pvals.shape, dtype=node.outputs[0].dtype)
        if nrow and k:
            u = unis.reshape(n, nrow).astype("float64")
            # first category with cdf > u; draws past the total stay in the last category
            picks = np.minimum((cdf[None, :, :] <= u[:, :, None]).sum(axis=2), k - 1)
            rows = np.broadcast_to(np.arange(nrow), picks.shape)
            np.add.at(z, (rows.ravel(), picks.ravel()), 1)
        outputs[0][0] = z

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def L_op(self, inputs, outputs, gz):
        return [disconnected_type() for _ in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]


class ChoiceFromUniform(MultinomialFromUniform):
    """Indices of ``n`` picks per row of ``pvals`` (without replacement unless ``replace``)."""

    __props__ = ("odtype", "replace")

    def __init__(self, odtype: str = "auto", replace: bool = False) -> None:
        super().__init__(odtype)
        self.replace = bool(replace)

    def _odtype(self, pvals) -> str:
        return "int64" if self.odtype == "auto" else self.odtype

    def make_node(self, pvals, unis, n=1):
        pvals, unis, n = self._inputs(pvals, unis, n)
        return Apply(self, [pvals, unis, n],
                     [TensorType(self._odtype(pvals), shape=(pvals.type.shape[0], None))()])

    def perform(self, node, inputs, outputs):
        pvals, unis, n = inputs
        n = int(n)
        if n > pvals.shape[1] and not self.replace:
            raise ValueError(f"cannot take {n} samples without replacement from "
                             f"{pvals.shape[1]} categories")
        self._check(pvals, unis, n)
        nrow, k = pvals.shape
        p = np.array(pvals, dtype=pvals.dtype)
        z = np.full((nrow, n), -1, dtype=node.outputs[0].dtype)
        for c in range(n):
            cdf = np.cumsum(p, axis=1, dtype="float64")
            u = unis[c * nrow:(c + 1) * nrow].astype("float64")
            picks = np.minimum((cdf <= u[:, None]).sum(axis=1), k - 1)
            z[:, c] = picks
            if not self.replace and c + 1 < n:
                p[np.arange(nrow), picks] = 0
                p /= p.sum(axis=1, keepdims=True)
        outputs[0][0] = z

    def infer_shape(self, node, shapes):
        return [(shapes[0][0], node.inputs[2])]
