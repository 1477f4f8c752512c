"""The graph vocabulary (Theano's ``theano.gof`` / ``theano.graph``): variables, constants,
Apply nodes, ops, types, the function graph and the walks over them.

>>> import opcore.tensor as T
>>> from opcore.graph import inputs
>>> x, y = T.dscalars('x', 'y')
>>> inputs([x * y])
[x, y]
"""

from __future__ import annotations

from opcore.graph.basic import Apply, Constant, Node, Variable, as_variable
from opcore.graph.fg import FunctionGraph
from opcore.graph.op import Op, as_op
from opcore.graph.traversal import clone, clone_get_equiv, graph_inputs, io_toposort
from opcore.graph.type import Type
from opcore.graph.utils import (ancestors, clone_replace, equal_computations, inputs,
                                is_same_graph, variables)

__all__ = [
    "Apply", "Constant", "FunctionGraph", "Node", "Op", "Type", "Variable", "ancestors",
    "as_op", "as_variable", "clone", "clone_get_equiv", "clone_replace", "equal_computations",
    "graph_inputs", "inputs", "io_toposort", "is_same_graph", "variables",
]
