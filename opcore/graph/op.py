"""The Op contract: ``make_node`` builds an Apply, ``perform`` is the reference implementation.

Backend protocols (``c_code``, ``gpu_kernels``, ...) are duck-typed methods that only the backend
which understands them calls; the core never does.  See ``docs/op-contract.md``.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

from opcore.config import config
from opcore.graph.basic import Apply, Variable
from opcore.graph.null import grad_undefined_for
from opcore.graph.params import perform_params
from opcore.graph.testvalue import compute_test_values
from opcore.graph.type import Type

if TYPE_CHECKING:
    from opcore.graph.fg import FunctionGraph


class ShapeUnknown(Exception):
    """Raised by infer_shape when the op cannot tell its output shape symbolically."""


@functools.lru_cache(maxsize=None)
def _declares_props(cls: type) -> bool:
    """Whether ``cls`` or a base below :class:`Op` sets ``__props__`` itself."""
    return any("__props__" in c.__dict__ for c in cls.__mro__ if c is not Op and c is not object)


class Op:
    """Base of every operation.

    Set ``__props__`` to the names of the attributes that define the op: equality, hashing and
    ``str`` (``AXPB{a=3, b=7}``) follow from them.  Instead of ``make_node`` an op may set
    ``itypes``/``otypes`` (lists of Types).
    """

    __props__: tuple[str, ...] = ()
    itypes: Sequence[Type] | None = None
    otypes: Sequence[Type] | None = None
    default_output: int | None = None
    destroy_map: dict[int, list[int]] = {}
    view_map: dict[int, list[int]] = {}

    # -- identity --------------------------------------------------------------------------
    def _props(self) -> tuple[Any, ...]:
        return tuple(getattr(self, p) for p in self.__props__)

    def _props_dict(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.__props__}

    def __eq__(self, other: Any) -> bool:
        if type(self) is not type(other):
            return False
        if not self.__props__:
            # an explicit empty __props__ makes every instance equal (Theano); an op that
            # declares no __props__ at all keeps identity equality
            return self is other or _declares_props(type(self))  # type: ignore[arg-type]
        return self._props() == other._props()

    def __hash__(self) -> int:
        if not self.__props__:
            if _declares_props(type(self)):  # type: ignore[arg-type]
                return hash(type(self))
            return object.__hash__(self)
        try:
            return hash((type(self), self._props()))
        except TypeError:
            return hash((type(self), tuple(repr(p) for p in self._props())))

    def __str__(self) -> str:
        name = getattr(self, "name", None) or type(self).__name__
        if self.__props__:
            body = ", ".join(f"{p}={getattr(self, p)}" for p in self.__props__)
            return f"{name}{{{body}}}"
        return name

    def __repr__(self) -> str:
        return str(self)

    # -- building --------------------------------------------------------------------------
    def make_node(self, *inputs: Any) -> Apply:
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither make_node nor itypes/otypes")
        if len(inputs) != len(self.itypes):
            raise TypeError(f"{self} takes {len(self.itypes)} inputs, got {len(inputs)}")
        conv = []
        for i, (inp, t) in enumerate(zip(inputs, self.itypes)):
            if not isinstance(inp, Variable):
                inp = t.make_constant(inp)
            if inp.type != t:
                try:
                    inp = t.filter_variable(inp)
                except TypeError:
                    raise TypeError(
                        f"{self}: input {i} ({inp}) has type {inp.type}, expected {t}"
                    ) from None
            conv.append(inp)
        return Apply(self, conv, [t() for t in self.otypes])

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        node = self.make_node(*inputs, **kwargs)
        if config.compute_test_value != "off":
            compute_test_values(self, node)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    # -- running ---------------------------------------------------------------------------
    def perform(self, node: Apply, inputs: list[Any], output_storage: list[list[Any]]) -> None:
        raise NotImplementedError(f"{self} has no perform(); it can only run on a backend that implements it")

    def prepare_node(self, node: Apply, storage_map: dict[Variable, list[Any]] | None = None,
                     compute_map: dict[Variable, list[bool]] | None = None,
                     impl: str | None = None) -> None:
        """Hook called once before thunks are built."""

    def make_py_thunk(self, node: Apply, storage_map: dict[Variable, list[Any]]) -> Callable[[], None]:
        """A thunk running ``perform`` on the storage cells of ``node``.

        An op with a ``params_type`` gets ``get_params(node)`` as a fourth argument (Theano's
        ``perform(node, inputs, outputs, params)``).
        """
        perform = self.perform
        inputs = [storage_map[v] for v in node.inputs]
        outputs = [storage_map[v] for v in node.outputs]
        extra = perform_params(self, node)
        if extra:
            params = extra[0]

            def thunk() -> None:
                # an op with params takes them as a fourth argument
                perform(node, [c[0] for c in inputs], outputs, params)  # type: ignore[call-arg]
        elif len(inputs) == 1:
            i0 = inputs[0]

            def thunk() -> None:
                perform(node, [i0[0]], outputs)
        elif len(inputs) == 2:
            i0, i1 = inputs

            def thunk() -> None:
                perform(node, [i0[0], i1[0]], outputs)
        else:
            def thunk() -> None:
                perform(node, [c[0] for c in inputs], outputs)
        thunk.inputs = inputs  # type: ignore[attr-defined]  # the VM reads its storage
        thunk.outputs = outputs  # type: ignore[attr-defined]
        return thunk

    # -- differentiation (optional) --------------------------------------------------------
    def L_op(self, inputs: list[Variable], outputs: list[Variable],
             output_grads: list[Variable]) -> list[Variable]:
        return self.grad(inputs, output_grads)

    def grad(self, inputs: list[Variable], output_grads: list[Variable]) -> list[Variable]:
        return [grad_undefined_for(self, i, x) for i, x in enumerate(inputs)]

    def R_op(self, inputs: list[Variable],
             eval_points: list[Variable | None]) -> list[Variable | None]:
        raise NotImplementedError(f"{self} does not implement R_op")

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True] * len(node.outputs) for _ in node.inputs]


class _FromFunctionOp(Op):
    """The op made by :func:`as_op`: a Python function with fixed input/output types."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")
    itypes: tuple[Any, ...]
    otypes: tuple[Any, ...]

    def __init__(self, fn: Callable[..., Any], itypes: Sequence[Type], otypes: Sequence[Type],
                 infer_shape: Callable[..., Any] | None) -> None:
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.infer_shape_fn = infer_shape
        self.__name__ = getattr(fn, "__name__", "as_op")
        self.name = self.__name__

    def perform(self, node: Apply, inputs: list[Any], outputs: list[list[Any]]) -> None:
        out = self.fn(*inputs)
        if len(self.otypes) == 1:
            out = [out]
        if len(out) != len(self.otypes):
            raise ValueError(f"{self.name} returned {len(out)} values, its otypes list {len(self.otypes)}")
        for cell, val, t in zip(outputs, out, self.otypes):
            cell[0] = t.filter(val, allow_downcast=True)

    def infer_shape(self, fgraph_or_node: FunctionGraph | Apply, *args: Any) -> Any:
        if self.infer_shape_fn is None:
            raise ShapeUnknown(self)
        node, shapes = (args[0], args[1]) if len(args) == 2 else (fgraph_or_node, args[0])
        return self.infer_shape_fn(node, shapes)

    def __reduce__(self) -> tuple[Any, ...]:
        mod = getattr(self.fn, "__module__", None)
        qual = getattr(self.fn, "__qualname__", None)
        return (_rebuild_as_op, (mod, qual, self.itypes, self.otypes, self.infer_shape_fn))


