"""The MRG31k3p generator of L'Ecuyer and Touzin, vectorised over streams with NumPy.

Algorithm: P. L'Ecuyer and R. Touzin, "Fast Combined Multiple Recursive Generators with
Multipliers of the form a = +/- 2^d +/- 2^e", Proceedings of the 2000 Winter Simulation
Conference, 683-689.  Streams and substreams: P. L'Ecuyer, R. Simard, E. J. Chen and
W. D. Kelton, "An Object-Oriented Random-Number Package with Many Long Streams and Substreams",
Operations Research 50(6), 2002.

A state is six int32 numbers ``(x11, x12, x13, x21, x22, x23)``: the last three values of the two
component recurrences

    x1[n] = (2^22 x1[n-2] + (2^7 + 1) x1[n-3]) mod m1,   m1 = 2^31 - 1
    x2[n] = (2^15 x2[n-1] + (2^15 + 1) x2[n-3]) mod m2,  m2 = 2^31 - 21069

and a draw is ``(x1[n] - x2[n]) mod m1`` scaled to (0, 1).  The step below is the shift-and-add
form with 32-bit wrap-around arithmetic that Theano's ``rng_mrg`` (CPU, C and GPU) uses, so the
numbers are bit-identical to Theano's for the same states.  A matrix of states (one row per
stream) produces sample ``i`` from stream ``i % n_streams``; :func:`uniform_draws` advances all
streams at once per round.

Jumps: ``A1p72``/``A2p72`` move a state 2^72 steps ahead (the next substream), ``A1p134``/
``A2p134`` 2^134 steps (the next stream); they are computed here as powers of the recurrence
matrices, modulo m1 and m2.
"""

from __future__ import annotations

from typing import Any, Sequence

import functools

import numpy as np
from opcore.tensor.hints import ArrayLike, TensorLike

M1 = np.int32(2147483647)  # 2^31 - 1
M2 = np.int32(2147462579)  # 2^31 - 21069
MASK12 = np.int32(511)  # 2^9 - 1
MASK13 = np.int32(16777215)  # 2^24 - 1
MASK2 = np.int32(65535)  # 2^16 - 1
MULT2 = np.int32(21069)
NORM = 4.656612873077392578125e-10  # 2^-31

#: per output dtype: (mask, offset, scale, dtype the scaling is computed in); a draw is
#: ``((k & mask) + offset) * scale`` with ``k`` in [1, m1].  float32 and float16 scales are the
#: largest that keep every draw below 1 after rounding (as in Theano).
SCALING = {
    "float64": (None, 0, NORM, np.float64),
    "float32": (None, 0, np.float32(4.6566126e-10), np.float32),
    "float16": (0x7FFF, 1, np.float32(3.0458e-05), np.float32),
}

# the recurrences as 3x3 companion matrices acting on (x[n-1], x[n-2], x[n-3])
A1p0 = [[0, 4194304, 129], [1, 0, 0], [0, 1, 0]]
A2p0 = [[32768, 0, 32769], [1, 0, 0], [0, 1, 0]]


def _matmul_mod(a, b, m: int):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) % m for j in range(3)] for i in range(3)]


def matpow2_mod(a: Sequence[Sequence[int]] | np.ndarray, e: int, m: int) -> np.ndarray:
    """``a^(2^e) mod m`` (exact, Python integers) as an int64 array."""
    r = [list(row) for row in a]
    for _ in range(e):
        r = _matmul_mod(r, r, m)
    return np.asarray(r, dtype="int64")


