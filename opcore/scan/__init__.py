"""Loops: ``opcore.scan`` (Theano's ``theano.scan``) and the Scan op.

``opcore.scan`` is both this package and the function: the package module is callable, so
``opcore.scan(fn, ...)``, ``from opcore.scan import scan`` and ``from opcore import scan`` all work.

>>> import numpy as np, opcore, opcore.tensor as T
>>> k = T.iscalar('k')
>>> a = T.dvector('a')
>>> result, updates = opcore.scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a),
...                               non_sequences=a, n_steps=k)
>>> opcore.function([a, k], result[-1])(np.array([1.0, 2.0, 3.0]), 3).tolist()
[1.0, 8.0, 27.0]
"""

from __future__ import annotations

import sys
import types

from opcore.scan.builder import ScanError, hoist_invariants, scan
from opcore.scan.op import Scan, ScanInfo
from opcore.scan.utils import until

__all__ = ["Scan", "ScanError", "ScanInfo", "hoist_invariants", "scan", "until"]


class _CallableModule(types.ModuleType):
    """Lets ``opcore.scan(...)`` call :func:`scan` although ``opcore.scan`` is this package."""

    def __call__(self, *args, **kwargs):
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