def _rebuild_as_op(mod: str, qual: str, itypes: Sequence[Type], otypes: Sequence[Type],
                   infer_shape: Callable[..., Any] | None) -> _FromFunctionOp:

    obj: Any = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, _FromFunctionOp):
        return obj
    return _FromFunctionOp(obj, itypes, otypes, infer_shape)


def as_op(itypes: Type | Sequence[Type], otypes: Type | Sequence[Type],
          infer_shape: Callable[..., Any] | None = None
          ) -> Callable[[Callable[..., Any]], _FromFunctionOp]:
    """Decorator turning a NumPy function into an Op with fixed types (no gradient).

    >>> import opcore, opcore.tensor as T, numpy as np
    >>> @opcore.as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
    ... def flip(x):
    ...     return x[::-1]
    >>> x = T.dmatrix('x')
    >>> opcore.function([x], flip(x))(np.eye(2)).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    # a list/tuple of Types, or one Type
    its = cast("list[Type]", list(itypes) if isinstance(itypes, (list, tuple)) else [itypes])
    ots = cast("list[Type]", list(otypes) if isinstance(otypes, (list, tuple)) else [otypes])

    def wrap(fn: Callable[..., Any]) -> _FromFunctionOp:
        return _FromFunctionOp(fn, its, ots, infer_shape)

    return wrap
