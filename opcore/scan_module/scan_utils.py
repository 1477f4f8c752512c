"""Theano's ``theano.scan_module.scan_utils``: graph helpers scan code imports."""

from opcore.graph.traversal import clone_replace  # noqa: F401
from opcore.scan.utils import until  # noqa: F401

try:  # the graph utilities module (present with opcore's graph utilities)
    from opcore.graph.utils import equal_computations  # noqa: F401
except ImportError:  # pragma: no cover - an opcore without graph utilities
    pass

clone = clone_replace
