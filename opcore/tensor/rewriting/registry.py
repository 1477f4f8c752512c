"""The list the core's tensor rewrites register into (:func:`register_rewrite`).

The family modules of this package decorate their rules with :func:`register_rewrite`, which
only records them in :data:`RULES`; the package's ``register_all`` hands them to the plugin host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class RuleSpec:
    name: str
    fn: Callable
    tags: tuple[str, ...]
    phase: str
    after: tuple[str, ...]
    before: tuple[str, ...]


#: the core's rules in registration order (filled when the family modules are imported)
RULES: list[RuleSpec] = []


def register_rewrite(name: str, *tags: str, phase: str = "canonicalize",
                     tracks: tuple | None = None, after: tuple[str, ...] = (),
                     before: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorator collecting a core rewrite; ``tracks`` lists op classes or scalar-op names.

    >>> @register_rewrite("my_rule", "fast_run", tracks=("exp",))
    ... def my_rule(fgraph, node):
    ...     return None
    """

    def deco(fn: Callable) -> Callable:
        if tracks is not None:
            fn.tracks = tuple(tracks)  # type: ignore[attr-defined]  # read by the engine
        RULES.append(RuleSpec(name, fn, tuple(tags) + (phase,), phase, tuple(after),
                              tuple(before)))
        return fn

    return deco
