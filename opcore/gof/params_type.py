"""Theano's ``theano.gof.params_type``: ``ParamsType`` and ``Params``."""

from opcore.graph.params import Params, ParamsType  # noqa: F401
