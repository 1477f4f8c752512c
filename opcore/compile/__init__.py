"""Compiling graphs: function, Mode, shared variables, the Python VM."""

import importlib
from typing import Any

from opcore.compile.function import Function, FunctionMaker, MissingInputError, UnusedInputError, function  # noqa: F401
from opcore.compile.io import In, Out  # noqa: F401
from opcore.compile.mode import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode  # noqa: F401
from opcore.compile.monitormode import MonitorMode  # noqa: F401
from opcore.compile.nanguardmode import NanGuardMode  # noqa: F401
from opcore.compile.debugmode import DebugMode  # noqa: F401
from opcore.compile.sharedvalue import SharedVariable, shared, shared_constructor  # noqa: F401
from opcore.graph.basic import set_eval_compiler

set_eval_compiler(function)  # Variable.eval compiles with opcore.function


def __getattr__(name: str) -> Any:
    # Theano's theano.compile.optdb: the optimizer database loads on first use
    if name == "optdb":
        return importlib.import_module("opcore.compile.rewritedb").optdb
    raise AttributeError(f"module 'opcore.compile' has no attribute {name!r}")
