"""The rewrite engine (placeholder interface; see opcore.graph.rewriting.engine)."""

from __future__ import annotations


def rewrite_graph(fgraph, include=(), exclude=(), require=(), backend=None, trace=None):
    """Rewrite ``fgraph`` in place with every registered rewrite matching the query."""
    return fgraph
