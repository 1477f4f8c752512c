"""A generator's state as a uint32 vector, and back: how scan carries a NumPy stream.

``scan`` keeps its recurrent states in tensors; a step that draws from a shared ``Generator`` or
``RandomState`` gets the generator's state encoded as a ``uint32`` vector (outer input), decoded
at the start of each step and encoded again after the draws, and the final vector is decoded into
the shared variable's update.  The encoding is exact (the decoded generator continues the same
stream):

* ``Generator`` on ``PCG64``: ``[0, state (4 words), inc (4 words), has_uint32, uinteger]``;
* ``RandomState`` (``MT19937``): ``[1, key (624 words), pos, has_gauss, cached_gaussian (2 words,
  the float64's bits)]``.

Other bit generators raise ``NotImplementedError`` naming them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.random.type import RandomType
from opcore.tensor.type import TensorType
from opcore.tensor.hints import NumPyRNG, TensorLike

_WORDS = 4  # 128-bit PCG64 integers as four little-endian uint32 words


def _int_words(v: int) -> list:
    return [(int(v) >> (32 * k)) & 0xFFFFFFFF for k in range(_WORDS)]


def _words_int(w) -> int:
    return sum(int(x) << (32 * k) for k, x in enumerate(w))


def encode(rng: NumPyRNG) -> np.ndarray:
    """The uint32 vector of ``rng``'s state (see the module docstring)."""
    if isinstance(rng, np.random.Generator):
        st = rng.bit_generator.state
        if st["bit_generator"] != "PCG64":
            raise NotImplementedError(f"scan carries Generators on PCG64 only, not "
                                      f"{st['bit_generator']}")
        words = [0] + _int_words(st["state"]["state"]) + _int_words(st["state"]["inc"]) + [
            st["has_uint32"], st["uinteger"]]
        return np.asarray(words, dtype="uint32")
    name, key, pos, has_gauss, cached = rng.get_state(legacy=True)
    gauss = np.frombuffer(np.float64(cached).tobytes(), dtype="uint32")
    return np.concatenate([[1], np.asarray(key, dtype="uint32"), [pos, has_gauss], gauss]).astype(
        "uint32")


def decode(words: np.ndarray) -> NumPyRNG:
    """A new generator in the state ``words`` encodes."""
    w = np.asarray(words, dtype="uint32")
    if len(w) == 11 and w[0] == 0:
        g = np.random.Generator(np.random.PCG64())
        g.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": _words_int(w[1:5]), "inc": _words_int(w[5:9])},
            "has_uint32": int(w[9]), "uinteger": int(w[10])}
        return g
    if len(w) == 629 and w[0] == 1:
        rs = np.random.RandomState()
        cached = float(np.frombuffer(w[627:629].tobytes(), dtype="float64")[0])
        rs.set_state(("MT19937", w[1:625].copy(), int(w[625]), int(w[626]), cached))
        return rs
    raise ValueError(f"not an encoded generator state (length {len(w)})")


class RandomToArray(Op):
    """``rng -> uint32 vector`` (:func:`encode`)."""

    __props__ = ()

    def make_node(self, rng: Variable) -> Apply:
        if not isinstance(rng.type, RandomType):
            raise TypeError(f"RandomToArray: {rng} is not a generator ({rng.type})")
        return Apply(self, [rng], [TensorType("uint32", shape=(None,))()])

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        outputs[0][0] = encode(inputs[0])

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]


class ArrayToRandom(Op):
    """``uint32 vector -> rng`` of type ``rtype`` (:func:`decode`)."""

    __props__ = ("rtype",)

    def __init__(self, rtype: RandomType) -> None:
        self.rtype = rtype

    def make_node(self, words: TensorLike) -> Apply:
        words = as_tensor_variable(words)
        if words.ndim != 1 or words.dtype != "uint32":
            raise TypeError(f"ArrayToRandom: expects a uint32 vector, got {words.type}")
        return Apply(self, [words], [self.rtype()])

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        outputs[0][0] = self.rtype.filter(decode(inputs[0]))

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [disconnected_type()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]


def random_to_array(rng: Variable) -> Variable:
    return RandomToArray()(rng)


def array_to_random(words: TensorLike, rtype: RandomType) -> Variable:
    return ArrayToRandom(rtype)(words)
