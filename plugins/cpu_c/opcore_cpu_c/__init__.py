"""opcore's C backend: whole-function C extension modules and the Theano C Op protocol.

The public names are imported at first use: the plugin's entry point (``opcore_cpu_c.plugin``)
imports this package, and a process that finds its modules in the compile cache should not pay
for the code that writes them.
"""

from importlib import import_module
from typing import Any

_WHERE = {"CompileError": "opcore.cbuild", "CLinker": "opcore_cpu_c.linker",
          "ExternalCOp": "opcore_cpu_c.external"}

__all__ = ["CompileError", "CLinker", "ExternalCOp"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
