"""Theano's optimizer classes, as thin adapters over opcore's rewrite engine.

Code written for Theano's ``theano.gof.opt`` runs unchanged: a :class:`LocalOptimizer` (its
``transform(node)`` and ``tracks()``) becomes an engine rewrite ``fn(fgraph, node)``; a
:class:`GlobalOptimizer` (``apply(fgraph)``) becomes a whole-graph rewrite run once per phase;
:class:`TopoOptimizer` and :class:`EquilibriumOptimizer` run their local optimizers through the
engine's worklist (which already repeats until nothing changes).  Registration into the phases
(``optdb``, ``register_specialize``...) is in :mod:`opcore.compile.rewritedb`.

>>> import opcore, opcore.tensor as T
>>> from opcore.graph.fg import FunctionGraph
>>> x = T.dvector('x')
>>> @local_optimizer([T.Elemwise])
... def exp_to_expm1_plus_1(node):
...     if getattr(node.op.scalar_op, 'name', None) == 'exp':
...         return [T.expm1(node.inputs[0]) + 1]
>>> fg = FunctionGraph([x], [T.exp(x)])
>>> _ = TopoOptimizer(exp_to_expm1_plus_1).optimize(fg)
>>> sorted(n.op.scalar_op.name for n in fg.apply_nodes if hasattr(n.op, 'scalar_op'))
['add', 'expm1']
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, Sequence, TextIO

import numpy as np

from opcore.config import config
from opcore.graph.basic import Constant, Variable
from opcore.graph.fg import FunctionGraph
from opcore.graph.rewriting.engine import Rewrite, RewriteReport, _run_phase, rewrite_graph

__all__ = ["EquilibriumOptimizer", "GlobalOptimizer", "LocalOptGroup", "LocalOptimizer",
           "MergeOptimizer", "NavigatorOptimizer", "OpRemove", "OpSub", "Optimizer",
           "PatternSub", "SeqOptimizer", "TopoOptimizer", "as_rewrite", "in2out",
           "local_optimizer", "optimizer", "out2in"]


def _op_of(x: Any) -> Any:
    """``T.add`` is a function in opcore and an Elemwise in Theano: use the op it applies."""
    op = getattr(x, "op", None)
    return op if op is not None and callable(x) and not isinstance(x, type) else x


def _takes_fgraph(fn: Callable, plain: int) -> bool:
    """True when ``fn`` wants ``(fgraph, node)`` (PyTensor) rather than ``(node)`` (Theano)."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    except (TypeError, ValueError):
        return False
    return len(params) > plain


# -- base classes -----------------------------------------------------------------------------
class Optimizer:
    """Theano's ``Optimizer``/``GlobalOptimizer``: ``apply(fgraph)`` changes a whole graph.

    ``optimize(fgraph)`` (and calling the object) adds the features it needs
    (:meth:`add_requirements`) and applies it.
    """

    name: str | None = None

    def apply(self, fgraph: FunctionGraph) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.apply(fgraph) is not defined")

    def optimize(self, fgraph: FunctionGraph, *args: Any, **kwargs: Any) -> Any:
        self.add_requirements(fgraph)
        return self.apply(fgraph, *args, **kwargs)

    def __call__(self, fgraph: FunctionGraph) -> Any:
        return self.optimize(fgraph)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        """Attach the features ``apply`` relies on (Theano's ``ReplaceValidate`` is built in)."""

    def print_summary(self, stream: TextIO | None = None, level: int = 0, depth: int = -1) -> None:
        print(f"{' ' * level}{type(self).__name__} {self.name or ''} id={id(self)}", file=stream)

    def __str__(self) -> str:
        return self.name or type(self).__name__


GlobalOptimizer = Optimizer


class _FromFunctionOptimizer(Optimizer):
    def __init__(self, fn: Callable, requirements: Sequence[Callable] = ()) -> None:
        self.fn = fn
        self.requirements = tuple(requirements)
        self.name = getattr(fn, "__name__", None)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for req in self.requirements:
            req(fgraph)

    def apply(self, fgraph: FunctionGraph) -> Any:
        return self.fn(fgraph)


def optimizer(fn: Callable) -> Optimizer:
    """Decorator: a function ``fn(fgraph)`` as a global optimizer."""
    return _FromFunctionOptimizer(fn)


