"""The Op guide's AXPB op (a * x + b) for opcore, in Python, C and on the GPU."""

from opcore_axpb.op import AXPBOp, axpb

__version__ = "0.1.0"
__all__ = ["AXPBOp", "axpb"]
