"""The typed-list ops (Theano's ``theano.typed_list.basic``), each with ``perform``.

``append``, ``extend``, ``insert``, ``remove`` and ``reverse`` return a new list (Theano's
``inplace=False`` default); ``getitem`` takes an integer or a slice; ``index_``/``count`` compare
items with the item type's ``values_eq``; ``length`` is an int64 scalar.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.op import Op
from opcore.graph.type import Type
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.type import TensorType

_INT64 = TensorType("int64", ())


class TypedListType(Type):
    """A list of values of ``ttype`` (``depth`` > 0: lists of lists of that depth)."""

    def __init__(self, ttype: Type, depth: int = 0) -> None:
        if depth < 0:
            raise ValueError("TypedListType: depth must be >= 0")
        if not isinstance(ttype, Type):
            raise TypeError(f"TypedListType: the item type must be a Type, got {ttype!r}")
        self.ttype = ttype if depth == 0 else TypedListType(ttype, depth - 1)
        self.depth = depth

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> list:
        if not isinstance(data, (list, tuple)):
            raise TypeError(f"{self}: expected a list, got {type(data).__name__}")
        if strict and not isinstance(data, list):
            raise TypeError(f"{self}: expected a list, got {type(data).__name__}")
        return [self.ttype.filter(x, strict, allow_downcast) for x in data]

    def values_eq(self, a: Any, b: Any) -> bool:
        return len(a) == len(b) and all(self.ttype.values_eq(x, y) for x, y in zip(a, b))

    def values_eq_approx(self, a: Any, b: Any) -> bool:
        return len(a) == len(b) and all(self.ttype.values_eq_approx(x, y) for x, y in zip(a, b))

    def get_depth(self) -> int:
        return self.depth

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self.ttype == other.ttype

    def __hash__(self) -> int:
        return hash((type(self), self.ttype))

    def __str__(self) -> str:
        return f"TypedList <{self.ttype}>"

    __repr__ = __str__

    @property
    def dtype(self) -> str:
        return self.ttype.dtype

    @property
    def ndim(self) -> int:
        return self.ttype.ndim

    def make_variable(self, name: str | None = None):
        return TypedListVariable(self, name=name)

    def make_constant(self, value: Any, name: str | None = None):
        return TypedListConstant(self, self.filter(value), name=name)


class _ListMethods:
    def __getitem__(self, index: Any):
        return getitem(self, index)

    def __len__(self):
        raise TypeError("len() of a symbolic list is unknown; use typed_list.length(l)")

    def append(self, toAppend: Any):
        return append(self, toAppend)

    def extend(self, toAppend: Any):
        return extend(self, toAppend)

    def insert(self, index: Any, toInsert: Any):
        return insert(self, index, toInsert)

    def remove(self, toRemove: Any):
        return remove(self, toRemove)

    def reverse(self):
        return reverse(self)

    def count(self, elem: Any):
        return count(self, elem)

    @property
    def ttype(self):
        return self.type.ttype

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def ndim(self):
        return self.type.ndim


class TypedListVariable(_ListMethods, Variable):
    """A symbolic typed list (``l[i]``, ``l.append(x)``...)."""


class TypedListConstant(_ListMethods, Constant):
    """A constant typed list."""

    def signature(self):
        return (self.type, tuple(repr(np.asarray(x).tolist()) for x in self.data))


def _as_list(x: Any) -> Variable:
    if isinstance(x, Variable) and isinstance(x.type, TypedListType):
        return x
    raise TypeError(f"expected a typed list variable, got {x!r}")


def _as_item(ltype: TypedListType, x: Any) -> Variable:
    if isinstance(ltype.ttype, TypedListType):
        return _as_list(x)
    v = as_tensor_variable(x)
    if v.type != ltype.ttype:
        v = ltype.ttype.filter_variable(v)
    return v


def _as_index(i: Any) -> Variable:
    v = as_tensor_variable(i)
    if v.ndim != 0 or not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"a list index must be an integer scalar, got {v.type}")
    return v


class _ListUpdate(Op):
    """Base of the ops returning a changed list: a copy, or (``inplace=True``) the input itself."""

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def _target(self, lst: list) -> list:
        return lst if self.inplace else list(lst)


class GetItem(Op):
    """``l[i]`` (an item) or ``l[a:b:c]`` (a list)."""

    __props__ = ()

    def make_node(self, x: Any, index: Any) -> Apply:
        x = _as_list(x)
        if isinstance(index, slice):
            parts = [as_tensor_variable(p if p is not None else -(2 ** 62)) for p in
                     (index.start, index.stop, index.step)]
            return Apply(self, [x, *parts], [x.type()])
        return Apply(self, [x, _as_index(index)], [x.ttype()])

    def perform(self, node, inputs, outputs):
        x = inputs[0]
        if len(inputs) == 4:
            parts = [None if int(p) == -(2 ** 62) else int(p) for p in inputs[1:]]
            outputs[0][0] = list(x[slice(*parts)])
        else:
            outputs[0][0] = x[int(inputs[1])]


class Append(_ListUpdate):
    """``l + [x]``."""


    def make_node(self, x: Any, toAppend: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x, _as_item(x.type, toAppend)], [x.type()])

    def perform(self, node, inputs, outputs):
        x = self._target(inputs[0])
        x.append(inputs[1])
        outputs[0][0] = x


class Extend(_ListUpdate):
    """``l + other``."""


    def make_node(self, x: Any, toAppend: Any) -> Apply:
        x = _as_list(x)
        other = _as_list(toAppend)
        if other.type != x.type:
            raise TypeError(f"extend: {other.type} is not {x.type}")
        return Apply(self, [x, other], [x.type()])

    def perform(self, node, inputs, outputs):
        x = self._target(inputs[0])
        x.extend(inputs[1])
        outputs[0][0] = x


class Insert(_ListUpdate):
    """``l`` with ``x`` inserted before position ``index``."""


    def make_node(self, x: Any, index: Any, toInsert: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x, _as_index(index), _as_item(x.type, toInsert)], [x.type()])

    def perform(self, node, inputs, outputs):
        x = self._target(inputs[0])
        x.insert(int(inputs[1]), inputs[2])
        outputs[0][0] = x


def _index_of(ttype, lst, item) -> int:
    for k, y in enumerate(lst):
        if ttype.values_eq(y, item):
            return k
    raise ValueError("typed_list: the item is not in the list")


class Remove(_ListUpdate):
    """``l`` without the first item equal to ``x`` (ValueError when there is none)."""


    def make_node(self, x: Any, toRemove: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x, _as_item(x.type, toRemove)], [x.type()])

    def perform(self, node, inputs, outputs):
        x = self._target(inputs[0])
        del x[_index_of(node.inputs[0].type.ttype, x, inputs[1])]
        outputs[0][0] = x


class Reverse(_ListUpdate):
    """``l`` reversed."""


    def make_node(self, x: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        x = self._target(inputs[0])
        x.reverse()
        outputs[0][0] = x


class Index(Op):
    """Position of the first item equal to ``x`` (int64)."""

    __props__ = ()

    def make_node(self, x: Any, elem: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x, _as_item(x.type, elem)], [_INT64()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(_index_of(node.inputs[0].type.ttype, inputs[0], inputs[1]),
                                   dtype="int64")


class Count(Op):
    """Number of items equal to ``x`` (int64)."""

    __props__ = ()

    def make_node(self, x: Any, elem: Any) -> Apply:
        x = _as_list(x)
        return Apply(self, [x, _as_item(x.type, elem)], [_INT64()])

    def perform(self, node, inputs, outputs):
        t = node.inputs[0].type.ttype
        outputs[0][0] = np.asarray(sum(1 for y in inputs[0] if t.values_eq(y, inputs[1])),
                                   dtype="int64")


class Length(Op):
    """Number of items (int64)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        return Apply(self, [_as_list(x)], [_INT64()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(len(inputs[0]), dtype="int64")


class MakeList(Op):
    """A list of the given variables (all of one type)."""

    __props__ = ()

    def make_node(self, a: Any) -> Apply:
        items = [as_tensor_variable(x) if not isinstance(x, Variable) else x for x in a]
        if not items:
            raise ValueError("make_list needs at least one item (its type fixes the list's)")
        t = items[0].type
        for x in items[1:]:
            if x.type != t:
                raise TypeError(f"make_list: all items must have type {t}, got {x.type}")
        return Apply(self, items, [TypedListType(t)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = [np.array(x, copy=True) if isinstance(x, np.ndarray) else x
                         for x in inputs]


getitem = GetItem()
append = Append()
extend = Extend()
insert = Insert()
remove = Remove()
reverse = Reverse()
index_ = Index()
count = Count()
length = Length()
make_list = MakeList()
