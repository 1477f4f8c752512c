"""Theano's ``theano.gof.op``: ``Op``, ``PureOp``, ``OpenMPOp``, ``COp`` (C in external files)."""

from opcore.graph.cop import COp  # noqa: F401
from opcore.graph.op import Op, as_op  # noqa: F401
from opcore.gof.utils import MethodNotDefined  # noqa: F401

PureOp = Op


class OpenMPOp(Op):
    """Theano's base for ops with an ``openmp`` switch; opcore's C backend decides itself."""

    def __init__(self, openmp=None):
        self.openmp = bool(openmp)
