"""Variables, constants and Apply nodes: the vocabulary of a graph."""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from opcore.graph.testvalue import get_test_value
from opcore.graph.type import Type

if TYPE_CHECKING:
    from opcore.graph.op import Op

_ids = itertools.count()

#: ``compile(inputs, output)`` -> callable, used by :meth:`Variable.eval`.  The graph layer does
#: not compile: :mod:`opcore.compile` installs ``function`` here with :func:`set_eval_compiler`.
_EVAL_COMPILER: list[Callable[..., Callable[..., Any]]] = []


def set_eval_compiler(compile_fn: Callable[..., Callable[..., Any]]) -> None:
    """Install the function :meth:`Variable.eval` compiles with (``opcore.compile`` does)."""
    _EVAL_COMPILER[:] = [compile_fn]


class Node:
    __slots__ = ()


class Variable(Node):
    """A symbolic value of a :class:`Type`.

    ``owner`` is the :class:`Apply` that computes it (``None`` for a graph input) and ``index`` its
    position among the owner's outputs.
    """

    __slots__ = ("type", "owner", "index", "name", "tag", "auto_name", "fgraph", "__weakref__")
    fgraph: Any  # the FunctionGraph holding this variable, set by FunctionGraph (absent before)
    #: a :class:`~opcore.graph.type.Type` instance.  Declared ``Any`` for type checkers on purpose:
    #: code reads its concrete subclass's attributes (``TensorType.ndim``, ``.dtype``) through plain
    #: ``node.inputs[i]`` Variables; ``TensorVariable`` declares it as ``TensorType``.
    type: Any

    if TYPE_CHECKING:
        # For type checkers only: a variable also carries the attributes of its type's variable
        # class (``TensorVariable.dtype``, ``.ndim``, ``.T``...) that code reads through plain
        # ``node.inputs[i]`` / ``inputs`` Variables; they are Any to the checker.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, type: Type, owner: Apply | None = None, index: int | None = None,
                 name: str | None = None) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = _Tag()
        self.auto_name = f"auto_{next(_ids)}"

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = op_str(self.owner)
            if len(self.owner.outputs) == 1:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def clone(self, **kwargs: Any) -> Variable:
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag = self.tag.copy()
        return cp

    def get_parents(self) -> list[Apply]:
        return [self.owner] if self.owner is not None else []

    def get_test_value(self) -> Any:
        """This variable's test value (see :mod:`opcore.graph.testvalue`); TestValueError if none."""
        return get_test_value(self)

    def eval(self, inputs_to_values: dict[Variable, Any] | None = None) -> Any:
        """Compile (cached) and evaluate this variable: ``(x + 1).eval({x: 2.0})``."""
        if not _EVAL_COMPILER:
            raise RuntimeError("Variable.eval needs a compiler: import opcore (opcore.compile "
                               "installs opcore.function)")
        function = _EVAL_COMPILER[0]
        inputs_to_values = inputs_to_values or {}
        inputs = list(inputs_to_values)
        key = tuple(id(i) for i in inputs)
        cache = getattr(self.tag, "_eval_cache", None)
        if cache is None:
            cache = self.tag._eval_cache = {}
        if key not in cache:
            cache[key] = function(inputs, self, on_unused_input="ignore")
        return cache[key](*[inputs_to_values[i] for i in inputs])

    def __getstate__(self) -> dict[str, Any]:
        state = {s: getattr(self, s) for s in Variable.__slots__
                 if s not in ("__weakref__", "fgraph")}
        state["tag"] = self.tag.copy()
        state["tag"].__dict__.pop("_eval_cache", None)
        extra = getattr(self, "__dict__", None)
        if extra:
            state["__dict__"] = dict(extra)
        return state

    @property
    def clients(self) -> list:
        """Theano 1.0's ``var.clients``: the ``(node, input index)`` pairs (``'output'`` for a
        graph output) of the FunctionGraph this variable last joined; ``fgraph.clients[var]`` is
        the same list."""
        fgraph = getattr(self, "fgraph", None)
        if fgraph is None:
            raise AttributeError(f"{self} is in no FunctionGraph, so it has no clients; build "
                                 "one (or compile a function) and read fgraph.clients[var]")
        return fgraph.clients.get(self, [])

    def __setstate__(self, state: dict[str, Any]) -> None:
        extra = state.pop("__dict__", None)
        for k, v in state.items():
            object.__setattr__(self, k, v)
        if extra:
            self.__dict__.update(extra)


class _Tag:
    """Free-form annotations attached to a variable (test values, traces)."""

    # attributes the core itself sets (declared for type checkers; absent until set)
    _eval_cache: dict[tuple[int, ...], Callable[..., Any]]
    values_eq_approx: Callable[..., bool]
    test_value: Any
    is_rng: bool  # on a random stream's state variable
    if TYPE_CHECKING:  # free-form: any other attribute a module sets (tensor rewrites do)
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    origin: Apply  # on a node a rewrite made: the node the user wrote that it replaces

    def copy(self) -> _Tag:
        t = _Tag()
        t.__dict__.update(self.__dict__)
        return t


