"""The list the core's tensor rewrites register into (:func:`register_rewrite`).

The family modules of this package decorate their rules with :func:`register_rewrite`, which
only records them in :data:`RULES`; the package's ``register_all`` hands them to the plugin host.
"""

from __future__ import annotations

from typing import Callable

from opcore.plugins.registries import RewriteEntry

#: the core's rules in registration order (filled when the family modules are imported), as the
#: host's own entries: the builtin plugin hands each to the host unchanged
RULES: list[RewriteEntry] = []


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
        RULES.append(RewriteEntry(name, fn, tuple(tags) + (phase,), phase, tuple(after),
                                  tuple(before), "core"))
        return fn

    return deco
