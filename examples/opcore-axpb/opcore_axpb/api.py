"""Public API of opcore-axpb, also reachable as ``opcore.axpb``.

``plugin.py`` registers this module behind the ``opcore.axpb`` namespace, so
``import opcore.axpb`` and ``from opcore_axpb import api``
give the same module object.
"""

from opcore_axpb.op import AXPBOp, axpb

__all__ = ["AXPBOp", "axpb"]
