"""Theano's ``theano.gof.toolbox``: graph features.

opcore's ``FunctionGraph`` validates replacements itself; :class:`ReplaceValidate` only adds
Theano's ``replace_all_validate`` spelling to the graph it is attached to.
"""

from opcore.graph.fg import Feature  # noqa: F401


class ReplaceValidate(Feature):
    """Gives the graph ``replace_validate`` and ``replace_all_validate`` (Theano's names)."""

    def on_attach(self, fgraph):
        if not hasattr(fgraph, "replace_all_validate"):
            fgraph.replace_all_validate = (
                lambda pairs, reason=None, **kw: fgraph.replace_all(pairs, reason=reason))
        if not hasattr(fgraph, "replace_all_validate_remove"):
            fgraph.replace_all_validate_remove = (
                lambda pairs, remove=(), reason=None, **kw: fgraph.replace_all(pairs,
                                                                               reason=reason))


class Validator(Feature):
    """Theano's validation feature (opcore's graph validates on every replacement)."""


class NodeFinder(Feature):
    """``fgraph.get_nodes(op)``: the applies of an op, as Theano's NodeFinder offers."""

    def on_attach(self, fgraph):
        fgraph.get_nodes = lambda op: [n for n in fgraph.toposort() if n.op == op]


class PrintListener(Feature):
    """Prints graph changes (debugging aid)."""

    def on_change_input(self, fgraph, node, i, old, new, reason):
        print(f"-- changing ({node}.inputs[{i}]) from {old} to {new}")