class Constant(Variable):
    """A variable with a fixed value; never a graph input."""

    __slots__ = ("data",)

    def __init__(self, type: Type, data: Any, name: str | None = None) -> None:
        super().__init__(type, None, None, name)
        self.data = data

    def signature(self) -> tuple[Type, Any]:
        return (self.type, _hashable(self.data))

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        text = str(self.data)
        if len(text) > 20:
            text = text[:10].strip() + "..." + text[-10:].strip()
        return f"{type(self).__name__}{{{text}}}"

    def clone(self, **kwargs: Any) -> Constant:
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag = self.tag.copy()
        return cp

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["data"] = self.data
        return state


def _hashable(data: Any) -> Any:
    try:

        if isinstance(data, np.ndarray):
            return (data.dtype.str, data.shape, data.tobytes())
    except ImportError:  # pragma: no cover
        pass
    try:
        hash(data)
        return data
    except TypeError:
        return id(data)


class Apply(Node):
    """One application of an :class:`Op` to input variables, producing output variables."""

    __slots__ = ("op", "inputs", "outputs", "tag", "__weakref__")

    def __init__(self, op: Op, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> None:
        self.op = op
        self.inputs: list[Variable] = []
        self.tag = _Tag()
        for i, inp in enumerate(inputs):
            if not isinstance(inp, Variable):
                raise TypeError(f"{op}: input {i} is {type(inp).__name__}, not a Variable: {inp!r}")
            self.inputs.append(inp)
        self.outputs: list[Variable] = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Variable):
                raise TypeError(f"{op}: output {i} is {type(out).__name__}, not a Variable")
            if out.owner is None:
                out.owner = self
                out.index = i
            elif out.owner is not self or out.index != i:
                raise ValueError(f"{op}: output {i} ({out}) already belongs to another Apply node")
            self.outputs.append(out)

    @property
    def out(self) -> Variable:
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    def default_output(self) -> Variable:
        do = getattr(self.op, "default_output", None)
        if do is None:
            if len(self.outputs) == 1:
                return self.outputs[0]
            raise ValueError(f"{self.op} has several outputs and no default_output")
        return self.outputs[do]

    def clone(self, clone_inner_graph: bool = False) -> "Apply":
        return Apply(self.op, list(self.inputs), [o.clone() for o in self.outputs])

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> "Apply":
        assert len(inputs) == len(self.inputs)
        remake = False
        new_inputs = list(inputs)
        for i, (cur, new) in enumerate(zip(self.inputs, inputs)):
            if cur.type != new.type:
                if strict:
                    new_inputs[i] = cur.type.filter_variable(new)
                else:
                    remake = True
        if remake:
            new_node = self.op.make_node(*new_inputs)
            new_node.tag = self.tag.copy()
            return new_node
        node = self.clone()
        node.inputs = new_inputs
        return node

    def __str__(self) -> str:
        return f"{op_str(self)}({', '.join(map(str, self.inputs))})"

    def __repr__(self) -> str:
        return str(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"op": self.op, "inputs": self.inputs, "outputs": self.outputs, "tag": self.tag}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)


def op_str(node: "Apply") -> str:
    """How ``node``'s op is printed: ``op.node_str(node)`` when the op defines it (a name that
    depends on the node's types, e.g. Theano's ``Sum{acc_dtype=float64}``), else ``str(op)``."""
    named = getattr(node.op, "node_str", None)
    return named(node) if named is not None else str(node.op)


def as_variable(x: Any, name: str | None = None) -> Variable:
    if isinstance(x, Variable):
        return x
    if isinstance(x, Apply):
        return x.default_output()
    raise TypeError(f"cannot convert {x!r} to a Variable")


@functools.singledispatch
def as_symbolic(x: Any) -> Variable:
    """``x`` as a symbolic variable: a :class:`Variable` as it is, an :class:`Apply` as its
    default output, a plain value (number, array, list...) as a constant of the type family that
    registered its class (``as_symbolic.register(cls, convert)``; :mod:`opcore.tensor` registers
    ``as_tensor_variable`` for every other value). Layers below that family (``compile``) turn
    values into variables through it without importing the family.

    Raises ``TypeError`` when no family takes ``x``.
    """
    raise TypeError(f"cannot turn a {type(x).__name__} into a symbolic variable: no type "
                    "family is registered for it (import opcore.tensor)")


@as_symbolic.register
def _(x: Variable) -> Variable:
    return x


@as_symbolic.register
def _(x: Apply) -> Variable:
    return x.default_output()
