"""Compiling graphs: function, Mode, shared variables, the Python VM."""

import importlib
from typing import Any

from opcore.compile.function import Function, FunctionMaker, MissingInputError, UnusedInputError, function  # noqa: F401
from opcore.compile.io import In, Out  # noqa: F401
from opcore.compile.mode import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode  # noqa: F401
from opcore.compile.sharedvalue import SharedVariable, shared, shared_constructor  # noqa: F401
from opcore.graph.basic import set_eval_compiler

set_eval_compiler(function)  # Variable.eval compiles with opcore.function


#: the checking modes and Theano's optimizer database load on first use: name -> module
_LAZY = {"MonitorMode": "opcore.compile.monitormode", "NanGuardMode": "opcore.compile.nanguardmode",
         "DebugMode": "opcore.compile.debugmode", "optdb": "opcore.compile.rewritedb"}


_MODULES = ("debugmode", "monitormode", "nanguardmode", "linker")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'opcore.compile' has no attribute {name!r}")


#: ``from opcore.compile import *`` gives the checking modes and their modules too (loading them)
__all__ = sorted({n for n in globals() if not n.startswith("_")} | (set(_LAZY) - {"optdb"})
                 | set(_MODULES))
