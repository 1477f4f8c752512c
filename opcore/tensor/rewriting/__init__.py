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

from typing import Any

from opcore.tensor.rewriting.registry import RULES, register_rewrite  # noqa: F401
# importing a family module registers its rules
from opcore.tensor.rewriting import (  # noqa: F401
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

def register_all(rewrites: Any) -> None:
    """Register every core rule with the host's rewrite registry (the builtin plugin's hook)."""
    for r in RULES:
        rewrites.register(r.name, r.fn, *r.tags, phase=r.phase, after=r.after, before=r.before)
