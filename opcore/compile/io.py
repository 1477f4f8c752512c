"""In/Out: per-input and per-output options of ``function``."""

from __future__ import annotations


class In:
    """An input with options: ``value`` (default), ``name`` (keyword), ``borrow``, ``mutable``.

    ``update`` (with ``value``) makes the input an implicit state updated after each call.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        self.variable = variable
        self.name = name if name is not None else getattr(variable, "name", None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = bool(borrow) or self.mutable
        self.implicit = implicit
        self.has_default = value is not None

    def __repr__(self):
        return f"In({self.variable})"


class Out:
    """An output; ``borrow=True`` may return the function's internal buffer."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow

    def __repr__(self):
        return f"Out({self.variable}, borrow={self.borrow})"
