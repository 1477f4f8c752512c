"""Batch normalisation (Theano's ``theano.tensor.nnet.bn``), written with core tensor ops.

The expressions are plain elementwise ops and reductions, so their gradients come from the core
and the elementwise parts fuse (and compile in C on the ``c`` backend).
"""

from __future__ import annotations

from typing import Any

import opcore.tensor as T
from opcore.tensor.basic import as_tensor_variable

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def _axes(x: Any, axes: Any) -> tuple[int, ...]:
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, x.ndim))
    if isinstance(axes, int):
        axes = (axes,)
    axes = tuple(sorted(int(a) % x.ndim for a in axes))
    if not axes:
        raise ValueError("batch_normalization: axes must not be empty")
    return axes


def _param(p: Any, x: Any, axes: tuple, what: str) -> Any:
    """``p`` broadcastable against ``x``: full rank already, or the non-normalised axes only."""
    p = as_tensor_variable(p)
    if p.ndim == x.ndim:
        return p
    kept = [d for d in range(x.ndim) if d not in axes]
    if p.ndim != len(kept):
        raise ValueError(f"batch_normalization: {what} ({p.type}) must have {x.ndim} dims "
                         f"(broadcastable on axes {axes}) or {len(kept)} dims")
    pattern, k = [], 0
    for d in range(x.ndim):
        if d in axes:
            pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return p.dimshuffle(*pattern)


def batch_normalization_train(inputs: Any, gamma: Any, beta: Any, axes: Any = "per-activation",
                              epsilon: float = 1e-4, running_average_factor: float = 0.1,
                              running_mean: Any = None, running_var: Any = None) -> tuple:
    """Normalise with the batch statistics over ``axes`` (``'per-activation'``: axis 0;
    ``'spatial'``: all but axis 1).  Returns ``(out, mean, invstd)``, plus the updated running
    mean and (unbiased) variance when ``running_mean``/``running_var`` are given."""
    if epsilon < 1e-5:
        raise ValueError(f"batch_normalization_train: epsilon must be >= 1e-5, got {epsilon}")
    x = as_tensor_variable(inputs)
    ax = _axes(x, axes)
    g, b = _param(gamma, x, ax, "gamma"), _param(beta, x, ax, "beta")
    mean = T.mean(x, axis=ax, keepdims=True)
    var = T.mean(T.sqr(x - mean), axis=ax, keepdims=True)
    invstd = 1.0 / T.sqrt(var + epsilon)
    out = (x - mean) * (invstd * g) + b
    results = [out, mean, invstd]
    if running_mean is not None:
        rm = _param(running_mean, x, ax, "running_mean")
        f = running_average_factor
        results.append(rm * (1.0 - f) + mean * f)
    if running_var is not None:
        rv = _param(running_var, x, ax, "running_var")
        m = T.cast(T.prod(T.stack([x.shape[a] for a in ax])), x.dtype)
        f = running_average_factor
        results.append(rv * (1.0 - f) + (m / (m - 1)) * var * f)
    return tuple(results)


def batch_normalization_test(inputs: Any, gamma: Any, beta: Any, mean: Any, var: Any,
                             axes: Any = "per-activation", epsilon: float = 1e-4) -> Any:
    """Normalise with given (running) statistics:
    ``(x - mean) * gamma / sqrt(var + eps) + beta``."""
    if epsilon < 1e-5:
        raise ValueError(f"batch_normalization_test: epsilon must be >= 1e-5, got {epsilon}")
    x = as_tensor_variable(inputs)
    ax = _axes(x, axes)
    g, b = _param(gamma, x, ax, "gamma"), _param(beta, x, ax, "beta")
    m, v = _param(mean, x, ax, "mean"), _param(var, x, ax, "var")
    return (x - m) * (g / T.sqrt(v + epsilon)) + b


def batch_normalization(inputs: Any, gamma: Any, beta: Any, mean: Any, std: Any,
                        mode: str = "low_mem") -> Any:
    """The old elementwise form: ``(inputs - mean) * (gamma / std) + beta`` (broadcasting)."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got {mode!r}")
    x = as_tensor_variable(inputs)
    return (x - mean) * (gamma / std) + beta
