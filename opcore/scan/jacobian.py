"""Jacobians and Hessians: one gradient per element of the expression.

Theano's ``theano.gradient.jacobian`` and ``hessian`` (``opcore.gradient.jacobian`` and
``opcore.jacobian`` name these). An expression whose length is known when the graph is built
gets one :func:`opcore.gradient.grad` per element; one whose length is known only at run time
gets a :func:`opcore.scan.scan` loop over its elements, which is why this module sits in the
scan layer, above ``opcore.gradient``.

>>> import numpy as np, opcore, opcore.tensor as T
>>> x = T.dvector('x')
>>> opcore.function([x], jacobian(x ** 2, x))(np.array([1.0, 2.0])).tolist()
[[2.0, 0.0], [0.0, 4.0]]
"""

from __future__ import annotations

from opcore import tensor as T
from opcore.gradient import grad
from opcore.scan.builder import scan

__all__ = ["hessian", "jacobian"]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Jacobian of a vector ``expression`` w.r.t. ``wrt`` (one row per element)."""
    expression = T.as_tensor_variable(expression)
    single = not isinstance(wrt, (list, tuple))
    wrts = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        g = grad(expression, wrts, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        return g[0] if single else g
    flat = T.flatten(expression)
    n = flat.type.shape[0]
    if n is None:
        def step(i, flat_, *ws):
            return grad(flat_[i], list(ws), consider_constant=consider_constant,
                        disconnected_inputs=disconnected_inputs)

        jac, _ = scan(step, sequences=T.arange(flat.shape[0]), non_sequences=[flat] + wrts)
        jac = jac if isinstance(jac, list) else [jac]
        jac = [T.reshape(j, T.concatenate([expression.shape, w.shape]), ndim=expression.ndim + w.ndim)
               for j, w in zip(jac, wrts)]
    else:
        rows = [grad(flat[i], wrts, consider_constant=consider_constant,
                     disconnected_inputs=disconnected_inputs) for i in range(n)]
        jac = [T.reshape(T.stack([r[k] for r in rows]),
                         list(expression.type.shape) + [T.shape_i(w, d) for d in range(w.ndim)])
               for k, w in enumerate(wrts)]
    return jac[0] if single else jac


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Hessian of the scalar ``cost`` w.r.t. each vector in ``wrt``."""
    single = not isinstance(wrt, (list, tuple))
    wrts = [wrt] if single else list(wrt)
    out = []
    for w in wrts:
        g = grad(cost, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        out.append(jacobian(g, w, consider_constant=consider_constant,
                            disconnected_inputs=disconnected_inputs))
    return out[0] if single else out
