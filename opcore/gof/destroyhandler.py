"""Theano's ``theano.gof.destroyhandler``."""

from opcore.graph.destroyhandler import DestroyHandler  # noqa: F401
