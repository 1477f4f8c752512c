"""Theano's ``theano.gof.null_type``."""

from opcore.graph.null import NullType  # noqa: F401

null_type = NullType()
