"""``rng.binomial(n, p, size)`` with every ``n`` equal to 1, vectorised, with NumPy's exact draws.

NumPy draws a binomial of ``n * min(p, 1-p) <= 30`` by inversion, one element after the other
in C order (``random_binomial_inversion`` in ``numpy/random/src/distributions/distributions.c``,
called by ``RandomState.binomial`` through ``legacy_random_binomial`` and by
``Generator.binomial`` through ``random_binomial``).  For ``n == 1`` the inversion is: with
``pp = p`` (``p <= 0.5``) or ``pp = 1.0 - p`` (else), ``q = 1.0 - pp``, ``qn = exp(log(q))``,
one uniform double ``U`` (the generator's ``next_double``, the same stream ``random_sample`` /
``random`` reads), ``X = U > qn``; the result is ``X`` or ``1 - X``.  Two corner cases make the
loop take more draws: a *restart* when ``U - qn > pp * qn / q`` (only for ``U`` within a few ulp
of 1), and ``Generator`` returns 0 without a draw where ``p == 0``.

This module computes the same thing with whole-array NumPy calls: the uniforms in one
``random_sample``/``random`` call, ``qn`` through NumPy's ``log``/``exp`` loops.  Those loops may
differ from the C library's scalar ``exp``/``log`` (which NumPy's sampler calls) in the last
bit, so every element whose ``U`` lies within ``1e-12`` of ``qn`` is recomputed with
:func:`math.exp`/:func:`math.log` (the C library's functions); a restart anywhere (or near it)
puts the generator back and lets NumPy draw the whole call.  The result is therefore always
NumPy's, element for element, and the generator ends in NumPy's state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: below this many draws NumPy's own call is as fast: no vectorised path
MIN_DRAWS = 64
#: half-width of the window around ``qn`` where NumPy's vector exp/log are not trusted
_GUARD = 1e-12
#: only a uniform above ``1 - _RESTART_BAND`` can make NumPy's inversion start again
_RESTART_BAND = 1e-9


def _exact_qn(q: np.ndarray) -> np.ndarray:
    """``exp(log(q))`` element by element with the C library's functions (what NumPy's sampler
    computes)."""
    return np.array([math.exp(math.log(v)) for v in q.tolist()], dtype=np.float64)


def _inversion_n1(pp: float, next_u: Any) -> int:
    """NumPy's ``random_binomial_inversion`` for ``n = 1`` and success probability ``pp``, one
    element, in Python floats (IEEE doubles, the same arithmetic as NumPy's C)."""
    q = 1.0 - pp
    qn = math.exp(math.log(q))
    while True:
        u, px, x = next_u(), qn, 0
        while u > px:
            x += 1
            if x > 1:
                break  # past the bound: start again with a new draw
            u -= px
            px = (pp * px) / q
        else:
            return x


def bernoulli_draws(rng: Any, p: Any, size: Any) -> np.ndarray | None:
    """``rng.binomial(1, p, size)`` (int64), or ``None`` when this case is left to NumPy.

    ``rng`` must be exactly ``numpy.random.RandomState`` or ``numpy.random.Generator``; ``p`` a
    float array whose values all lie in [0, 1] (NumPy raises on the others: left to it);
    ``size`` None or a tuple the parameter broadcasts to.  Returns None (nothing drawn) for
    any other case and for fewer than :data:`MIN_DRAWS` draws."""
    legacy = type(rng) is np.random.RandomState
    if not legacy and type(rng) is not np.random.Generator:
        return None
    p = np.asarray(p)
    if p.dtype.kind != "f" or p.dtype.itemsize > 8:
        return None
    shape = p.shape if size is None else tuple(int(s) for s in size)
    if size is not None:
        try:
            if np.broadcast_shapes(shape, p.shape) != shape:
                return None
        except ValueError:
            return None
    count = math.prod(shape)
    if count < MIN_DRAWS:
        return None
    pd = np.broadcast_to(p.astype(np.float64, copy=False), shape).ravel()
    if not (pd.min() >= 0.0 and pd.max() <= 1.0):  # NaN fails both: NumPy raises
        return None
    high = pd > 0.5
    pp = np.minimum(pd, 1.0 - pd)  # p, or 1.0 - p above 0.5 (exactly NumPy's value)
    q = 1.0 - pp
    with np.errstate(all="ignore"):
        qn = np.exp(np.log(q))
    uniform = rng.random_sample if legacy else rng.random
    if legacy:
        u = uniform(count)
        take = None
    else:
        take = pd != 0.0  # Generator.binomial returns 0 without a draw where p == 0
        u = np.zeros(count)
        u[take] = uniform(int(take.sum()))
    near = np.abs(u - qn) <= _GUARD
    if near.any():
        qn[near] = _exact_qn(q[near])
    x = u > qn
    # a restart (U - qn > pp * qn / q, with a guard band) takes another draw: from the first
    # such element on, NumPy's loop element by element, reading the same stream of uniforms
    # (qn + pp * qn / q is 1 within a few ulp, so only a U above 1 - 1e-9 can restart)
    restart = None
    if (u > 1.0 - _RESTART_BAND).any():
        with np.errstate(all="ignore"):
            restart = x & (u - qn > pp * qn / q - _GUARD)
    if take is not None:
        x &= take
    if restart is not None and restart.any():
        first = int(np.argmax(restart))
        stream = iter(u[first:][take[first:]] if take is not None else u[first:])

        def next_u() -> float:
            v = next(stream, None)
            return float(uniform() if v is None else v)

        for i in range(first, count):
            if take is None or take[i]:
                x[i] = _inversion_n1(float(pp[i]), next_u)
    return (x ^ high).astype(np.int64).reshape(shape)
