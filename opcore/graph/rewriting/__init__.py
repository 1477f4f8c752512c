"""Graph rewriting: the engine (:mod:`.engine`) and its public names.

``FunctionMaker`` calls :func:`rewrite_graph` with the mode's query; rewrites themselves are
registered through the plugin host (``opcore_register_rewrites``); the core's own rules live in
``opcore.tensor.rewriting``.  See docs/rewrites.md.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["CORE_PHASES", "TYPE_ADAPTERS", "Rewrite", "RewriteError", "RewriteReport",
           "RewriteWarning", "order_phases", "rewrite_graph", "select", "set_rule_source"]

#: ``() -> registry`` with ``entries`` (and ``phase_slots``): where :func:`rewrite_graph` finds
#: the registered rewrites when none are given.  The engine imports no registry: the plugin host
#: (:mod:`opcore.plugins`) installs its own with :func:`set_rule_source` when ``opcore`` is
#: imported, which therefore does not load the engine itself (it loads at the first rewrite).
_RULE_SOURCE: list[Callable[[], Any]] = []


def set_rule_source(source: Callable[[], Any]) -> None:
    """Install where :func:`rewrite_graph` reads rewrites from when none are passed."""
    _RULE_SOURCE[:] = [source]


def __getattr__(name: str) -> Any:
    # the engine's names load with the engine, at the first compile
    if name in __all__:
        value = getattr(importlib.import_module("opcore.graph.rewriting.engine"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'opcore.graph.rewriting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
