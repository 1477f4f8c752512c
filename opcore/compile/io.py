"""In/Out: per-input and per-output options of ``function``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from opcore.graph.basic import Variable

if TYPE_CHECKING:
    from opcore.compile.function import Function
    from opcore.compile.sharedvalue import SharedVariable


class In:
    """An input with options: ``value`` (default), ``name`` (keyword), ``borrow``, ``mutable``.

    ``update`` (with ``value``) makes the input an implicit state updated after each call.
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 update: Variable | None = None, mutable: bool | None = None, strict: bool = False,
                 allow_downcast: bool | None = None, autoname: bool = True,
                 implicit: bool | None = None, borrow: bool | None = None,
                 shared: bool = False) -> None:
        self.variable = variable
        self.name = name if name is not None else getattr(variable, "name", None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = bool(borrow) or self.mutable
        self.implicit = implicit
        self.has_default = value is not None

    def __repr__(self) -> str:
        return f"In({self.variable})"


class Out:
    """An output; ``borrow=True`` may return the function's internal buffer."""

    def __init__(self, variable: Variable, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"Out({self.variable}, borrow={self.borrow})"


def convert_function_input(inp: Any) -> In:
    """One entry of ``function``'s input list as an :class:`In` (Theano's input forms).

    Accepted: a variable; an ``In``; ``(x, default)``; ``((x, update), default)``; each tuple form
    may start with a name string: ``("n", x, default)``.  Raises TypeError for anything else.
    """
    if isinstance(inp, In):
        return inp
    if not isinstance(inp, (list, tuple)):
        return In(inp)
    items = list(inp)
    name = None
    if items and isinstance(items[0], str):
        name, items = items[0], items[1:]
    if not items or len(items) > 2:
        raise TypeError(f"function input {inp!r}: expected (variable, default) or "
                        "((variable, update), default), optionally preceded by a name")
    head = items[0]
    value = items[1] if len(items) == 2 else None
    if isinstance(head, (list, tuple)):
        if len(head) != 2 or len(items) != 2:
            raise TypeError(f"function input {inp!r}: the form with an update is "
                            "((variable, update), default)")
        variable, update = head
    else:
        variable, update = head, None
    if isinstance(variable, In):
        raise TypeError(f"function input {inp!r}: an In cannot be nested in a tuple")
    return In(variable, name=name, value=value, update=update)


class InputState:
    """What a function stores for one input: ``value`` (the default, replaced by the input's
    update after each call) in the one-element list ``storage``.  ``f.container[x]`` returns it."""

    __slots__ = ("spec", "storage")

    def __init__(self, spec: In) -> None:
        self.spec = spec
        self.storage = [spec.value]

    @property
    def value(self) -> Any:
        return self.storage[0]

    @value.setter
    def value(self, v: Any) -> None:
        self.storage[0] = v

    def __repr__(self) -> str:
        return f"<container of {self.spec.variable}: {self.storage[0]!r}>"


class FunctionContainers:
    """``f.container``: look up an input's :class:`InputState` by variable, name or ``In``;
    a shared variable the function uses gives its own container."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn

    def find(self, key: Variable | In | str) -> InputState | _SharedState | None:
        fn = self.fn
        var = key.variable if isinstance(key, In) else key
        for spec, state in zip(fn.maker.inputs, fn.input_storage):
            if spec is key or spec.variable is var or (isinstance(key, str) and spec.name == key):
                return state
        for sv in fn.maker.shared_vars:
            if sv is var or (isinstance(key, str) and sv.name == key):
                return _SharedState(sv)
        return None

    def __getitem__(self, key: Variable | In | str) -> InputState | _SharedState:
        state = self.find(key)
        if state is None:
            names = [str(s.name or s.variable) for s in self.fn.maker.inputs]
            raise KeyError(f"{key!r} is not an input of this function (inputs: {names})")
        return state

    def __contains__(self, key: Variable | In | str) -> bool:
        return self.find(key) is not None


class FunctionValues(FunctionContainers):
    """``f.value``: read and set the value stored for an input (``f.value[x] = 3``)."""

    def __getitem__(self, key: Variable | In | str) -> Any:  # type: ignore[override]  # the value
        return super().__getitem__(key).value

    def __setitem__(self, key: Variable | In | str, value: Any) -> None:
        super().__getitem__(key).value = value


class _SharedState:
    """A shared variable's container seen through ``f.container`` (setting filters the value)."""

    __slots__ = ("variable", "storage")

    def __init__(self, sv: SharedVariable) -> None:
        self.variable = sv
        self.storage = sv.container

    @property
    def value(self) -> Any:
        return self.storage[0]

    @value.setter
    def value(self, v: Any) -> None:
        self.variable.set_value(v, borrow=True)
