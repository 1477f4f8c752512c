"""Theano's ``theano.gof.fg``: ``FunctionGraph``."""

from opcore.compile.function import MissingInputError  # noqa: F401
from opcore.graph.fg import FunctionGraph, InconsistencyError  # noqa: F401
