"""Theano's ``theano.gof.optdb``: optimizer databases and ``Query``."""

from opcore.compile.rewritedb import (DB, EquilibriumDB, LocalGroupDB, ProxyDB,  # noqa: F401
                                       Query, SequenceDB)
