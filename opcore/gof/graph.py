"""Theano's ``theano.gof.graph``: variables, applies and graph walks.

``inputs(outputs)`` is Theano's name for the root variables of a graph.
"""

from opcore.graph.basic import Apply, Constant, Node, Variable, as_variable  # noqa: F401
from opcore.graph.traversal import (ancestors, applys_between, clone,  # noqa: F401
                                    clone_get_equiv, graph_inputs, io_toposort)

from opcore.graph.utils import equal_computations, inputs, is_same_graph  # noqa: F401


def variables(i, o):
    """Every variable between inputs ``i`` and outputs ``o`` (Theano's ``graph.variables``)."""
    out = list(i)
    seen = set(out)
    for node in io_toposort(i, o):
        for v in list(node.inputs) + list(node.outputs):
            if v not in seen:
                seen.add(v)
                out.append(v)
    return out


def ops(i, o):
    """The Apply nodes between ``i`` and ``o`` (Theano's ``graph.ops``)."""
    return set(io_toposort(i, o))


def orphans(i, o):
    """Roots of the graph from ``i`` to ``o`` that are not in ``i`` (constants, shared...)."""
    ins = set(i)
    return [v for v in graph_inputs(o) if v not in ins]


def general_toposort(outputs, deps=None):
    """A topological order of ``outputs``' variables and applies (Theano's helper)."""
    order = []
    for node in io_toposort(graph_inputs(outputs), outputs):
        order.extend(v for v in node.inputs if v not in order)
        order.append(node)
        order.extend(node.outputs)
    return order or list(outputs)
