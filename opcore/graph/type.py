"""The base of every type: what values a variable may hold and how to check them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opcore.graph.basic import Constant, Variable


class Type:
    """A set of values.  Subclasses implement :meth:`filter` and equality.

    Calling a type makes a fresh :class:`~opcore.graph.basic.Variable` of it, so type instances
    double as constructors: ``x = T.dscalar('x')``.
    """

    variable_type: type | None = None  # set by subclasses: the Variable subclass to build
    constant_type: type | None = None
    #: the NumPy dtype of the ndarrays that :meth:`filter` returns as they are (with ``ndim``
    #: dimensions), which lets ``function`` skip ``filter`` for them; None: filter every value
    filter_passthrough_dtype: Any = None

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Return ``data`` converted to a valid value of this type, or raise TypeError."""
        raise NotImplementedError

    def filter_variable(self, other: Any, allow_convert: bool = True) -> Variable:
        """Return a variable of this type equal to ``other`` or raise TypeError."""
        from opcore.graph.basic import Variable  # same package, no cycle at import time

        if not isinstance(other, Variable):
            other = self.make_constant(other)
        if other.type == self:
            return other
        if allow_convert:
            converted = self.convert_variable(other)
            if converted is not None:
                return converted
        raise TypeError(f"cannot convert {other} of type {other.type} to {self}")

    def convert_variable(self, var: Variable) -> Variable | None:
        return None

    def is_super(self, otype: Type) -> bool:
        return self == otype

    def is_valid_value(self, data: Any) -> bool:
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b

    def values_eq_approx(self, a: Any, b: Any) -> bool:
        return self.values_eq(a, b)

    def make_variable(self, name: str | None = None) -> Variable:
        from opcore.graph.basic import Variable

        cls = self.variable_type or Variable
        return cls(self, None, None, name)

    def make_constant(self, value: Any, name: str | None = None) -> Constant:
        from opcore.graph.basic import Constant

        cls = self.constant_type or Constant
        return cls(self, self.filter(value), name)

    def __call__(self, name: str | None = None) -> Variable:
        return self.make_variable(name)

    def clone(self, *args: Any, **kwargs: Any) -> Type:
        return self
