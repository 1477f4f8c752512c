"""Scalar operations: the per-element rules that Elemwise maps and Composite fuses."""

from opcore.scalar.basic import *  # noqa: F401,F403
from opcore.scalar.basic import ALL_OPS, Composite, ScalarOp, upcast  # noqa: F401
from opcore.scalar.graph import *  # noqa: F401,F403  (Theano's scalar types: float64('x'), ...)
from opcore.scalar.graph import Scalar, ScalarType, as_scalar  # noqa: F401
