"""Op parameters as Theano declares them: ``Generic``, ``EnumType``/``EnumList``/``CEnumType`` and
``ParamsType``/``Params``.

An op with a ``params_type`` receives ``op.get_params(node)`` as a fourth argument of ``perform``
(``perform(node, inputs, outputs, params)``) and, on the C backend, as ``sub['params']`` in
``c_code``: a ``PyObject*`` for :class:`Generic`, a pointer to a C struct with one member per field
for :class:`ParamsType` (``%(params)s->alpha``), the enum constants defined as C macros.

>>> import opcore.tensor as T
>>> pt = ParamsType(alpha=T.dscalar, mode=EnumList('SUM', 'MEAN'))
>>> pt.fields, pt.SUM, pt.MEAN
(('alpha', 'mode'), 0, 1)
>>> p = Params(pt, alpha=2.0, mode=pt.MEAN)
>>> p.alpha, p.mode, pt.filter(p) is p
(2.0, 1, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore._lazy import LazyModule
from opcore.graph.type import Type

hashlib = LazyModule("hashlib")  # OpenSSL's bindings: only a C struct name needs a digest

__all__ = ["CEnumType", "EnumList", "EnumType", "Generic", "Params", "ParamsType", "generic",
           "params_of", "perform_params"]


class Generic(Type):
    """The type of any Python object (Theano's ``gof.type.Generic``; ``PyObject*`` in C)."""

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return data

    def is_valid_value(self, data: Any) -> bool:
        return True

    def values_eq(self, a: Any, b: Any) -> bool:
        try:
            return bool(a == b)
        except Exception:
            return a is b

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return type(self).__name__

    __repr__ = __str__

    c_type = "PyObject*"


generic = Generic()


class EnumType(Type, dict):
    """Named integer (or float) constants: ``EnumType(ADD=1, SUB=2).ADD == 1``.

    Values are stored as ``ctype`` (default ``'int'``); in C every name is a macro.  A name may
    carry an alias: ``EnumType(ADD=(1, 'add'))``; :meth:`fromalias` maps the alias back.
    """

    def __init__(self, ctype: str = "int", cname: str | None = None, **kwargs: Any) -> None:
        dict.__init__(self)
        self.ctype = ctype
        self.cname = cname
        self.aliases: dict[str, str] = {}
        for k, v in kwargs.items():
            if not k.isupper() or not k.replace("_", "").isalnum():
                raise AttributeError(f"{type(self).__name__}: constant name {k!r} must be "
                                     "upper-case letters, digits and '_'")
            if isinstance(v, tuple):
                v, alias = v
                if alias in self.aliases or alias in kwargs:
                    raise TypeError(f"{type(self).__name__}: alias {alias!r} used twice")
                self.aliases[alias] = k
            if not isinstance(v, (bool, int, float, np.integer, np.floating)):
                raise TypeError(f"{type(self).__name__}: constant {k} must be a number, got "
                                f"{v!r}")
            dict.__setitem__(self, k, v)

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no constant {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key in self:
            raise AttributeError(f"{type(self).__name__}: constant {key!r} is read-only")
        object.__setattr__(self, key, value)

    def fromalias(self, alias: str) -> Any:
        return self[self.aliases.get(alias, alias)]

    def has_alias(self, alias: str) -> bool:
        return alias in self.aliases

    def get_aliases(self) -> tuple:
        return tuple(sorted(self.aliases))

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if data in self.values():
            return data
        if isinstance(data, str) and (data in self.aliases or data in self):
            return self.fromalias(data)
        raise TypeError(f"{self}: {data!r} is not one of the constants "
                        f"{sorted(self.items())}")

    def __eq__(self, other: Any) -> bool:
        return (type(self) is type(other) and self.ctype == other.ctype
                and dict.__eq__(self, other) and self.aliases == other.aliases)

    def __hash__(self) -> int:  # type: ignore[override]  # dict's is None
        return hash((type(self), self.ctype, tuple(sorted(self.items())),
                     tuple(sorted(self.aliases.items()))))

    def __str__(self) -> str:
        body = ", ".join(f"{k}:{v}" for k, v in sorted(self.items()))
        return f"{type(self).__name__}<{self.ctype}>({body})"

    __repr__ = __str__

    @property
    def c_type(self) -> str:
        return self.ctype

    def c_defines(self) -> str:
        """The C macros naming the constants."""
        lines = []
        for k, v in sorted(self.items()):
            val = int(v) if isinstance(v, (bool, np.bool_)) else v
            lines.append(f"#define {k} (({self.ctype}){val})")
        return "\n".join(lines) + "\n"


class EnumList(EnumType):
    """``EnumList('A', 'B', ('C', 'alias'))``: constants numbered 0, 1, 2... in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ctype = kwargs.pop("ctype", "int")
        cname = kwargs.pop("cname", None)
        if kwargs:
            raise TypeError(f"EnumList: unknown keyword arguments {sorted(kwargs)}")
        values: dict[str, Any] = {}
        for i, a in enumerate(args):
            if isinstance(a, tuple):
                values[a[0]] = (i, a[1])
            else:
                values[a] = i
        super().__init__(ctype=ctype, cname=cname, **values)


class CEnumType(EnumList):
    """Constants whose values are C macros defined in the op's C code (Python sees 0, 1, ...)."""

    def c_defines(self) -> str:
        return ""


class Params(dict):
    """The values of a :class:`ParamsType`: fields read as attributes (``p.alpha``)."""

    def __init__(self, params_type: "ParamsType", **kwargs: Any) -> None:
        if not isinstance(params_type, ParamsType):
            raise TypeError("Params: the first argument must be a ParamsType")
        missing = [f for f in params_type.fields if f not in kwargs]
        extra = [k for k in kwargs if k not in params_type.fields]
        if missing or extra:
            raise TypeError(f"Params for {params_type}: missing fields {missing}, unknown "
                            f"fields {extra}")
        dict.__init__(self, **kwargs)
        object.__setattr__(self, "__params_type__", params_type)

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"Params has no field {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Params are read-only")

    def __hash__(self) -> int:  # type: ignore[override]  # dict's is None
        return hash((type(self), self.__params_type__,
                     tuple(_hashable(self[f]) for f in self.__params_type__.fields)))

    def __eq__(self, other: Any) -> bool:
        return (type(self) is type(other) and self.__params_type__ == other.__params_type__
                and all(_values_eq(self[f], other[f]) for f in self.__params_type__.fields))

    def __repr__(self) -> str:
        body = ", ".join(f"{f}:{self[f]!r}" for f in self.__params_type__.fields)
        return f"Params({body})"


def _hashable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return (v.dtype.str, v.shape, v.tobytes())
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _values_eq(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


class ParamsType(Type):
    """Theano's ``ParamsType(field=Type, ...)``: an op's parameters as one typed value.

    Fields are kept in name order.  The enum constants of its :class:`EnumType` fields are
    attributes of the ParamsType too (``pt.SUM``).  :meth:`get_params` reads the fields from an
    op's attributes of the same names (Theano's default ``Op.get_params``).
    """

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs:
            raise AttributeError("ParamsType needs at least one field")
        for k, t in kwargs.items():
            if not isinstance(t, Type):
                raise TypeError(f"ParamsType: field {k!r} must be a Type, got {t!r}")
        self.fields = tuple(sorted(kwargs))
        self.types = tuple(kwargs[f] for f in self.fields)
        self.name = "ParamsType<" + ", ".join(f"{f}:{t}" for f, t in zip(self.fields,
                                                                       self.types)) + ">"
        self._enums: dict[str, Any] = {}
        for t in self.types:
            if isinstance(t, EnumType):
                for k, v in t.items():
                    if k in self._enums and self._enums[k] != v:
                        raise AttributeError(f"ParamsType: enum constant {k!r} has two values")
                    self._enums[k] = v

    def __getattr__(self, key: str) -> Any:
        enums = self.__dict__.get("_enums", {})
        if key in enums:
            return enums[key]
        raise AttributeError(f"ParamsType has no attribute {key!r}")

    @property
    def struct_name(self) -> str:
        """The C name of the struct holding these params (stable for equal ParamsTypes)."""
        return "Params_" + hashlib.sha256(self.name.encode()).hexdigest()[:16]

    def has_type(self, t: Type) -> bool:
        return any(t == x for x in self.types)

    def get_type(self, field: str) -> Type:
        return self.types[self.fields.index(field)]

    def get_field(self, t: Type) -> str:
        for f, x in zip(self.fields, self.types):
            if x == t:
                return f
        raise AttributeError(f"{self} has no field of type {t}")

    def get_enum(self, key: str) -> Any:
        return self._enums[key]

    def enum_from_alias(self, alias: str) -> Any:
        for t in self.types:
            if isinstance(t, EnumType) and t.has_alias(alias):
                return t.fromalias(alias)
        raise AttributeError(f"{self}: no enum constant has alias {alias!r}")

    def get_params(self, *objects: Any, **kwargs: Any) -> Params:
        """A :class:`Params` whose fields come from the attributes of ``objects`` (then
        ``kwargs``), each filtered by its field's type."""
        values = {}
        for f, t in zip(self.fields, self.types):
            if f in kwargs:
                v = kwargs[f]
            else:
                for obj in objects:
                    if hasattr(obj, f):
                        v = getattr(obj, f)
                        break
                else:
                    raise AttributeError(f"{self}: no value for field {f!r} (none of "
                                         f"{[type(o).__name__ for o in objects]} has it)")
            values[f] = t.filter(v, strict=False, allow_downcast=True)
        return Params(self, **values)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if isinstance(data, Params) and data.__params_type__ == self:
            return data
        if strict:
            raise TypeError(f"{self}: expected Params, got {type(data).__name__}")
        if isinstance(data, dict) or hasattr(data, "__dict__"):
            get = data.get if isinstance(data, dict) else lambda k, d=None: getattr(data, k, d)
            return Params(self, **{f: t.filter(get(f), strict, allow_downcast)
                                   for f, t in zip(self.fields, self.types)})
        raise TypeError(f"{self}: cannot convert {type(data).__name__} to Params")

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b

    def __eq__(self, other: Any) -> bool:
        return (type(self) is type(other) and self.fields == other.fields
                and self.types == other.types)

    def __hash__(self) -> int:
        return hash((type(self), self.fields, self.types))

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


def params_of(op: Any, node: Any) -> Any:
    """``op.get_params(node)`` (Theano's default: the ParamsType fields read from ``op``)."""
    getter = getattr(op, "get_params", None)
    if getter is not None:
        return getter(node)
    pt = getattr(op, "params_type", None)
    if isinstance(pt, ParamsType):
        return pt.get_params(op)
    if isinstance(pt, Generic) or pt is None:
        return op
    raise TypeError(f"{op}: params_type {pt} needs a get_params(node) method")


def perform_params(op: Any, node: Any) -> tuple:
    """The extra ``perform`` argument of an op with a ``params_type``: ``(params,)`` or ``()``."""
    if getattr(op, "params_type", None) is None:
        return ()
    return (params_of(op, node),)
