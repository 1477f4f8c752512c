"""Scalar operations: the per-element rules that Elemwise maps and Composite fuses."""

from opcore.scalar.basic import *  # noqa: F401,F403
from opcore.scalar.basic import ALL_OPS, Composite, ScalarOp, upcast  # noqa: F401
