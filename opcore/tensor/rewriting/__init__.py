"""The core's tensor rewrites, one module per family.

Each rule is a plain ``fn(fgraph, node)`` registered with :func:`register_rewrite`, which only
collects it in :data:`RULES`; the builtin plugin (``opcore/core_plugin.py``) hands them to the
plugin host through ``opcore_register_rewrites`` like any third-party plugin does.

Tags: every rule of FAST_RUN carries ``fast_run``; the few FAST_COMPILE rules also carry
``fast_compile``; each family has its own tag (``canonicalize``, ``stabilize``, ``specialize``,
``fusion``, ``inplace``, ``blas``, ``shape``, ``constant_folding``, ``merge``) so
``mode.excluding('fusion')`` switches a family off.  See docs/rewrites.md.
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


def register_all(rewrites: Any) -> None:
    """Register every core rule with the host's rewrite registry (the builtin plugin's hook)."""
    _import_families()
    for r in RULES:
        rewrites.register(r.name, r.fn, *r.tags, phase=r.phase, after=r.after, before=r.before)


def _import_families() -> None:
    from opcore.tensor.rewriting import (  # noqa: F401  (importing registers the rules)
        basic,
        blas,
        canonicalize,
        fusion,
        inplace,
        random,
        reduce,
        shape,
        specialize,
        stabilize,
        useless,
        zeros,
    )
