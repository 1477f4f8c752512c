"""opcore: a symbolic tensor compiler in the tradition of Theano.

>>> import opcore
>>> import opcore.tensor as T
>>> x = T.dvector('x')
>>> f = opcore.function([x], (x ** 2).sum())
>>> float(f([1.0, 2.0]))
5.0
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from opcore.config import change_flags, config  # noqa: F401
import opcore.plugins  # noqa: F401  (cheap: installs the lazy namespace import hook, loads no plugin)
from opcore.graph.basic import Apply, Constant, Variable  # noqa: F401
from opcore.graph.fg import FunctionGraph  # noqa: F401
from opcore.graph.op import Op, as_op  # noqa: F401
from opcore.graph.type import Type  # noqa: F401
from opcore.graph.utils import clone_replace  # noqa: F401
from opcore.graph.utils import clone_replace as clone  # noqa: F401  (Theano's theano.clone)
from opcore import tensor  # noqa: F401  (registers the tensor shared constructor below)
from opcore.tensor import sharedvar as _sharedvar  # noqa: F401
from opcore.tensor.random import type as _random_type  # noqa: F401  (shared(np.random.Generator))
from opcore.compile import (In, Mode, Out, function, shared)  # noqa: F401

# loaded on first use (keeps `import opcore` light): name -> module
_LAZY = {"grad": "opcore.gradient", "Lop": "opcore.gradient", "Rop": "opcore.gradient",
         "jacobian": "opcore.scan.jacobian", "hessian": "opcore.scan.jacobian",
         "debugprint": "opcore.printing", "pp": "opcore.printing", "pprint": "opcore.printing",
         "OrderedUpdates": "opcore.updates", "Generic": "opcore.graph.params",
         "generic": "opcore.graph.params", "optdb": "opcore.compile"}
from opcore import plugins as _plugins  # noqa: F401  (cheap; installs the hook that serves
#                                         `import opcore.sparse` / `opcore.tensor.nnet`)

dot = tensor.dot


def __getattr__(name):
    # heavier or optional pieces load on first use
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "scan":
        # the package module itself: callable (opcore.scan(fn, ...)) and holding Scan, until, ...
        return importlib.import_module("opcore.scan")
    if name in ("scan_module", "ifelse", "sparse", "printing", "gradient", "testing", "plugins",
                "gof", "typed_list", "gpuarray", "misc"):
        if name == "sparse":
            return _plugins.resolve_namespace("opcore.sparse")
        return importlib.import_module(f"opcore.{name}")
    raise AttributeError(f"module 'opcore' has no attribute {name!r}")
