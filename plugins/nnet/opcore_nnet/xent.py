"""Crossentropies: the fused softmax + negative log-likelihood op, the one-hot categorical
crossentropy and the graph-level helpers (``categorical_crossentropy``, ``binary_crossentropy``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet import ccode
from opcore_nnet.softmax import SoftmaxGrad, _float_input, _np_log_softmax

__all__ = ["CrossentropySoftmax1Hot", "CrossentropySoftmax1HotDx", "CrossentropyCategorical1Hot",
           "CrossentropyCategorical1HotGrad", "crossentropy_softmax_1hot",
           "crossentropy_softmax_1hot_with_bias", "crossentropy_categorical_1hot",
           "categorical_crossentropy", "binary_crossentropy", "sigmoid_binary_crossentropy"]

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _labels(op: Any, y: Any, rows: int | None = None) -> Any:
    y = as_tensor_variable(y)
    if y.ndim != 1 or y.dtype not in _INTS:
        raise TypeError(f"{op}: the labels must be an integer vector, got {y} ({y.type})")
    return y


def _check_labels(op: Any, y: np.ndarray, n: int, m: int) -> None:
    if y.shape[0] != n:
        raise ValueError(f"{op}: {n} rows but {y.shape[0]} labels")
    if y.size and (y.min() < 0 or y.max() >= m):
        bad = y[(y < 0) | (y >= m)][0]
        raise IndexError(f"{op}: label {bad} is outside [0, {m})")


class _C2d(Op):
    """C for 2-d float32/float64 with a single float dtype."""

    def c_supports(self, node: Any) -> bool:
        fl = [v.dtype for v in node.inputs + node.outputs if not v.dtype.startswith(("int", "u"))]
        return len(set(fl)) == 1 and fl[0] in ("float32", "float64")

    def c_headers(self, *args: Any) -> list[str]:
        return list(ccode.HEADERS)  # oc_alloc: the documented helpers of opcore.cbuild

    def c_code_cache_version(self) -> tuple:
        return (1,)


class CrossentropySoftmax1Hot(_C2d):
    """``(nll, sm)`` with ``sm = softmax(x)`` and ``nll[i] = -log(sm[i, y[i]])`` computed as
    ``logsumexp(x[i]) - x[i, y[i]]``: finite even where ``sm`` underflows to 0."""

    __props__ = ()

    def make_node(self, x: Any, y_idx: Any) -> Apply:
        x = _float_input(self, x)
        if x.ndim != 2:
            raise TypeError(f"{self}: x must be a matrix, got {x} ({x.type})")
        y_idx = _labels(self, y_idx)
        nll = T.TensorType(x.dtype, shape=(x.type.shape[0],))()
        return Apply(self, [x, y_idx], [nll, x.type()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        x, y = inputs
        _check_labels(self, y, x.shape[0], x.shape[1])
        ls = _np_log_softmax(x, 1)
        out[0][0] = (-ls[np.arange(x.shape[0]), y]).astype(x.dtype, copy=False)
        out[1][0] = np.exp(ls).astype(x.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [(shapes[0][0],), shapes[0]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        x, y = inputs
        g_nll, g_sm = grads
        nll, sm = outputs
        gx = None
        if not _is_disconnected(g_nll):
            gx = CrossentropySoftmax1HotDx()(g_nll, sm, y)
        if not _is_disconnected(g_sm):
            extra = SoftmaxGrad(-1)(g_sm, sm)
            gx = extra if gx is None else gx + extra
        if gx is None:
            gx = T.zeros_like(x)
        return [gx, disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True, True], [False, False]]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.xent_c(inames[0], inames[1], onames[0], onames[1], node.inputs[0].dtype,
                            sub["fail"])

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


def _is_disconnected(g: Any) -> bool:
    from opcore.graph.null import DisconnectedType

    return g is None or isinstance(getattr(g, "type", None), DisconnectedType)


class CrossentropySoftmax1HotDx(_C2d):
    """Gradient of the fused op w.r.t. ``x``: ``dnll[:, None] * (sm - onehot(y))``."""

    __props__ = ()

    def make_node(self, dnll: Any, sm: Any, y_idx: Any) -> Apply:
        dnll, sm = as_tensor_variable(dnll), as_tensor_variable(sm)
        if dnll.ndim != 1 or sm.ndim != 2:
            raise TypeError(f"{self}: expected a vector dnll and a matrix sm, got {dnll.type}, "
                            f"{sm.type}")
        dt = np.result_type(dnll.dtype, sm.dtype).name
        return Apply(self, [dnll, sm, _labels(self, y_idx)],
                     [T.TensorType(dt, shape=sm.type.shape)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        g, sm, y = inputs
        _check_labels(self, y, sm.shape[0], sm.shape[1])
        dx = sm * g[:, None]
        dx[np.arange(sm.shape[0]), y] -= g
        out[0][0] = dx.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[1]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        g, sm, y = inputs
        (gz,) = grads
        onehot = T.eq(T.arange(sm.shape[1]).dimshuffle("x", 0), y.dimshuffle(0, "x"))
        g_g = T.sum(gz * (sm - onehot), axis=1)
        g_sm = gz * g.dimshuffle(0, "x")
        return [g_g, g_sm, disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]

    def c_code(self, node: Any, name: str, inames: list, onames: list, sub: dict) -> str:
        return ccode.xent_dx_c(inames[0], inames[1], inames[2], onames[0],
                               node.outputs[0].dtype, sub["fail"])

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class CrossentropyCategorical1Hot(Op):
    """``-log(coding_dist[i, y[i]])`` for probabilities ``coding_dist`` and integer labels."""

    __props__ = ()

    def make_node(self, coding_dist: Any, true_one_of_n: Any) -> Apply:
        p = _float_input(self, coding_dist)
        if p.ndim != 2:
            raise TypeError(f"{self}: coding_dist must be a matrix, got {p} ({p.type})")
        y = _labels(self, true_one_of_n)
        return Apply(self, [p, y], [T.TensorType(p.dtype, shape=(p.type.shape[0],))()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        p, y = inputs
        _check_labels(self, y, p.shape[0], p.shape[1])
        with np.errstate(divide="ignore"):
            out[0][0] = (-np.log(p[np.arange(p.shape[0]), y])).astype(p.dtype, copy=False)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [(shapes[0][0],)]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        p, y = inputs
        return [CrossentropyCategorical1HotGrad()(grads[0], p, y), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [False]]

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class CrossentropyCategorical1HotGrad(Op):
    """``d/dp`` of the one-hot crossentropy: ``-g[i] / p[i, y[i]]`` at the label, else 0."""

    __props__ = ()

    def make_node(self, g: Any, p: Any, y: Any) -> Apply:
        g, p = as_tensor_variable(g), as_tensor_variable(p)
        dt = np.result_type(g.dtype, p.dtype).name
        return Apply(self, [g, p, _labels(self, y)], [T.TensorType(dt, shape=p.type.shape)()])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        g, p, y = inputs
        _check_labels(self, y, p.shape[0], p.shape[1])
        dp = np.zeros_like(p, dtype=node.outputs[0].type.dtype)
        rows = np.arange(p.shape[0])
        with np.errstate(divide="ignore"):
            dp[rows, y] = -g / p[rows, y]
        out[0][0] = dp

    def infer_shape(self, node: Apply, shapes: list) -> list:
        return [shapes[1]]

    def L_op(self, inputs: list, outputs: list, grads: list) -> list:
        g, p, y = inputs
        (gz,) = grads
        rows = T.arange(p.shape[0])
        py = p[rows, y]
        gzy = gz[rows, y]
        g_g = -gzy / py
        g_p = T.zeros_like(p)
        g_p = T.set_subtensor(g_p[rows, y], gzy * g / (py * py))
        return [g_g, g_p, disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True], [True], [False]]

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


crossentropy_softmax_1hot_op = CrossentropySoftmax1Hot()
crossentropy_categorical_1hot = CrossentropyCategorical1Hot()


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> tuple:
    """``(nll, softmax(x))`` with ``nll[i] = -log(softmax(x)[i, y_idx[i]])``, computed stably."""
    return tuple(crossentropy_softmax_1hot_op(x, y_idx))


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple:
    """``crossentropy_softmax_1hot(x + b, y_idx)``."""
    return crossentropy_softmax_1hot(as_tensor_variable(x) + b, y_idx)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Any:
    """Theano's ``categorical_crossentropy``: ``true_dist`` is either one-hot/probabilities of
    the same shape (``-sum(t * log(p), axis=-1)``) or a vector of integer labels."""
    p = as_tensor_variable(coding_dist)
    t = as_tensor_variable(true_dist)
    if t.ndim == p.ndim:
        return -T.sum(t * T.log(p), axis=p.ndim - 1)
    if t.ndim == p.ndim - 1:
        return crossentropy_categorical_1hot(p, t)
    raise TypeError(f"categorical_crossentropy: true_dist ({t.type}) must have the rank of "
                    f"coding_dist ({p.type}) or one less")


def binary_crossentropy(output: Any, target: Any) -> Any:
    """``-(target * log(output) + (1 - target) * log(1 - output))`` elementwise."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * T.log(output) + (1.0 - target) * T.log(1.0 - output))


def sigmoid_binary_crossentropy(logits: Any, target: Any) -> Any:
    """``binary_crossentropy(sigmoid(logits), target)`` written stably with softplus."""
    x, t = as_tensor_variable(logits), as_tensor_variable(target)
    return (1.0 - t) * x + T.softplus(-x)


