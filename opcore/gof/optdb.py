"""Theano's ``theano.gof.optdb``: optimizer databases and ``Query``."""

from opcore.graph.rewriting.db import (DB, EquilibriumDB, LocalGroupDB, ProxyDB,  # noqa: F401
                                       Query, SequenceDB)
