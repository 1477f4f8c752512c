"""NanGuardMode: raise as soon as a node produces (or receives) NaN, Inf or huge values.

``NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True, optimizer='fast_run',
linker=None)`` checks, around every node, each float input and output: a NaN, an infinity or a
magnitude above 1e10 (``big_is_error``) raises :class:`NanGuardError` (an ``AssertionError``, as
in Theano) naming the node, the variable, and whether it is an input or an output.  Use it with
``mode=NanGuardMode(...)`` or ``mode='NanGuardMode'``.

>>> import numpy as np, opcore, opcore.tensor as T
>>> from opcore.compile.nanguardmode import NanGuardMode
>>> x = T.dvector('x')
>>> f = opcore.function([x], T.log(x), mode=NanGuardMode())
>>> try:
...     f(np.array([-1.0]))
... except AssertionError as e:
...     print(str(e).splitlines()[0])
NaN detected in output 0 of Elemwise{log}(x)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.compile.linker import Linker
from opcore.compile.mode import register_mode
from opcore.compile.monitormode import MonitorMode
from opcore.graph.basic import Apply, Variable


#: the magnitude above which ``big_is_error`` reports a value (Theano's threshold)
BIG = 1e10


class NanGuardError(AssertionError):
    """A node produced or received NaN / Inf / a value above :data:`BIG`."""


def _problem(value: Any, nan: bool, inf: bool, big: bool) -> str | None:
    arr = value if isinstance(value, np.ndarray) else (
        np.asarray(value) if isinstance(value, (float, complex, np.generic)) else None)
    if arr is None or arr.dtype.kind not in "fc" or arr.size == 0:
        return None
    if nan and np.isnan(arr).any():
        return "NaN"
    if inf and np.isinf(arr).any():
        return "Inf"
    if big and np.abs(np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)).max() > BIG:
        return f"a value above {BIG:g} in magnitude"
    return None


class NanGuardMode(MonitorMode):
    """See the module docstring."""

    def __init__(self, nan_is_error: bool = True, inf_is_error: bool = True,
                 big_is_error: bool = True, optimizer: str | None = "fast_run",
                 linker: str | Linker | None = None, **kw: Any) -> None:
        self.nan_is_error = nan_is_error
        self.inf_is_error = inf_is_error
        self.big_is_error = big_is_error
        super().__init__(pre_func=self._check_inputs, post_func=self._check_outputs,
                         optimizer=optimizer, linker=linker, name="NanGuardMode", **kw)

    def _check(self, node: Apply, cells: list[list[Any]], variables: list[Variable],
               where: str) -> None:
        for k, (cell, var) in enumerate(zip(cells, variables)):
            what = _problem(cell[0], self.nan_is_error, self.inf_is_error, self.big_is_error)
            if what is not None:
                raise NanGuardError(f"{what} detected in {where} {k} of {node}\n"
                                    f"variable: {var} ({var.type})")

    def _check_inputs(self, i: int, node: Apply, fn: Any) -> None:
        self._check(node, fn.inputs, node.inputs, "input")

    def _check_outputs(self, i: int, node: Apply, fn: Any) -> None:
        self._check(node, fn.outputs, node.outputs, "output")


register_mode("NanGuardMode", NanGuardMode)
