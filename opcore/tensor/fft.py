"""Real FFTs in Theano's layout: ``rfft`` and ``irfft`` (``theano.tensor.fft``).

The complex spectrum is stored as a real tensor with a trailing axis of length 2 (real part,
imaginary part), so the gradients stay in real arithmetic.  The first axis is the batch: an
input of shape ``(m, ..., n)`` gives ``(m, ..., n // 2 + 1, 2)``.  Normalisation ``norm``:
``None`` (NumPy's: the inverse divides by the number of points), ``'ortho'`` (both by its square
root) or ``'no_norm'`` (neither).  Computed with ``numpy.fft.rfftn`` / ``irfftn``.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.math import prod, sqrt
from opcore.tensor.subtensor import set_subtensor
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _float(dtype: str) -> str:
    return dtype if dtype in ("float32", "float64") else "float64"


def _sizes(op: Any, s: Any) -> Any:
    s = as_tensor_variable(s)
    if s.ndim != 1 or s.dtype not in _INTS:
        raise TypeError(f"{op}: the transform sizes {s} must be an integer vector")
    return s


def _halved(g: Any, s: Any, factor: float) -> Any:
    """``g`` with its bins ``1 .. ceil(n/2)-1`` of the last transformed axis scaled: the
    Hermitian symmetry counts them twice in the full spectrum."""
    idx = (slice(None),) * (g.ndim - 2) + (slice(1, s[-1] // 2 + s[-1] % 2), slice(None))
    return set_subtensor(g[idx], g[idx] * factor)


class RFFTOp(Op):
    """Unnormalised real FFT over every axis but the first: ``(m, ..., n) -> (m, ..., n//2+1,
    2)``; the optional ``s`` gives the transform sizes (default: the input's)."""

    __props__ = ()

    def make_node(self, a: Any, s: Any = None) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim < 2:
            raise TypeError(f"{self}: {a} must have at least 2 dimensions (the first is the "
                            f"batch), got {a.ndim}")
        if a.dtype.startswith("complex"):
            raise TypeError(f"{self}: {a} must be real, got {a.dtype}")
        s = _sizes(self, a.shape[1:] if s is None else s)
        return Apply(self, [a, s], [TensorType(_float(a.dtype), shape=(None,) * (a.ndim + 1))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, s = inputs
        spec = np.fft.rfftn(a, s=tuple(int(v) for v in s), axes=tuple(range(1, a.ndim)))
        res = np.empty(spec.shape + (2,), dtype=node.outputs[0].dtype)
        res[..., 0], res[..., 1] = spec.real, spec.imag
        out[0][0] = res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        a = node.inputs[0]
        s = typing.cast("TensorVariable", node.inputs[1])  # the signal-length vector
        dims = [shapes[0][0]] + [s[i] for i in range(a.ndim - 2)]
        return [(*dims, s[-1] // 2 + 1, 2)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        s = inputs[1]
        return [irfft_op(_halved(gz[0], s, 0.5), s), disconnected_type()]


rfft_op = RFFTOp()


class IRFFTOp(Op):
    """Unnormalised inverse real FFT (``irfftn`` times the number of points) of a spectrum in
    the ``(..., 2)`` layout; ``s`` gives the output sizes (default: even last length)."""

    __props__ = ()

    def make_node(self, a: Any, s: Any = None) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim < 3:
            raise TypeError(f"{self}: {a} must have at least 3 dimensions (batch, ..., "
                            f"real/imaginary), got {a.ndim}")
        if s is None:
            s = a.shape[1:-1]
            s = set_subtensor(s[-1], (s[-1] - 1) * 2)
        s = _sizes(self, s)
        return Apply(self, [a, s], [TensorType(_float(a.dtype), shape=(None,) * (a.ndim - 1))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        a, s = inputs
        if a.shape[-1] != 2:
            raise ValueError(f"{self}: the last axis must hold (real, imaginary), got length "
                             f"{a.shape[-1]}")
        sizes = tuple(int(v) for v in s)
        res = np.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=sizes, axes=tuple(range(1, a.ndim - 1)))
        out[0][0] = (res * np.prod(sizes)).astype(node.outputs[0].dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        a = node.inputs[0]
        s = typing.cast("TensorVariable", node.inputs[1])  # the signal-length vector
        return [(shapes[0][0],) + tuple(s[i] for i in range(a.ndim - 2))]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        s = inputs[1]
        return [_halved(rfft_op(gz[0], s), s, 2.0), disconnected_type()]


irfft_op = IRFFTOp()


def _check_norm(norm: Any) -> None:
    if norm not in (None, "ortho", "no_norm"):
        raise ValueError(f"fft: norm must be None, 'ortho' or 'no_norm', got {norm!r}")


def rfft(inp: Any, norm: str | None = None) -> TensorVariable:
    """Real FFT of each batch entry of ``inp`` ``(m, ..., n)``: ``(m, ..., n//2+1, 2)``.

    >>> import opcore.tensor as T, numpy as np
    >>> from opcore.tensor import fft
    >>> fft.rfft(T.as_tensor_variable(np.array([[1., 0., 0., 0.]]))).eval()[0].tolist()
    [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    """
    _check_norm(norm)
    inp = as_tensor_variable(inp)
    s = inp.shape[1:]
    out = rfft_op(inp, s)
    if norm == "ortho":
        out = out / sqrt(prod(s).astype(out.dtype))
    return out


def irfft(inp: Any, norm: str | None = None, is_odd: bool = False) -> TensorVariable:
    """Inverse of :func:`rfft`: ``(m, ..., n//2+1, 2)`` -> ``(m, ..., n)``; ``is_odd`` says
    whether ``n`` is odd (the spectrum alone cannot tell)."""
    _check_norm(norm)
    if is_odd not in (True, False):
        raise ValueError(f"irfft: is_odd must be True or False, got {is_odd!r}")
    inp = as_tensor_variable(inp)
    s = inp.shape[1:-1]
    s = set_subtensor(s[-1], (s[-1] - 1) * 2 + int(is_odd))
    out = irfft_op(inp, s)
    if norm is None:
        out = out / prod(s).astype(out.dtype)
    elif norm == "ortho":
        out = out / sqrt(prod(s).astype(out.dtype))
    return out


__all__ = ["IRFFTOp", "RFFTOp", "irfft", "irfft_op", "rfft", "rfft_op"]
