"""Theano's ``theano.scan_module.scan_utils``: graph helpers scan code imports."""

from opcore.graph.traversal import clone_replace  # noqa: F401
from opcore.scan.utils import until  # noqa: F401

from opcore.graph.utils import equal_computations  # noqa: F401

clone = clone_replace
