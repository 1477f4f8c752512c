"""Types of random generators: NumPy ``Generator`` and legacy ``RandomState`` values.

A variable of :class:`RandomGeneratorType` holds a :class:`numpy.random.Generator`; one of
:class:`RandomStateType` a :class:`numpy.random.RandomState`.  ``opcore.shared(rng)`` of either
makes a shared variable that random-variable ops read and return advanced (``(new_rng, draws)``).
"""

from __future__ import annotations

from typing import Any

import copy
import sys

import numpy as np

from opcore.compile.sharedvalue import SharedVariable, shared_constructor
from opcore.graph.type import Type
from opcore.tensor.hints import TensorLike


class RandomType(Type):
    """Base of the generator types; values are compared by their bit-generator state."""

    kind = "random"
    value_class_name = ""

    @property
    def value_class(self) -> type:
        # looked up on use: importing opcore does not import numpy.random
        return getattr(np.random, self.value_class_name)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if isinstance(data, self.value_class):
            return data
        raise TypeError(f"{self} expects a {self.value_class.__module__}."
                        f"{self.value_class.__name__}, got {type(data).__name__}")

    def values_eq(self, a: TensorLike, b: TensorLike) -> bool:
        sa, sb = _state(a), _state(b)
        return _states_equal(sa, sb)

    def values_eq_approx(self, a: TensorLike, b: TensorLike) -> bool:
        return self.values_eq(a, b)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return self.kind


def _state(rng):
    return rng.get_state(legacy=False) if hasattr(rng, "get_state") else rng.bit_generator.state


def _states_equal(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _states_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return a == b


class RandomGeneratorType(RandomType):
    """The type of a :class:`numpy.random.Generator` value."""

    value_class_name = "Generator"
    kind = "RandomGeneratorType"


class RandomStateType(RandomType):
    """The type of a legacy :class:`numpy.random.RandomState` value (Theano's ``RandomStreams``)."""

    value_class_name = "RandomState"
    kind = "RandomStateType"


random_generator_type = RandomGeneratorType()
random_state_type = RandomStateType()


class RandomGeneratorSharedVariable(SharedVariable):
    """A shared NumPy ``Generator``: ``opcore.shared(np.random.default_rng(seed))``."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.name or f"RandomGeneratorSharedVariable({id(self):#x})"


class RandomStateSharedVariable(SharedVariable):
    """A shared NumPy ``RandomState``: ``opcore.shared(np.random.RandomState(seed))``."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.name or f"RandomStateSharedVariable({id(self):#x})"


@shared_constructor
def random_constructor(value: Any, name: str | None = None, strict: bool = False,
                       allow_downcast: bool | None = None, borrow: bool = False,
                       **kwargs: Any) -> SharedVariable:
    """Shared generators; the value is deep-copied unless ``borrow=True``."""
    if "numpy.random" not in sys.modules:  # then value cannot be a NumPy generator
        raise TypeError("not a NumPy generator")
    cls: type[SharedVariable]
    t: RandomType
    if isinstance(value, np.random.Generator):
        cls, t = RandomGeneratorSharedVariable, random_generator_type
    elif isinstance(value, np.random.RandomState):
        cls, t = RandomStateSharedVariable, random_state_type
    else:
        raise TypeError("not a NumPy generator")
    if kwargs:
        raise TypeError(f"shared(): unexpected arguments {sorted(kwargs)} for a generator")
    if not borrow:
        value = copy.deepcopy(value)
    return cls(t, value, name=name, strict=strict, allow_downcast=allow_downcast, borrow=True)
