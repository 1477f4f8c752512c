"""TensorVariable and TensorConstant: Python operators and NumPy-like methods on symbols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable

if TYPE_CHECKING:
    from opcore.tensor.type import TensorType


def _T():
    import opcore.tensor as T  # the package namespace; defined once everything is imported

    return T


_COMPARISONS = frozenset(("lt", "gt", "le", "ge", "eq", "neq"))


class _TensorMethods:
    """Operators and methods shared by tensor variables and constants."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by the Variable / Constant class each subclass also derives from
        owner: Apply | None
        type: Any

    # -- arithmetic --------------------------------------------------------------------------
    def __add__(self, other): return _T().add(self, other)
    def __radd__(self, other): return _T().add(other, self)
    def __sub__(self, other): return _T().sub(self, other)
    def __rsub__(self, other): return _T().sub(other, self)
    def __mul__(self, other): return _T().mul(self, other)
    def __rmul__(self, other): return _T().mul(other, self)
    def __truediv__(self, other): return _T().true_div(self, other)
    def __rtruediv__(self, other): return _T().true_div(other, self)
    def __floordiv__(self, other): return _T().int_div(self, other)
    def __rfloordiv__(self, other): return _T().int_div(other, self)
    def __mod__(self, other): return _T().mod(self, other)
    def __rmod__(self, other): return _T().mod(other, self)
    def __pow__(self, other): return _T().pow(self, other)
    def __rpow__(self, other): return _T().pow(other, self)
    def __neg__(self): return _T().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _T().abs(self)
    def __invert__(self): return _T().invert(self)
    def __and__(self, other): return _T().and_(self, other)
    def __rand__(self, other): return _T().and_(other, self)
    def __or__(self, other): return _T().or_(self, other)
    def __ror__(self, other): return _T().or_(other, self)
    def __xor__(self, other): return _T().xor(self, other)
    def __rxor__(self, other): return _T().xor(other, self)
    def __lt__(self, other): return _T().lt(self, other)
    def __le__(self, other): return _T().le(self, other)
    def __gt__(self, other): return _T().gt(self, other)
    def __ge__(self, other): return _T().ge(self, other)
    def __matmul__(self, other): return _T().dot(self, other)
    def __rmatmul__(self, other): return _T().dot(other, self)

    # ndarray <op> variable: NumPy defers to the variable's reflected operator (Theano's value)
    __array_priority__ = 1000

    def __bool__(self):
        # As in Theano: a variable is truthy (``if not input: input = T.matrix()`` in tutorial
        # code), except a comparison result, so ``a < b < c`` fails instead of lying
        scalar_op = getattr(getattr(self.owner, "op", None), "scalar_op", None)
        if getattr(scalar_op, "name", None) in _COMPARISONS:
            raise TypeError(
                f"symbolic variable {self} has no truth value; use opcore.ifelse.ifelse or "
                "T.switch for conditions, and T.eq/T.neq for equality"
            )
        return True

    def __iter__(self):
        try:
            n = self.type.shape[0]
        except IndexError:
            raise TypeError("a 0-d symbolic variable is not iterable") from None
        if n is None:
            raise TypeError(f"cannot iterate over {self}: its length is not known statically")
        for i in range(n):
            yield self[i]

    def __len__(self):
        raise TypeError("symbolic variables have no len(); use x.shape[0]")

    # -- attributes --------------------------------------------------------------------------
    @property
    def ndim(self): return self.type.ndim

    @property
    def dtype(self): return self.type.dtype

    @property
    def broadcastable(self): return self.type.broadcastable

    @property
    def shape(self): return _T().shape(self)

    @property
    def size(self): return _T().prod(self.shape)

    @property
    def T(self): return _T().transpose(self)

    @property
    def real(self): return self

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return _T().DimShuffle(self.broadcastable, pattern)(self)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            return _T().transpose(self, axes[0] or None)
        return _T().transpose(self, axes or None)

    def reshape(self, shape, *more, ndim=None):
        if more:
            shape = (shape,) + more
        return _T().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1): return _T().flatten(self, ndim)
    def ravel(self): return _T().flatten(self, 1)
    def astype(self, dtype): return _T().cast(self, dtype)
    def sum(self, axis=None, dtype=None, keepdims=False): return _T().sum(self, axis, dtype, keepdims)
    def prod(self, axis=None, dtype=None, keepdims=False): return _T().prod(self, axis, dtype, keepdims)
    def mean(self, axis=None, dtype=None, keepdims=False): return _T().mean(self, axis, dtype, keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return _T().var(self, axis, ddof=ddof, keepdims=keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _T().std(self, axis, ddof=ddof, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _T().max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _T().min(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return _T().argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return _T().argmin(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return _T().all(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return _T().any(self, axis, keepdims)
    def dot(self, other): return _T().dot(self, other)
    def clip(self, lo, hi): return _T().clip(self, lo, hi)
    def exp(self): return _T().exp(self)
    def log(self): return _T().log(self)
    def sqrt(self): return _T().sqrt(self)
    def nonzero(self): return _T().nonzero(self)
    def squeeze(self): return _T().squeeze(self)
    def copy(self, name=None):
        out = _T().tensor_copy(self)
        out.name = name
        return out

    def __getitem__(self, idx): return _T().subtensor_getitem(self, idx)


class TensorVariable(_TensorMethods, Variable):
    """A symbolic n-d array; see :class:`opcore.tensor.type.TensorType`."""

    __slots__ = ()
    __hash__ = Variable.__hash__

    def __eq__(self, other: object) -> bool:
        # Theano semantics: identity comparison (use T.eq for elementwise equality)
        return self is other

    # random draws (opcore.tensor.random, shared_randomstreams, rng_mrg) record their generator
    # and its update here, as Theano's ``draw.rng`` / ``draw.update`` / ``draw.rstate``
    rng = property(lambda self: _tag_attr(self, "rng"))
    rstate = property(lambda self: _tag_attr(self, "rstate"))
    update = property(lambda self: _tag_attr(self, "update"))


def _tag_attr(var, name):
    try:
        return getattr(var.tag, name)
    except AttributeError:
        raise AttributeError(f"{var} is not a random draw: it has no {name!r}") from None


class TensorConstant(_TensorMethods, Constant):
    """A tensor with a fixed value."""

    __slots__ = ()

    def __init__(self, type: TensorType, data: Any, name: str | None = None) -> None:
        data = np.asarray(data)
        super().__init__(type, data, name)
        self.tag.unique_value = None

    __hash__ = Constant.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        d = self.data
        text = repr(d.item()) if d.ndim == 0 else np.array2string(d, threshold=8)
        if len(text) > 40:
            text = text[:18] + "..." + text[-18:]
        return f"TensorConstant{{{text}}}"

    def signature(self) -> tuple[Any, ...]:
        d = self.data
        return (self.type, d.dtype.str, d.shape, d.tobytes())

    @property
    def value(self) -> np.ndarray:
        return self.data
