"""Smaller ``theano.tensor.nnet`` names: the explicit softmax graph, row prepending, the
crossentropy variants that also return the argmax, the confusion matrix and the two-level
hierarchical softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet.softmax import log_softmax_op, softmax
from opcore_nnet.xent import (CrossentropyCategorical1HotGrad, CrossentropySoftmax1HotDx,
                              crossentropy_softmax_1hot_with_bias)

__all__ = ["CrossentropySoftmax1HotWithBiasDx", "softmax_graph", "logsoftmax_op",
           "prepend_scalar_to_each_row", "prepend_0_to_each_row", "prepend_1_to_each_row",
           "crossentropy_softmax_argmax_1hot_with_bias",
           "crossentropy_softmax_max_and_argmax_1hot_with_bias",
           "crossentropy_softmax_max_and_argmax_1hot", "crossentropy_softmax_1hot_with_bias_dx",
           "crossentropy_categorical_1hot_grad", "ConfusionMatrix", "confusion_matrix",
           "h_softmax"]

logsoftmax_op = log_softmax_op
#: Theano's name for the fused crossentropy gradient op (inputs ``(dy, sm, y_idx)``)
CrossentropySoftmax1HotWithBiasDx = CrossentropySoftmax1HotDx
crossentropy_softmax_1hot_with_bias_dx = CrossentropySoftmax1HotDx()
crossentropy_categorical_1hot_grad = CrossentropyCategorical1HotGrad()


def softmax_graph(c: Any) -> Any:
    """``exp(c) / exp(c).sum(axis=-1, keepdims=True)`` as plain elementwise ops (Theano's
    unstabilised form; the ``softmax`` op subtracts the maximum first)."""
    e = T.exp(as_tensor_variable(c))
    return e / e.sum(axis=-1, keepdims=True)


def prepend_scalar_to_each_row(val: Any, x: Any) -> Any:
    """A matrix ``x`` (n, m) with a first column of ``val``: (n, m + 1)."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"prepend_scalar_to_each_row: x must be a matrix, got {x.type}")
    col = T.alloc(T.cast(as_tensor_variable(val), x.dtype), x.shape[0], 1)
    return T.concatenate([col, x], axis=1)


def prepend_0_to_each_row(x: Any) -> Any:
    """:func:`prepend_scalar_to_each_row` with 0."""
    return prepend_scalar_to_each_row(0, x)


def prepend_1_to_each_row(x: Any) -> Any:
    """:func:`prepend_scalar_to_each_row` with 1."""
    return prepend_scalar_to_each_row(1, x)


def crossentropy_softmax_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple:
    """``(nll, softmax(x + b), argmax(x + b, axis=1))`` (see ``crossentropy_softmax_1hot``)."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, T.argmax(sm, axis=1)


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple:
    """``(nll, sm, max(sm, axis=1), argmax(sm, axis=1))`` with ``sm = softmax(x + b)``."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, T.max(sm, axis=1), T.argmax(sm, axis=1)


def crossentropy_softmax_max_and_argmax_1hot(x: Any, y_idx: Any) -> tuple:
    """:func:`crossentropy_softmax_max_and_argmax_1hot_with_bias` with a zero bias."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(
        x, T.zeros_like(x[0]), y_idx)


class ConfusionMatrix(Op):
    """``(actual, pred)`` integer vectors -> ``(conf_mat, order)``: ``order`` the sorted distinct
    labels of both, ``conf_mat[i, j]`` the count of samples with actual ``order[i]`` and
    predicted ``order[j]`` (int64)."""

    __props__ = ()

    def make_node(self, actual: Any, pred: Any) -> Apply:
        actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
        if actual.ndim != 1 or pred.ndim != 1:
            raise ValueError(f"confusion_matrix: actual and pred must be vectors, got "
                             f"{actual.type} and {pred.type}")
        dt = np.result_type(actual.dtype, pred.dtype).name
        return Apply(self, [actual, pred], [T.lmatrix(), T.vector(dtype=dt)])

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        actual, pred = inputs
        if actual.shape != pred.shape:
            raise ValueError(f"confusion_matrix: actual has {actual.shape[0]} entries and pred "
                             f"{pred.shape[0]}")
        order, inverse = np.unique(np.concatenate([actual, pred]), return_inverse=True)
        n = len(order)
        conf = np.zeros((n, n), dtype=np.int64)
        np.add.at(conf, (inverse[:len(actual)], inverse[len(actual):]), 1)
        out[0][0] = conf
        out[1][0] = order.astype(node.outputs[1].type.dtype)


def confusion_matrix(actual: Any, pred: Any) -> list:
    """Theano's ``confusion_matrix(actual, pred)`` -> ``[conf_mat, order]`` (see
    :class:`ConfusionMatrix`)."""
    return list(ConfusionMatrix()(actual, pred))


def h_softmax(x: Any, batch_size: Any, n_outputs: int, n_classes: int,
              n_outputs_per_class: int, W1: Any, b1: Any, W2: Any, b2: Any,
              target: Any = None) -> Any:
    """Two-level hierarchical softmax (Theano's ``h_softmax``).

    ``x`` (batch, n_hidden); level 1: ``softmax(x W1 + b1)`` over ``n_classes`` (``W1``
    (n_hidden, n_classes)); level 2, per class: ``softmax(x W2[k] + b2[k])`` over
    ``n_outputs_per_class`` (``W2`` (n_classes, n_hidden, n_outputs_per_class), ``b2``
    (n_classes, n_outputs_per_class)).  Output ``k * n_outputs_per_class + j`` has probability
    ``p1[k] * p2[k, j]``.  Without ``target``: all ``n_outputs`` probabilities (batch,
    n_outputs); with a ``target`` vector of output indices: the probability of each target
    (batch,), computing only the target's class at level 2.
    """
    x = as_tensor_variable(x)
    class_probs = softmax(T.dot(x, W1) + b1)
    if target is None:
        act = T.tensordot(x, W2, axes=[[1], [1]]) + b2       # (batch, n_classes, per_class)
        probs = softmax(act.reshape((-1, n_outputs_per_class)))
        probs = probs.reshape((batch_size, n_classes, n_outputs_per_class))
        probs = class_probs.dimshuffle(0, 1, "x") * probs
        return probs.reshape((batch_size, n_classes * n_outputs_per_class))[:, :n_outputs]
    target = as_tensor_variable(target).flatten()
    cls = target // n_outputs_per_class
    within = target % n_outputs_per_class
    W2, b2 = as_tensor_variable(W2), as_tensor_variable(b2)
    act = (x.dimshuffle(0, 1, "x") * W2[cls]).sum(axis=1) + b2[cls]  # (batch, per_class)
    rows = T.arange(batch_size)
    return class_probs[rows, cls] * softmax(act)[rows, within]
