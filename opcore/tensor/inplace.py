"""Theano's ``theano.tensor.inplace``: ``<op>_inplace`` elementwise functions.

Each overwrites its first input with the result (``Elemwise{add,inplace}``), so the output shares
the first input's buffer; the result must have the first input's type.

>>> import numpy as np, opcore, opcore.tensor as T
>>> x = T.dvector('x')
>>> f = opcore.function([opcore.In(x, mutable=True)], add_inplace(x, 1.0), mode='FAST_COMPILE')
>>> v = np.zeros(2); f(v).tolist(), v.tolist()
([1.0, 1.0], [1.0, 1.0])
"""

from __future__ import annotations

from opcore.tensor.elemwise import Elemwise
from opcore.tensor.math import ELEMWISE

__all__: list[str] = []


def _make_inplace(name: str, plain: Elemwise):
    op = Elemwise(plain.scalar_op, {0: 0}, name=f"Elemwise{{{name},inplace}}")

    def fn(*args):
        return op(*args)

    fn.__name__ = fn.__qualname__ = f"{name}_inplace"
    fn.__doc__ = f"Elementwise {name}, written into the first input (Theano's {name}_inplace)."
    fn.op = op  # type: ignore[attr-defined]  # Theano code reads T.inplace.f.op
    return fn


for _name, _op in ELEMWISE.items():
    globals()[f"{_name}_inplace"] = _make_inplace(_name, _op)
    __all__.append(f"{_name}_inplace")
del _name, _op
