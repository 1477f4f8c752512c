"""Reusable FunctionGraph features (listeners).

* :class:`ChangeTracker` records which nodes were imported, pruned or had inputs changed, so a
  caller can revisit only those (the rewrite engine's worklist works the same way).
* The destroy handler lives in :mod:`opcore.graph.destroyhandler`; the shape feature, which needs
  tensor ops, in :mod:`opcore.tensor.rewriting.shape`.
"""

from __future__ import annotations

from opcore.graph.basic import Apply, Variable
from opcore.graph.fg import Feature, FunctionGraph


class ChangeTracker(Feature):
    """Collects the nodes touched since the last :meth:`take`.

    >>> import opcore.tensor as T
    >>> from opcore.graph.fg import FunctionGraph
    >>> x = T.dvector('x'); y = T.exp(x)
    >>> fg = FunctionGraph([x], [y + 1], clone=False)
    >>> tr = ChangeTracker(); fg.attach_feature(tr)
    >>> fg.replace(y, T.log(x)); sorted(str(n.op) for n in tr.take())
    ['Elemwise{add,no_inplace}', 'Elemwise{log,no_inplace}']
    """

    def __init__(self) -> None:
        self.changed: dict[Apply, None] = {}  # insertion-ordered set

    def on_import(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None:
        self.changed[node] = None

    def on_change_input(self, fgraph: FunctionGraph, node: Apply | str, i: int, old: Variable,
                        new: Variable, reason: str | None) -> None:
        if not isinstance(node, str):  # not "output"
            self.changed[node] = None

    def on_prune(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None:
        self.changed.pop(node, None)

    def take(self) -> list[Apply]:
        """The touched nodes still in the graph, in the order first touched; resets the record."""
        out = list(self.changed)
        self.changed = {}
        return out
