"""Graph rewriting: the engine (:mod:`.engine`) and its public names.

``FunctionMaker`` calls :func:`rewrite_graph` with the mode's query; rewrites themselves are
registered through the plugin host (``opcore_register_rewrites``); the core's own rules live in
``opcore.tensor.rewriting``.  See docs/rewrites.md.
"""

from __future__ import annotations

from opcore.graph.rewriting.engine import (
    CORE_PHASES,
    TYPE_ADAPTERS,
    Rewrite,
    RewriteError,
    RewriteReport,
    RewriteWarning,
    order_phases,
    rewrite_graph,
    select,
)

__all__ = ["CORE_PHASES", "TYPE_ADAPTERS", "Rewrite", "RewriteError", "RewriteReport",
           "RewriteWarning", "order_phases", "rewrite_graph", "select"]