@functools.cache
def jump_matrices(e: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A1^(2^e) mod m1, A2^(2^e) mod m2)``: the matrices moving a state 2^e steps ahead,
    computed at first use (``A1p72``... are these for e = 72 and 134)."""
    return matpow2_mod(A1p0, e, int(M1)), matpow2_mod(A2p0, e, int(M2))


_JUMPS = {"A1p72": (72, 0), "A2p72": (72, 1), "A1p134": (134, 0), "A2p134": (134, 1)}


def __getattr__(name: str) -> np.ndarray:
    # A1p72, A2p72, A1p134, A2p134: computed when first read, not at import
    if name in _JUMPS:
        e, half = _JUMPS[name]
        return jump_matrices(e)[half]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def matVecModM(A: np.ndarray, s: np.ndarray, m: int) -> np.ndarray:
    """``A @ s mod m`` for int64 ``A`` and int32 state halves ``s`` (vectors or ``(3, n)``)."""
    s = np.asarray(s, dtype="int64")
    if s.ndim == 1:
        return np.int32(np.sum((A * s) % m, 1) % m).astype("int32")
    # (3, 3) x (3, n): every product < 2^62 fits in int64; reduce before summing
    acc = np.zeros(s.shape, dtype="int64")
    for k in range(3):
        acc += (A[:, k:k + 1] * s[k:k + 1]) % m
    return (acc % m).astype("int32")


def multMatVect(v: np.ndarray, A: np.ndarray, m1: int | np.integer[Any], B: np.ndarray,
                m2: int | np.integer[Any]) -> np.ndarray:
    """Jump a state: the first half of ``v`` times ``A`` mod ``m1``, the second times ``B`` mod
    ``m2``.  ``v`` is one state (6,) or a block of states (6, n)."""
    v = np.asarray(v)
    return np.concatenate((matVecModM(A, v[:3], int(m1)), matVecModM(B, v[3:], int(m2))))


def ff_2p72(rstate: np.ndarray) -> np.ndarray:
    """The state 2^72 steps after ``rstate``: the start of the next substream."""
    return multMatVect(rstate, jump_matrices(72)[0], M1, jump_matrices(72)[1], M2)


def ff_2p134(rstate: np.ndarray) -> np.ndarray:
    """The state 2^134 steps after ``rstate``: the start of the next stream."""
    return multMatVect(rstate, jump_matrices(134)[0], M1, jump_matrices(134)[1], M2)


def substream_states(rstate: ArrayLike, n_streams: int) -> np.ndarray:
    """``(n_streams, 6)`` int32: ``rstate`` and the starts of the next ``n_streams - 1``
    substreams, each 2^72 steps after the previous.  Computed by doubling: the block
    ``[2^k, 2^(k+1))`` is the block ``[0, 2^k)`` jumped by ``2^k * 2^72`` steps."""
    if n_streams <= 0:
        raise ValueError(f"n_streams must be positive, got {n_streams}")
    out = np.zeros((6, n_streams), dtype="int32")
    out[:, 0] = np.asarray(rstate, dtype="int32")
    j1, j2 = jump_matrices(72)
    have = 1
    while have < n_streams:
        take = min(have, n_streams - have)
        out[:, have:have + take] = multMatVect(out[:, :take], j1, M1, j2, M2)
        have += take
        j1 = np.asarray(_matmul_mod(j1.tolist(), j1.tolist(), int(M1)), dtype="int64")
        j2 = np.asarray(_matmul_mod(j2.tolist(), j2.tolist(), int(M2)), dtype="int64")
    return np.ascontiguousarray(out.T)


def _step(x11, x12, x13, x21, x22, x23):
    """One MRG31k3p step on int32 arrays (wrapping arithmetic); returns the new (x11, x21)."""
    y1 = ((x12 & MASK12) << 22) + (x12 >> 9) + ((x13 & MASK13) << 7) + (x13 >> 24)
    y1 = np.where((y1 < 0) | (y1 >= M1), y1 - M1, y1)
    y1 = y1 + x13
    y1 = np.where((y1 < 0) | (y1 >= M1), y1 - M1, y1)
    z1 = ((x21 & MASK2) << 15) + MULT2 * (x21 >> 16)
    z1 = np.where((z1 < 0) | (z1 >= M2), z1 - M2, z1)
    y2 = ((x23 & MASK2) << 15) + MULT2 * (x23 >> 16)
    y2 = np.where((y2 < 0) | (y2 >= M2), y2 - M2, y2)
    y2 = y2 + x23
    y2 = np.where((y2 < 0) | (y2 >= M2), y2 - M2, y2)
    y2 = y2 + z1
    y2 = np.where((y2 < 0) | (y2 >= M2), y2 - M2, y2)
    return y1, y2


def uniform_draws(rstate: np.ndarray, n: int,
                  dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform draws in (0, 1) from the streams of ``rstate`` (``(n_streams, 6)`` int32).

    Returns ``(new_rstate, draws)``; draw ``i`` comes from stream ``i % n_streams``, so stream
    ``s`` advances ``len(range(s, n, n_streams))`` steps.  Raises ``ValueError`` when ``n``
    exceeds 2^31 - 1 (the limit of Theano's C and GPU code) and for a state of the wrong shape.
    """
    rstate = np.asarray(rstate)
    if rstate.ndim != 2 or rstate.shape[1] != 6 or rstate.dtype != np.int32:
        raise ValueError(f"rstate must be an (n_streams, 6) int32 matrix, got {rstate.dtype} "
                         f"{rstate.shape}")
    if n > int(M1):
        raise ValueError("rng_mrg does not support more than 2**31 - 1 samples")
    if dtype not in SCALING:
        raise ValueError(f"rng_mrg draws float16, float32 or float64, not {dtype}")
    ns = rstate.shape[0]
    st = [np.array(rstate[:, c]) for c in range(6)]
    ints = np.empty(n, dtype="int32")
    for start in range(0, n, ns):
        k = min(ns, n - start)
        x11, x12, x13, x21, x22, x23 = (c[:k] for c in st)
        y1, y2 = _step(x11, x12, x13, x21, x22, x23)
        st[2][:k] = x12
        st[1][:k] = x11
        st[0][:k] = y1
        st[5][:k] = x22
        st[4][:k] = x21
        st[3][:k] = y2
        ints[start:start + k] = np.where(y1 <= y2, y1 - y2 + M1, y1 - y2)
    new_state = np.stack(st, axis=1).astype("int32")
    return new_state, ints_to_unit(ints, dtype)


def ints_to_unit(ints: np.ndarray, dtype: str) -> np.ndarray:
    """Scale the integers ``k`` in [1, m1] of :func:`uniform_draws` to floats in (0, 1)."""
    mask, offset, scale, comp = SCALING[dtype]
    k = ints if mask is None else (ints & mask) + offset
    return (k.astype(comp) * scale).astype(dtype, copy=False)
