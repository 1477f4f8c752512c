"""Theano's ``theano.updates``: ``OrderedUpdates``, an ordered dict of shared-variable updates.

>>> import opcore
>>> s = opcore.shared(0.0, name='s')
>>> u = OrderedUpdates({s: s + 1}) + OrderedUpdates()
>>> list(u) == [s]
True
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from opcore.compile.sharedvalue import SharedVariable

__all__ = ["OrderedUpdates"]


class OrderedUpdates(OrderedDict):
    """``{shared_variable: new_value}`` in insertion order; a key given twice with different
    values is an error, as in Theano."""

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, SharedVariable):
            raise TypeError(f"OrderedUpdates: key {key} is not a shared variable")
        if key in self and self[key] is not value:
            raise KeyError(f"OrderedUpdates: {key} already has an update")
        super().__setitem__(key, value)

    def update(self, other: Any = None, **kwargs: Any) -> None:
        if other is None:
            return
        items = other.items() if hasattr(other, "items") else other
        for k, v in items:
            self[k] = v

    def __add__(self, other: Any) -> "OrderedUpdates":
        out = OrderedUpdates()
        out.update(self)
        out.update(other)
        return out

    def __radd__(self, other: Any) -> "OrderedUpdates":
        out = OrderedUpdates()
        out.update(other)
        out.update(self)
        return out