class LocalOptimizer:
    """Theano's ``LocalOptimizer``: ``transform(node)`` returns replacements for ``node``'s outputs.

    ``transform`` returns ``False``/``None`` (no change), a list aligned with ``node.outputs`` or a
    dict ``{old: new}``; PyTensor's signature ``transform(fgraph, node)`` is accepted too.
    ``tracks()`` lists the op instances or op classes it looks at (``None``: every node).
    """

    name: str | None = None

    def tracks(self) -> Sequence[Any] | None:
        return None

    def transform(self, node: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.transform(node) is not defined")

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        pass

    def _transform(self, fgraph: FunctionGraph, node: Any) -> Any:
        if not self._tracks_node(node):
            return None
        if _takes_fgraph(self.transform, 1):
            return self.transform(fgraph, node)  # type: ignore[call-arg]  # PyTensor form
        return self.transform(node)

    def _tracks_node(self, node: Any) -> bool:
        tracked = self.tracks()
        if not tracked:  # None, or Theano's "[]" of an optimizer that never set it: every node
            return True
        op = node.op
        for t in tracked:
            t = _op_of(t)
            if isinstance(t, type):
                if isinstance(op, t):
                    return True
            elif t == op:
                return True
        return False

    def print_summary(self, stream: TextIO | None = None, level: int = 0, depth: int = -1) -> None:
        print(f"{' ' * level}{type(self).__name__} {self} id={id(self)}", file=stream)

    def __str__(self) -> str:
        return self.name or getattr(self, "__name__", None) or type(self).__name__


class _FromFunctionLocalOptimizer(LocalOptimizer):
    def __init__(self, fn: Callable, tracks: Sequence[Any] | None = None,
                 requirements: Sequence[Callable] = ()) -> None:
        self.fn = fn
        self._tracks = None if tracks is None else list(tracks)
        self.requirements = tuple(requirements)
        self.name = self.__name__ = getattr(fn, "__name__", "local_optimizer")
        self.__doc__ = getattr(fn, "__doc__", None)

    def tracks(self) -> Sequence[Any] | None:
        return self._tracks

    def transform(self, *args: Any) -> Any:
        return self.fn(*args)

    def _transform(self, fgraph: FunctionGraph, node: Any) -> Any:
        if not self._tracks_node(node):
            return None
        if _takes_fgraph(self.fn, 1):
            return self.fn(fgraph, node)
        return self.fn(node)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for req in self.requirements:
            req(fgraph)

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def local_optimizer(tracks: Sequence[Any] | None, inplace: bool = False,
                    requirements: Sequence[Callable] = ()) -> Callable[[Callable], LocalOptimizer]:
    """Decorator: ``fn(node)`` (or ``fn(fgraph, node)``) as a :class:`LocalOptimizer`.

    ``tracks``: the op instances or op classes ``fn`` looks at, or ``None`` for every node.
    """
    if tracks is not None:
        if not isinstance(tracks, (list, tuple)):
            raise TypeError("local_optimizer(tracks): tracks must be a list of ops or op "
                            "classes, or None")
        if len(tracks) == 0:
            raise ValueError("local_optimizer([]) tracks nothing; use None to track every node")

    def deco(fn: Callable) -> LocalOptimizer:
        return _FromFunctionLocalOptimizer(fn, tracks, requirements)

    return deco


class LocalOptGroup(LocalOptimizer):
    """Several local optimizers tried in order on each node; the first that applies wins."""

    def __init__(self, *optimizers: Any, **kwargs: Any) -> None:
        if len(optimizers) == 1 and isinstance(optimizers[0], (list, tuple)):
            optimizers = tuple(optimizers[0])
        self.opts = [as_local(o) for o in optimizers]
        self.name = kwargs.get("name")

    def tracks(self) -> Sequence[Any] | None:
        out: list = []
        for o in self.opts:
            t = o.tracks()
            if t is None:
                return None
            out.extend(t)
        return out

    def transform(self, fgraph: FunctionGraph, node: Any) -> Any:  # type: ignore[override]  # PyTensor form
        for o in self.opts:
            res = o._transform(fgraph, node)
            if res:
                return res
        return None

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for o in self.opts:
            o.add_requirements(fgraph)


def as_local(obj: Any) -> LocalOptimizer:
    if isinstance(obj, LocalOptimizer):
        return obj
    if callable(obj):
        return _FromFunctionLocalOptimizer(obj)
    raise TypeError(f"{obj!r} is not a local optimizer")


# -- the usual local optimizers ---------------------------------------------------------------
class OpSub(LocalOptimizer):
    """Replace every application of ``op1`` by ``op2`` on the same inputs."""

    def __init__(self, op1: Any, op2: Any, transfer_tags: bool = True) -> None:
        self.op1, self.op2, self.transfer_tags = _op_of(op1), _op_of(op2), transfer_tags

    def tracks(self) -> list:
        return [self.op1]

    def transform(self, node: Any) -> Any:
        if node.op != self.op1:
            return False
        repl = self.op2.make_node(*node.inputs)
        return list(repl.outputs)

    def __str__(self) -> str:
        return f"{self.op1} -> {self.op2}"


class OpRemove(LocalOptimizer):
    """Remove every application of ``op`` (its output becomes its input)."""

    def __init__(self, op: Any) -> None:
        self.op = _op_of(op)

    def tracks(self) -> list:
        return [self.op]

    def transform(self, node: Any) -> Any:
        if node.op != self.op:
            return False
        return list(node.inputs)

    def __str__(self) -> str:
        return f"{self.op}(x) -> x"


class PatternSub(LocalOptimizer):
    """Rewrite a pattern of ops into another, as in Theano.

    A pattern is a tuple ``(op, sub_pattern, ...)``, a string (a variable; the same string must
    match the same variable), a constant (matches an equal constant), or a dict
    ``{'pattern': p, 'constraint': fn}``.  ``out_pattern`` is built by calling the ops on the
    matched variables.

    >>> import opcore.tensor as T
    >>> PatternSub((T.sub, 'x', 'x'), (T.zeros_like, 'x'))  # doctest: +ELLIPSIS
    <...PatternSub ...>
    """

    def __init__(self, in_pattern: Any, out_pattern: Any, allow_multiple_clients: bool = False,
                 skip_identities_fn: Callable | None = None, name: str | None = None,
                 pdb: bool = False, tracks: Sequence[Any] = (),
                 get_nodes: Callable | None = None, values_eq_approx: Callable | None = None
                 ) -> None:
        head = in_pattern["pattern"] if isinstance(in_pattern, dict) else in_pattern
        if not isinstance(head, (tuple, list)):
            raise TypeError("PatternSub: in_pattern must start with an op: (op, ...)")
        self.in_pattern = in_pattern
        self.out_pattern = out_pattern
        self.op = _op_of(head[0])
        self.allow_multiple_clients = allow_multiple_clients
        self.skip_identities_fn = skip_identities_fn
        self.name = name
        self._tracks = list(tracks) if tracks else None
        self.values_eq_approx = values_eq_approx

    def tracks(self) -> list:
        return self._tracks or [self.op]

    def transform(self, fgraph: FunctionGraph, node: Any) -> Any:  # type: ignore[override]  # PyTensor form
        if self._tracks is None and node.op != self.op:
            return False
        bound: dict = {}
        if not self._match(fgraph, self.in_pattern, node.outputs[0], bound, top=True):
            return False
        new = self._build(self.out_pattern, bound)
        if not isinstance(new, Variable):
            return False
        if self.values_eq_approx is not None:
            new.tag.values_eq_approx = self.values_eq_approx
        return [new] + [None] * (len(node.outputs) - 1)

    def _match(self, fgraph: Any, pattern: Any, var: Variable, bound: dict,
               top: bool = False) -> bool:
        if isinstance(pattern, dict):
            constraint = pattern.get("constraint", lambda v: True)
            return self._match(fgraph, pattern["pattern"], var, bound, top) and bool(
                constraint(var))
        if isinstance(pattern, (tuple, list)):
            node = var.owner
            if (node is None or node.op != _op_of(pattern[0])
                    or len(node.inputs) != len(pattern) - 1):
                return False
            if not top and not self.allow_multiple_clients and fgraph is not None:
                clients = fgraph.clients.get(var, ())
                if len(clients) > 1:
                    return False
            return all(self._match(fgraph, p, v, bound) for p, v in zip(pattern[1:],
                                                                           node.inputs))
        if isinstance(pattern, str):
            if pattern in bound:
                return bound[pattern] is var or _same_constant(bound[pattern], var)
            bound[pattern] = var
            return True
        if isinstance(pattern, Variable):
            return pattern is var or _same_constant(pattern, var)
        # a Python/NumPy constant
        if isinstance(var, Constant):
            try:
                return bool(np.all(np.asarray(var.data) == pattern))
            except (TypeError, ValueError):
                return False
        return False

    def _build(self, pattern: Any, bound: dict) -> Any:
        if isinstance(pattern, (tuple, list)):
            args = [self._build(p, bound) for p in pattern[1:]]
            return pattern[0](*args)
        if isinstance(pattern, dict):
            return self._build(pattern["pattern"], bound)
        if isinstance(pattern, str):
            return bound[pattern]
        return pattern

    def __str__(self) -> str:
        if self.name:
            return self.name
        return f"{_pat_str(self.in_pattern)} -> {_pat_str(self.out_pattern)}"

    def __repr__(self) -> str:
        return f"<PatternSub {self}>"


def _pat_str(p: Any) -> str:
    if isinstance(p, (tuple, list)):
        return f"{p[0]}({', '.join(_pat_str(q) for q in p[1:])})"
    if isinstance(p, dict):
        return f"{_pat_str(p['pattern'])} subject to {p.get('constraint')}"
    return str(p)


def _same_constant(a: Variable, b: Variable) -> bool:
    if isinstance(a, Constant) and isinstance(b, Constant):
        try:
            return a.type == b.type and a.signature() == b.signature()
        except Exception:
            return False
    return False


# -- global optimizers running local ones through the engine ---------------------------------
def as_rewrite(opt: Any, name: str | None = None) -> Callable:
    """The engine rewrite ``fn(fgraph, node)`` for a Theano optimizer object or function.

    A :class:`LocalOptimizer` (or a ``fn(node)``) becomes a node rewrite carrying ``tracks``;
    an :class:`Optimizer` becomes a whole-graph rewrite (``fn.graph_rewrite``).
    """
    if isinstance(opt, Optimizer):
        def graph_fn(fgraph: FunctionGraph, node: Any) -> Any:
            opt.add_requirements(fgraph)
            opt.apply(fgraph)
            return True

        graph_fn.graph_rewrite = True  # type: ignore[attr-defined]
        graph_fn.theano_optimizer = opt  # type: ignore[attr-defined]
        graph_fn.__name__ = name or str(opt)
        return graph_fn
    lopt = as_local(opt)

    def node_fn(fgraph: FunctionGraph, node: Any) -> Any:
        res = lopt._transform(fgraph, node)
        if isinstance(res, dict):
            res = {k: v for k, v in res.items() if k != "remove"}
        return res

    tracked = lopt.tracks()
    if tracked:
        keys: list = []
        for t in tracked:
            t = _op_of(t)
            if isinstance(t, type):
                keys.append(t)
            else:
                sname = getattr(getattr(t, "scalar_op", None), "name", None)
                keys.append(sname if sname is not None else type(t))
        node_fn.tracks = tuple(keys)  # type: ignore[attr-defined]
    node_fn.theano_optimizer = lopt  # type: ignore[attr-defined]
    node_fn.__name__ = name or str(lopt)
    return node_fn


def _raise_errors() -> bool:
    """Theano's optimizer classes read ``config.on_opt_error`` when they run, as Theano's do
    (opcore's ``config.rewrite_raise`` too); they hand the setting to the engine."""
    return bool(config.rewrite_raise) or config.on_opt_error == "raise"


def _run_locals(fgraph: FunctionGraph, lopts: Sequence[LocalOptimizer], name: str,
                reverse: bool = False) -> bool:
    """Run local optimizers to a fixed point with the engine's worklist; True if any fired."""
    for lo in lopts:
        lo.add_requirements(fgraph)
    fns = [as_rewrite(lo) for lo in lopts]
    rules = [Rewrite(str(lo), fn, (), name, tracks=getattr(fn, "tracks", None))
             for lo, fn in zip(lopts, fns)]
    report = RewriteReport()
    _run_phase(fgraph, "fusion" if reverse else name, rules, report, _raise_errors(), False)
    return any(r.fired for r in rules)


class NavigatorOptimizer(Optimizer):
    """Applies a local optimizer over the graph (base of :class:`TopoOptimizer`)."""

    def __init__(self, local_opt: Any, ignore_newtrees: bool = False,
                 failure_callback: Callable | None = None, order: str = "in_to_out") -> None:
        self.local_opt = as_local(local_opt)
        self.ignore_newtrees = ignore_newtrees
        self.failure_callback = failure_callback
        self.order = order

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        self.local_opt.add_requirements(fgraph)

    def apply(self, fgraph: FunctionGraph) -> bool:
        return _run_locals(fgraph, [self.local_opt], "topo", self.order == "out_to_in")

    def __str__(self) -> str:
        return self.name or f"{type(self).__name__}({self.local_opt})"


class TopoOptimizer(NavigatorOptimizer):
    """Apply a local optimizer to every node in topological order (``order``: ``'in_to_out'``
    or ``'out_to_in'``), revisiting the nodes a replacement creates."""


def in2out(*local_opts: Any, **kwargs: Any) -> TopoOptimizer:
    """``TopoOptimizer`` over the given local optimizers, inputs first."""
    name = kwargs.pop("name", None)
    lopt = local_opts[0] if len(local_opts) == 1 else LocalOptGroup(*local_opts)
    opt = TopoOptimizer(as_local(lopt), order="in_to_out", **kwargs)
    opt.name = name
    return opt


def out2in(*local_opts: Any, **kwargs: Any) -> TopoOptimizer:
    """``TopoOptimizer`` over the given local optimizers, outputs first."""
    name = kwargs.pop("name", None)
    lopt = local_opts[0] if len(local_opts) == 1 else LocalOptGroup(*local_opts)
    opt = TopoOptimizer(as_local(lopt), order="out_to_in", **kwargs)
    opt.name = name
    return opt


class EquilibriumOptimizer(Optimizer):
    """Apply local (and global) optimizers until none changes the graph.

    ``max_use_ratio`` is accepted; the engine's own budget stops rewrites that undo each other.
    """

    def __init__(self, optimizers: Sequence[Any], failure_callback: Callable | None = None,
                 ignore_newtrees: bool = True, tracks_on_change_inputs: bool = False,
                 max_use_ratio: float | None = None, final_optimizers: Sequence[Any] = (),
                 cleanup_optimizers: Sequence[Any] = ()) -> None:
        self.local_optimizers = [o for o in optimizers if not isinstance(o, Optimizer)]
        self.global_optimizers = [o for o in optimizers if isinstance(o, Optimizer)]
        self.final_optimizers = list(final_optimizers)
        self.cleanup_optimizers = list(cleanup_optimizers)
        self.max_use_ratio = max_use_ratio

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for o in self.local_optimizers + self.global_optimizers:
            o.add_requirements(fgraph)

    def apply(self, fgraph: FunctionGraph) -> bool:
        lopts = [as_local(o) for o in self.local_optimizers]
        changed_any = False
        for _ in range(100):
            changed = False
            for g in self.global_optimizers:
                before = len(fgraph.apply_nodes), tuple(fgraph.outputs)
                g.apply(fgraph)
                changed |= before != (len(fgraph.apply_nodes), tuple(fgraph.outputs))
            if lopts:
                changed |= _run_locals(fgraph, lopts, "equilibrium")
            for f in self.final_optimizers + self.cleanup_optimizers:
                f.apply(fgraph) if isinstance(f, Optimizer) else _run_locals(
                    fgraph, [as_local(f)], "final")
            changed_any |= changed
            if not changed:
                break
        return changed_any


class SeqOptimizer(Optimizer, list):
    """Apply optimizers one after the other."""

    def __init__(self, *opts: Any, **kwargs: Any) -> None:
        if len(opts) == 1 and isinstance(opts[0], (list, tuple)):
            opts = tuple(opts[0])
        list.__init__(self, opts)
        self.failure_callback = kwargs.get("failure_callback")

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for o in self:
            o.add_requirements(fgraph)

    def apply(self, fgraph: FunctionGraph) -> None:
        for o in self:
            if isinstance(o, Optimizer):
                o.apply(fgraph)
            else:
                _run_locals(fgraph, [as_local(o)], "seq")

    __hash__ = object.__hash__  # type: ignore[assignment]
    __eq__ = object.__eq__


class MergeOptimizer(Optimizer):
    """Merge identical subgraphs (opcore's ``merge`` rewrite, run once over the graph)."""

    def apply(self, fgraph: FunctionGraph) -> tuple:
        """Merge; returns Theano's profile tuple ``(nb_fail, replace_time, validate_time,
        callback_time, callbacks_time, nb_merged, nb_constant)`` (times measured as one)."""
        before = len(fgraph.apply_nodes)
        t0 = time.perf_counter()
        rewrite_graph(fgraph, include=("merge",), raise_errors=_raise_errors())
        return (0, time.perf_counter() - t0, None, None, {}, before - len(fgraph.apply_nodes), 0)
