"""Shared variables: symbolic variables with a value that persists across calls."""

from __future__ import annotations

import copy
from typing import Any, Callable

from opcore.graph.basic import Variable
from opcore.config import config
from opcore.graph.type import Type
from opcore.plugins import get_host


#: ``ctor(value, name=, strict=, allow_downcast=, borrow=, **kw)`` -> a SharedVariable, or
#: None / TypeError when it does not take ``value``
SharedConstructor = Callable[..., "SharedVariable | None"]

_constructors: list[SharedConstructor] = []


class SharedVariable(Variable):
    """A variable whose value lives in ``container`` (a one-element list shared by functions)."""

    __slots__ = ("container", "default_update", "__dict__")
    #: the update ``function`` applies when the user gives none (random streams; may be unset)
    default_update: Variable

    def __init__(self, type: Type, value: Any, name: str | None = None, strict: bool = False,
                 allow_downcast: bool | None = None, borrow: bool = False) -> None:
        super().__init__(type, None, None, name)
        value = type.filter(value, strict=strict, allow_downcast=allow_downcast)
        if not borrow:
            value = copy.deepcopy(value)
        self.container = [value]

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The current value (a copy unless ``borrow=True``)."""
        v = self.container[0]
        return v if borrow else copy.deepcopy(v)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value (copied unless ``borrow=True``); it must fit the variable's type."""
        try:
            value = self.type.filter(value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"shared variable {self.name or self}: {exc}") from None
        if not borrow and value is not None:
            value = copy.deepcopy(value)
        self.container[0] = value

    @property
    def value(self) -> Any:
        return self.get_value()

    def zero(self, borrow: bool = False) -> None:
        self.container[0] = self.container[0] * 0

    def clone(self, **kwargs: Any) -> SharedVariable:
        cp = self.__class__.__new__(self.__class__)
        Variable.__init__(cp, self.type, None, None, self.name)
        cp.container = self.container
        cp.tag = self.tag.copy()
        return cp

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["container"] = self.container
        du = getattr(self, "default_update", None)
        if du is not None:  # a slot: Variable's state does not carry it (random streams need it)
            state["default_update"] = du
        return state


def shared_constructor(ctor: SharedConstructor, remove: bool = False) -> SharedConstructor:
    """Register ``ctor(value, name, strict, allow_downcast, borrow, **kw)`` for ``shared``."""
    if remove:
        _constructors.remove(ctor)
    else:
        _constructors.insert(0, ctor)
    return ctor


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           **kwargs: Any) -> SharedVariable:
    """A shared variable holding ``value`` (copied unless ``borrow=True``).

    >>> import opcore, numpy as np
    >>> s = opcore.shared(np.zeros(2), name='s')
    >>> s.get_value().tolist()
    [0.0, 0.0]
    """
    if isinstance(value, Variable):
        raise TypeError(f"shared() takes a value, not the symbolic variable {value}")

    if str(config.device) != "cpu":  # a GPU plugin registers its constructor when it loads

        get_host().ensure_loaded()
    for ctor in _constructors:
        try:
            var = ctor(value, name=name, strict=strict, allow_downcast=allow_downcast,
                       borrow=borrow, **kwargs)
        except TypeError:
            continue
        if var is not None:
            return var
    raise TypeError(f"no shared-variable type accepts a value of type {type(value).__name__}")
