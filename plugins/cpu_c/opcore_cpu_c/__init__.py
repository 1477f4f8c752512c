"""opcore's C backend: whole-function C extension modules and the Theano C Op protocol."""

from opcore.cbuild import CompileError
from opcore_cpu_c.external import ExternalCOp
from opcore_cpu_c.linker import CLinker

__all__ = ["CompileError", "CLinker", "ExternalCOp"]
