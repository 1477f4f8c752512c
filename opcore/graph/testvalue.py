"""Test values (Theano's ``compute_test_value``): run each op on sample values as it is built.

With ``config.compute_test_value`` set to ``'warn'``, ``'raise'`` or ``'ignore'``, every
``op(*inputs)`` call also runs ``op.perform`` on the inputs' test values (``var.tag.test_value``,
a constant's data, a shared variable's value) and stores the results on the outputs'
``tag.test_value``.  A shape or dtype error then surfaces where the graph is built, naming the op
and the shapes of its inputs, instead of at the first call of the compiled function.

An input without a test value: ``'ignore'`` skips the op silently, ``'warn'`` skips it with a
warning, ``'raise'`` raises :class:`TestValueError`.  ``'off'`` (the default) does nothing.

>>> import numpy as np, opcore, opcore.tensor as T
>>> x = T.dmatrix('x'); x.tag.test_value = np.ones((2, 3))
>>> with opcore.config.change_flags(compute_test_value='raise'):
...     y = T.dot(x, x.T)
>>> y.tag.test_value.shape
(2, 2)
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from opcore.config import config
from opcore.graph.params import perform_params

if TYPE_CHECKING:
    from opcore.graph.basic import Apply, Variable
    from opcore.graph.op import Op


class TestValueError(ValueError):
    """An input has no test value while ``compute_test_value='raise'``, or an op failed on them."""

    __test__ = False  # not a pytest test class


_MISSING = object()


def get_test_value(var: Variable) -> Any:
    """The test value of ``var`` (checked against its type), or raise :class:`TestValueError`."""
    v = _lookup(var)
    if v is _MISSING:
        raise TestValueError(f"{var} has no test value: set {var}.tag.test_value")
    return v


def _lookup(var: Variable) -> Any:
    data = getattr(var, "data", _MISSING)  # a constant
    if data is not _MISSING:
        return data
    if hasattr(var, "get_value") and hasattr(var, "container"):  # a shared variable
        return var.get_value(borrow=True)
    if "test_value" in var.tag.__dict__:
        val = var.tag.test_value
        try:
            return var.type.filter(val, allow_downcast=True)
        except (TypeError, ValueError) as exc:
            raise TestValueError(f"the test value of {var} does not fit its type {var.type}: "
                                 f"{exc}") from None
    return _MISSING


def _describe(v: Any) -> str:
    shape = getattr(v, "shape", None)
    dtype = getattr(v, "dtype", None)
    return f"shape {tuple(shape)} {dtype}" if shape is not None else type(v).__name__


def compute_test_values(op: Op, node: Apply) -> None:
    """Fill ``tag.test_value`` of ``node``'s outputs (see the module docstring)."""
    mode = str(config.compute_test_value)
    if mode == "off":
        return
    values = []
    for i, inp in enumerate(node.inputs):
        v = _lookup(inp)
        if v is _MISSING:
            msg = (f"{op}: input {i} ({inp}, {inp.type}) has no test value; set "
                   f"{inp}.tag.test_value (compute_test_value={mode!r})")
            if mode in ("raise", "pdb"):
                raise TestValueError(msg)
            if mode == "warn":
                warnings.warn(msg, stacklevel=3)
            return
        values.append(v)
    storage = [[None] for _ in node.outputs]
    try:
        op.perform(node, [np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                          for v in values], storage, *perform_params(op, node))
    except Exception as exc:
        shapes = ", ".join(_describe(v) for v in values)
        raise type(exc)(f"{op}: computing the test value failed on inputs ({shapes}): "
                        f"{exc}") from exc
    for out, cell in zip(node.outputs, storage):
        out.tag.test_value = cell[0]
