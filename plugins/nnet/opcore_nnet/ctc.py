"""Connectionist Temporal Classification loss (Theano's ``theano.tensor.nnet.ctc``).

Theano bound Baidu's warp-ctc library; opcore computes the same loss in NumPy with the
forward-backward recursions of Graves et al. (2006), "Connectionist Temporal Classification",
in log space.  Conventions are warp-ctc's: the blank symbol is index 0, ``activations`` are
unnormalised (a softmax over the alphabet is applied inside), negative labels are padding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type, grad_not_implemented
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable

__all__ = ["ConnectionistTemporalClassification", "ctc", "ctc_available", "ctc_present"]


def ctc_present() -> bool:
    """Theano's check for the warp-ctc library; opcore's CTC needs none, so always True."""
    return True


def ctc_available() -> bool:
    """Whether :func:`ctc` can run: always True (the loss is computed in NumPy)."""
    return True


def _logsumexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = np.maximum(a, b)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), m_safe + np.log(np.exp(a - m_safe) + np.exp(b - m_safe)),
                        m)


def _ctc_one(logp: np.ndarray, label: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss and its gradient w.r.t. the unnormalised activations for one sequence:
    ``logp`` (time, alphabet) log-probabilities, ``label`` without padding."""
    n_t, n_a = logp.shape
    ext = np.zeros(2 * len(label) + 1, dtype=np.int64)
    ext[1::2] = label
    s_len = len(ext)
    # a skip from s-2 to s is allowed onto a label that differs from the label two back
    skip = np.zeros(s_len, dtype=bool)
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    neg = -np.inf
    alpha = np.full((n_t, s_len), neg)
    alpha[0, 0] = logp[0, ext[0]]
    if s_len > 1:
        alpha[0, 1] = logp[0, ext[1]]
    for t in range(1, n_t):
        prev = alpha[t - 1]
        acc = prev.copy()
        acc[1:] = _logsumexp(acc[1:], prev[:-1])
        acc[2:] = np.where(skip[2:], _logsumexp(acc[2:], prev[:-2]), acc[2:])
        alpha[t] = acc + logp[t, ext]
    # beta[t, s]: log-probability of the rest of the path after (t, s), emission at t excluded
    beta = np.full((n_t, s_len), neg)
    beta[n_t - 1, s_len - 1] = 0.0
    if s_len > 1:
        beta[n_t - 1, s_len - 2] = 0.0
    for t in range(n_t - 2, -1, -1):
        nxt = beta[t + 1] + logp[t + 1, ext]
        acc = nxt.copy()
        acc[:-1] = _logsumexp(acc[:-1], nxt[1:])
        acc[:-2] = np.where(skip[2:], _logsumexp(acc[:-2], nxt[2:]), acc[:-2])
        beta[t] = acc
    end = alpha[n_t - 1, s_len - 1]
    if s_len > 1:
        end = _logsumexp(np.array(end), np.array(alpha[n_t - 1, s_len - 2]))
    log_p = float(end)
    if not np.isfinite(log_p):
        return np.inf, np.zeros_like(logp)
    # d loss / d activation[t, k] = softmax[t, k] - sum_{s: ext[s] = k} alpha*beta' / p
    post = np.exp(alpha + beta - log_p)                      # (time, s)
    occupancy = np.zeros((n_t, n_a))
    np.add.at(occupancy.T, ext, post.T)
    return -log_p, np.exp(logp) - occupancy


class ConnectionistTemporalClassification(Op):
    """Theano's CTC op: ``(activations, labels, input_lengths)`` -> ``(costs, gradients)``;
    calling it gives the costs (``default_output = 0``).

    ``activations`` (time, batch, alphabet) float32/float64, unnormalised; ``labels``
    (batch, max_label_length) integers, negative entries are padding, 0 is the blank and must
    not appear as a label; ``input_lengths`` (batch,) integers, each at most ``time``.  Costs
    are ``-log p(labels | activations)`` per example (``inf`` when no alignment fits).
    ``gradients`` are d cost / d activations (zero beyond each input length).
    """

    __props__ = ("compute_grad",)
    default_output = 0

    def __init__(self, compute_grad: bool = True, openmp: Any = None) -> None:
        self.compute_grad = bool(compute_grad)

    def make_node(self, activations: Any, labels: Any, input_lengths: Any) -> Apply:
        acts = as_tensor_variable(activations)
        labels, lengths = as_tensor_variable(labels), as_tensor_variable(input_lengths)
        if acts.dtype not in ("float32", "float64"):
            raise TypeError(f"ctc: activations must be float32 or float64, got {acts.dtype}")
        if acts.ndim != 3:
            raise ValueError(f"ctc: activations must have 3 dimensions (time, batch, alphabet), "
                             f"got {acts.type}")
        for what, v, nd in (("labels", labels, 2), ("input_lengths", lengths, 1)):
            if np.dtype(v.dtype).kind not in "iu":
                raise TypeError(f"ctc: {what} must be integers, got {v.dtype}")
            if v.ndim != nd:
                raise ValueError(f"ctc: {what} must have {nd} dimension(s), got {v.type}")
        outputs = [T.vector(dtype=acts.dtype)]
        if self.compute_grad:
            outputs.append(T.tensor3(dtype=acts.dtype))
        return Apply(self, [acts, labels, lengths], outputs)

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        acts, labels, lengths = inputs
        n_t, batch, _ = acts.shape
        if labels.shape[0] != batch or lengths.shape != (batch,):
            raise ValueError(f"ctc: activations have {batch} examples, labels "
                             f"{labels.shape[0]} and input_lengths {lengths.shape[0]}")
        if np.any(lengths < 0) or np.any(lengths > n_t):
            raise ValueError(f"ctc: input_lengths must be within [0, {n_t}], got "
                             f"{lengths.tolist()}")
        costs = np.zeros(batch)
        grads = np.zeros(acts.shape)
        x = acts.astype(np.float64)
        for b in range(batch):
            label = labels[b][labels[b] >= 0]
            if np.any(label == 0) or np.any(label >= acts.shape[2]):
                raise ValueError(f"ctc: labels of example {b} must lie in [1, "
                                 f"{acts.shape[2]}) (0 is the blank), got {label.tolist()}")
            n = int(lengths[b])
            if n == 0:
                costs[b] = 0.0 if len(label) == 0 else np.inf
                continue
            z = x[:n, b]
            logp = z - z.max(axis=1, keepdims=True)
            logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
            costs[b], grads[:n, b] = _ctc_one(logp, label)
        dt = node.outputs[0].type.dtype
        out[0][0] = costs.astype(dt)
        if self.compute_grad:
            out[1][0] = grads.astype(dt)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        acts = inputs[0]
        if not self.compute_grad:
            return [grad_not_implemented(self, 0, acts, "built with compute_grad=False"),
                    disconnected_type(), disconnected_type()]
        g = output_grads[0]
        return [outputs[1] * g.dimshuffle("x", 0, "x"), disconnected_type(), disconnected_type()]

    def connection_pattern(self, node: Any) -> list:
        return [[True] * len(node.outputs), [False] * len(node.outputs),
                [False] * len(node.outputs)]


def ctc(activations: Any, labels: Any, input_lengths: Any) -> Any:
    """Theano's ``ctc(activations, labels, input_lengths)``: the CTC loss of each example
    (see :class:`ConnectionistTemporalClassification`), differentiable w.r.t. ``activations``."""
    return ConnectionistTemporalClassification()(activations, labels, input_lengths)
