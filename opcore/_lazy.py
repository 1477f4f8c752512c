"""A module imported at its first use, for dependencies that most processes never touch.

``filelock`` (only a build of a missing cache entry takes a lock) and ``difflib`` (only an error
message suggests a name) cost milliseconds to import; a module holding a :class:`LazyModule`
instead of importing them at the top pays that only when the code needing them runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for the module ``name``: the first attribute read imports it (through the import
    system, so concurrent first uses are serialised by its module locks) and reads from it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = import_module(self._name)
            self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<LazyModule {self._name!r} ({state})>"
