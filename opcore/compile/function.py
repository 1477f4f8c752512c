"""``function``: compile symbolic inputs/outputs into a callable."""

from __future__ import annotations

import contextvars
import copy
import time
import warnings
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, as_symbolic, Constant, Variable
from opcore.graph import rewriting  # the engine loads at the first rewrite
from opcore.graph.fg import FunctionGraph
from opcore.graph.traversal import clone_replace, graph_inputs
from opcore.compile.io import (FunctionContainers, FunctionValues, In, InputState, Out,
                               convert_function_input)
from opcore.compile.mode import Mode, get_mode, rewrite_settings
from opcore.compile.progress import compile_progress
from opcore.compile.sharedvalue import SharedVariable
from opcore.compile.vm import VM, ProfileStats

if TYPE_CHECKING:
    from opcore.compile.linker import Linker

#: ``function``'s ``updates`` / ``givens``: a dict or (variable, new value) pairs; a value is a
#: variable or anything ``as_tensor_variable`` takes
Pairs = Mapping[Variable, Any] | Iterable[tuple[Variable, Any]]


#: the Mode of the function being linked, so inner graphs (scan) compile with the same one
LINKING_MODE: contextvars.ContextVar = contextvars.ContextVar("opcore_linking_mode", default=None)


class UnusedInputError(ValueError):
    """An input of ``function`` that no output depends on (see ``on_unused_input``)."""


class MissingInputError(ValueError):
    """An output depends on a variable that is neither an input, a constant nor shared."""


def function(inputs: Sequence[Variable | In | Sequence[Any]],
             outputs: Variable | Out | Sequence[Variable | Out] | None = None,
             mode: str | Mode | None = None, updates: Pairs | None = None,
             givens: Pairs | None = None,
             no_default_updates: bool | Sequence[Variable] = False, accept_inplace: bool = False,
             name: str | None = None, rebuild_strict: bool = True,
             allow_input_downcast: bool | None = None, profile: bool | ProfileStats | None = None,
             on_unused_input: str | None = None) -> Function:
    """Compile a callable computing ``outputs`` from ``inputs``.

    ``outputs`` may be one variable (one value is returned) or a list (a list is returned).
    ``updates`` (pairs or a dict) assign new values to shared variables after each call;
    ``givens`` substitute variables at compile time.

    >>> import opcore, opcore.tensor as T
    >>> x, y = T.dscalars('x, y')
    >>> f = opcore.function([x, y], x + y)
    >>> float(f(2, 3))
    5.0
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of variables, got {type(inputs).__name__}"
                        " (wrap a single input in a list: function([x], ...))")
    specs = [convert_function_input(inp) for inp in inputs]
    maker = FunctionMaker(specs, outputs, mode=mode, updates=updates, givens=givens,
                          no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                          name=name, rebuild_strict=rebuild_strict,
                          allow_input_downcast=allow_input_downcast, profile=profile,
                          on_unused_input=on_unused_input)
    return maker.create()


def _as_pairs(updates: Pairs | None, what: str) -> list[tuple[Variable, Any]]:
    if updates is None:
        return []
    if isinstance(updates, dict):
        if not isinstance(updates, OrderedDict) and len(updates) > 1 and what == "givens":
            pass
        return list(updates.items())
    pairs: list[Any] = list(updates)
    for p in pairs:
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs; got {p!r}")
    return pairs


def _update_type_fix(want: Any, got: Any) -> str:
    """What would make an update of type ``got`` fit a shared variable of type ``want``."""
    w_nd, g_nd = getattr(want, "ndim", None), getattr(got, "ndim", None)
    if w_nd is not None and g_nd is not None and w_nd != g_nd:
        return (f"an update must keep the variable's number of dimensions ({w_nd}), this one has "
                f"{g_nd}: check the expression's shape (a reduction or indexing may be off)")
    w_dt, g_dt = getattr(want, "dtype", None), getattr(got, "dtype", None)
    if w_dt is not None and w_dt != g_dt:
        return f"cast it: T.cast(expr, {w_dt!r})"
    return ("its broadcastable pattern differs: use T.patternbroadcast(expr, "
            f"{getattr(want, 'broadcastable', ())}) or T.specify_shape")


def _value_as_variable(target: Variable, value: Any) -> Variable:
    """A plain value given for ``target`` (an update or a given) as a constant variable."""
    if hasattr(target.type, "dtype"):
        return as_symbolic(value)
    return target.type.make_constant(value)


class FunctionMaker:
    """Builds the FunctionGraph of a ``function`` call, rewrites it and links it."""

    def __init__(self, inputs: Sequence[In],
                 outputs: Variable | Out | Sequence[Variable | Out] | None,
                 mode: str | Mode | None = None, updates: Pairs | None = None,
                 givens: Pairs | None = None,
                 no_default_updates: bool | Sequence[Variable] = False,
                 accept_inplace: bool = False, name: str | None = None,
                 rebuild_strict: bool = True, allow_input_downcast: bool | None = None,
                 profile: bool | ProfileStats | None = None,
                 on_unused_input: str | None = None) -> None:
        t0 = time.perf_counter()
        self.spec: dict[str, Any] = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                         no_default_updates=no_default_updates, name=name,
                         allow_input_downcast=allow_input_downcast, profile=profile,
                         on_unused_input=on_unused_input)
        self.name = name
        self.mode = get_mode(mode)
        on_unused_input = on_unused_input or config.on_unused_input
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
        # -- inputs ----------------------------------------------------------------------------
        ins = []
        for i, inp in enumerate(inputs):
            spec = inp if isinstance(inp, In) else In(inp)
            v = spec.variable
            if not isinstance(v, Variable):
                raise TypeError(f"function input {i} is {type(v).__name__} ({v!r}), not a symbolic variable")
            if isinstance(v, Constant):
                raise TypeError(f"function input {i} ({v}) is a constant; inputs must be free variables")
            # an input computed from other variables cuts the graph there (Theano, PyTensor):
            # the value given replaces that subgraph (FunctionGraph clones it as a root)
            if isinstance(v, SharedVariable):
                raise TypeError(f"function input {i}: shared variable {v} cannot be an explicit input; "
                                "it is used implicitly (or substitute it with givens)")
            if spec.allow_downcast is None:
                spec.allow_downcast = allow_input_downcast
            ins.append(spec)
        seen = set()
        for i, s in enumerate(ins):
            if s.variable in seen:
                raise ValueError(f"function input {i} ({s.variable}) is given more than once")
            seen.add(s.variable)
        # -- outputs ---------------------------------------------------------------------------
        self.single = False
        if outputs is None:
            outs = []
        elif isinstance(outputs, (list, tuple)):
            outs = list(outputs)
        else:
            outs = [outputs]
            self.single = True
        out_specs = []
        for i, o in enumerate(outs):
            ospec = o if isinstance(o, Out) else Out(o)
            v = ospec.variable
            if not isinstance(v, Variable):
                try:
                    v = as_symbolic(v)
                except TypeError:
                    raise TypeError(f"function output {i} is {type(v).__name__}, not a variable") from None
            ospec.variable = v
            out_specs.append(ospec)
        # -- updates ---------------------------------------------------------------------------
        upd: list[tuple[SharedVariable, Variable]] = []
        for sv, u in _as_pairs(updates, "updates"):
            if not isinstance(sv, SharedVariable):
                raise TypeError(f"updates: {sv} is not a shared variable; only shared variables can be updated")
            if not isinstance(u, Variable):
                u = _value_as_variable(sv, u)
            if u.type != sv.type:
                conv = sv.type.convert_variable(u) if hasattr(sv.type, "convert_variable") else None
                if conv is None:
                    raise TypeError(
                        f"updates: the update of shared variable {sv.name or sv} has type {u.type}, "
                        f"but the variable has type {sv.type}; {_update_type_fix(sv.type, u.type)}"
                    )
                u = conv
            upd.append((sv, u))
        if len({id(sv) for sv, _ in upd}) != len(upd):
            raise ValueError("updates: a shared variable is updated twice in one function")
        # -- givens ----------------------------------------------------------------------------
        giv = []
        for old, new in _as_pairs(givens, "givens"):
            if not isinstance(old, Variable):
                raise TypeError(f"givens: {old!r} is not a variable")
            if not isinstance(new, Variable):
                new = _value_as_variable(old, new)
            if old.type != new.type:
                conv = old.type.convert_variable(new) if rebuild_strict else None
                if conv is None and rebuild_strict:
                    raise TypeError(f"givens: {old} has type {old.type} but its replacement {new} has {new.type}")
                new = conv if conv is not None else new
            giv.append((old, new))
        in_upd = _input_updates(ins)
        all_outs = [s.variable for s in out_specs] + [u for _, u in upd] + [u for _, u in in_upd]
        if giv:
            all_outs = clone_replace(all_outs, giv, strict=rebuild_strict)
        in_upd_vars = all_outs[len(all_outs) - len(in_upd):]
        del all_outs[len(all_outs) - len(in_upd):]
        # default updates of shared variables
        if not no_default_updates:
            updated = {s for s, _ in upd}
            for v in graph_inputs(all_outs + in_upd_vars):
                if not isinstance(v, SharedVariable):
                    continue
                du = getattr(v, "default_update", None)
                if du is not None and v not in updated and (
                        no_default_updates is False or v not in no_default_updates):
                    if giv:  # e.g. a random draw whose size is the shape of a given input
                        du = clone_replace([du], giv, strict=rebuild_strict)[0]
                    upd.append((v, du))
                    all_outs.append(du)
                    updated.add(v)
        n_out = len(out_specs)
        #: (input index, output position) of each In(update=...): the value stored for the input
        self.input_updates = [(i, len(all_outs) + j) for j, (i, _) in enumerate(in_upd)]
        all_outs += in_upd_vars
        # -- free variables ------------------------------------------------------------------------
        in_vars = [s.variable for s in ins]
        roots = graph_inputs(all_outs, in_vars)
        in_set = set(in_vars)
        shared_vars = []
        for r in roots:
            if r in in_set or isinstance(r, Constant):
                continue
            if isinstance(r, SharedVariable):
                shared_vars.append(r)
                continue
            if r.owner is None:
                raise MissingInputError(
                    f"an output depends on {r} ({r.type}), which is not among the inputs "
                    f"{[str(v) for v in in_vars]}; add it to the inputs or use givens"
                )
        used = set(roots)
        for i, s in enumerate(ins):
            if s.variable not in used:
                msg = (f"function input {i} ({s.variable}) is not used by any output; pass "
                       "on_unused_input='ignore' (or 'warn') to function() if this is intended")
                if on_unused_input == "raise":
                    raise UnusedInputError(msg)
                if on_unused_input == "warn":
                    warnings.warn(msg, stacklevel=4)
        for sv, _ in upd:
            if sv not in shared_vars:
                shared_vars.append(sv)
        self.inputs = ins
        self.outputs = out_specs
        self.updates = upd
        self.shared_vars = shared_vars
        fg_inputs = in_vars + shared_vars
        fgraph = FunctionGraph(fg_inputs, all_outs, clone=True)
        fgraph.n_user_outputs = n_out
        fgraph.update_mapping = {n_out + k: len(in_vars) + shared_vars.index(s)
                                 for k, (s, _) in enumerate(upd)}
        protected = [fgraph.inputs[i] for i, s in enumerate(ins) if not s.mutable]
        # shared variables whose value is not replaced by an update must not be destroyed
        updated_idx = set(fgraph.update_mapping.values())
        protected += [fgraph.inputs[len(in_vars) + k] for k in range(len(shared_vars))
                      if len(in_vars) + k not in updated_idx]
        fgraph.protected_inputs = protected
        self.fgraph = fgraph
        self.profile = ProfileStats(name) if (profile or config.profile) else None
        t1 = time.perf_counter()
        self.backend = self.mode.select_backend()
        config.check_unknown()  # plugins are loaded now: a flag nobody declared is a typo

        include = self.mode.include + tuple(self.backend.requires)
        exclude = self.mode.exclude + tuple(self.backend.incompatible)
        # as in Theano, rewrites build their nodes without test values
        with config.change_flags(compute_test_value="off"):
            rewriting.rewrite_graph(fgraph, include=include, exclude=exclude,
                                    require=self.mode.require, backend=self.backend.name,
                                    **rewrite_settings())
        self.rewrite_time = time.perf_counter() - t1
        self.compile_start = t0

    def create(self) -> Function:
        t0 = time.perf_counter()
        fn = Function(self)
        if self.profile is not None:
            self.profile.rewrite_time = self.rewrite_time
            self.profile.link_time = time.perf_counter() - t0
            self.profile.compile_time = time.perf_counter() - self.compile_start
        return fn

    def linker(self) -> Linker:
        mode = self.mode
        if mode.linker_obj is not None:
            return mode.linker_obj
        if self.backend.linker_factory is None:
            raise RuntimeError(f"backend {self.backend.name!r} provides no linker")
        linker = self.backend.linker_factory(mode)
        wrap = getattr(mode, "wrap_linker", None)  # MonitorMode, NanGuardMode
        return wrap(linker) if wrap is not None else linker


def _view_roots(fgraph: FunctionGraph, var: Variable) -> list[Variable]:
    """Variables whose buffer ``var`` may share (following view_map/destroy_map)."""
    out = [var]
    stack = [var]
    while stack:
        v = stack.pop()
        node = v.owner
        if node is None:
            continue
        op = node.op
        idx = node.outputs.index(v)
        for m in (getattr(op, "view_map", {}) or {}, getattr(op, "destroy_map", {}) or {}):
            for i in m.get(idx, ()):
                src = node.inputs[i]
                out.append(src)
                stack.append(src)
    return out


def _input_updates(ins: Sequence[In]) -> list[tuple[int, Variable]]:
    """(index, update variable) for each ``In(x, update=expr)``, with the update's type checked."""
    out = []
    for i, spec in enumerate(ins):
        if spec.update is None:
            continue
        v = spec.variable
        u = spec.update if isinstance(spec.update, Variable) else _value_as_variable(v, spec.update)
        if u.type != v.type:
            conv = v.type.convert_variable(u) if hasattr(v.type, "convert_variable") else None
            if conv is None:
                raise TypeError(f"function input {i} ({v}): its update has type {u.type}, but the "
                                f"input has type {v.type}")
            u = conv
        out.append((i, u))
    return out


def _destroyed_roots(fgraph: FunctionGraph) -> list[Variable]:
    """The graph inputs (explicit or shared) whose buffer some node overwrites in place."""
    inputs = set(fgraph.inputs)
    out = []
    for node in fgraph.toposort():
        for idxs in (getattr(node.op, "destroy_map", None) or {}).values():
            for i in idxs:
                for r in _view_roots(fgraph, node.inputs[i]):
                    if r in inputs and r not in out:
                        out.append(r)
    return out


def _may_self_overlap(a: np.ndarray) -> bool:
    """Whether two elements of ``a`` may share memory (a stride-0 or overlapping view), checked
    conservatively from the strides: writing in place through such a view is wrong."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return False
    extent = a.itemsize
    for stride, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n > 1):
        if stride < extent:
            return True
        extent = stride * (n - 1) + extent
    return False


def copy_unsafe_destroyed(destroyed: list[list[Any]], cells: list[list[Any]]) -> None:
    """Before a call: each value in the ``destroyed`` cells (inputs the function overwrites in
    place) is replaced by a copy when it is read-only, may overlap itself, or may share memory
    with the value of another cell in ``cells`` (another input or a shared value), so the
    function never writes to memory it does not own and never reads an input it has already
    overwritten.  Both backends see the same values."""
    for cell in destroyed:
        a = cell[0]
        if not isinstance(a, np.ndarray) or a.size == 0:
            continue
        flags = a.flags
        unsafe = not flags.writeable or not flags.aligned or _may_self_overlap(a)
        if not unsafe:
            ra = _owner(a)
            for other in cells:
                b = other[0]
                if other is cell or not isinstance(b, np.ndarray):
                    continue
                rb = _owner(b)
                # arrays owning their data, or views of different owners, cannot overlap;
                # views of one owner, or of a foreign buffer, are checked by address range
                if (rb is ra or ra.base is not None or rb.base is not None) and \
                        np.may_share_memory(a, b):
                    unsafe = True
                    break
        if unsafe:
            cell[0] = np.array(a, copy=True, order="K")


def _owner(a: np.ndarray) -> np.ndarray:
    """The ndarray at the end of ``a``'s chain of views (its ``base`` is None, or a buffer that
    is not an ndarray)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class Function:
    """A compiled function: call it with values for its inputs (positionally or by name)."""

    def __init__(self, maker: FunctionMaker) -> None:
        self.maker = maker
        self.name = maker.name
        fgraph = maker.fgraph
        self.profile = maker.profile
        storage_map: dict[Variable, list[Any]] = {}
        for v in fgraph.variables:
            if isinstance(v, Constant):
                storage_map[v] = [v.data]
        n_in = len(maker.inputs)
        for k, sv in enumerate(maker.shared_vars):
            storage_map[fgraph.inputs[n_in + k]] = sv.container
        for v in fgraph.inputs[:n_in]:
            storage_map[v] = [None]
        order = fgraph.toposort()
        for node in order:
            for v in node.inputs:
                if v not in storage_map:
                    storage_map[v] = [v.data] if isinstance(v, Constant) else [None]
            for v in node.outputs:
                storage_map.setdefault(v, [None])
        for v in fgraph.outputs:
            storage_map.setdefault(v, [getattr(v, "data", None)])
        linker = maker.linker()
        self.linker = linker
        token = LINKING_MODE.set(maker.mode)  # inner graphs (scan) compile with this mode
        try:
            for node in order:
                node.op.prepare_node(node, storage_map, None)
            thunks = [linker.make_thunk(node, storage_map) for node in order]
            what = f"{self.name or 'a function'} ({len(order)} nodes, backend {linker.backend_name})"
            with compile_progress(what):
                program = linker.make_program(fgraph, order, storage_map)
        finally:
            LINKING_MODE.reset(token)
        if self.profile is not None:
            self.profile.placement = {node: self.placement(node) for node in order}
        lazy_nodes = [n for n in order if getattr(n.op, "lazy", False)]
        self.vm = VM(fgraph, order, thunks, storage_map, program, self.profile, lazy_nodes)
        self._run = self.vm.run
        self.storage_map = storage_map
        self.input_cells = [storage_map[v] for v in fgraph.inputs[:n_in]]
        self.input_names: dict[str, int] = {}
        for i, s in enumerate(maker.inputs):
            if s.name:
                self.input_names.setdefault(s.name, i)
        #: per input, a cell holding its stored value (In(value=...)); f[x] reads and sets it
        self.input_storage = [InputState(s) for s in maker.inputs]
        self.filters = [self._make_filter(i, s, v) for i, (s, v) in
                        enumerate(zip(maker.inputs, fgraph.inputs))]
        n_out = fgraph.n_user_outputs
        self.output_cells = [storage_map[v] for v in fgraph.outputs[:n_out]]
        # outputs sharing memory with an input, constant, shared value or another output are copied
        protected_roots = set(fgraph.inputs) | {v for v in storage_map if isinstance(v, Constant)}
        copy_flags = []
        seen: set[Variable] = set()
        no_recycle: set[Variable] = set()
        for spec, v in zip(maker.outputs, fgraph.outputs[:n_out]):
            roots = _view_roots(fgraph, v)
            alias = any(r in protected_roots for r in roots) or any(r in seen for r in roots)
            copy_flags.append(alias and not spec.borrow or (alias and v in seen))
            seen.update(roots)
            if not spec.borrow:  # borrow=True: the next call may overwrite the returned buffer
                no_recycle.update(r for r in roots if r not in protected_roots)
        self.copy_flags = copy_flags
        self.any_copy = any(copy_flags)
        upd_cells = []
        for k, (sv, _) in enumerate(maker.updates):
            v = fgraph.outputs[n_out + k]
            upd_cells.append((sv.container, storage_map[v]))
            no_recycle.update(r for r in _view_roots(fgraph, v) if r not in protected_roots)
        self._shared_update_cells = upd_cells
        self._input_update_cells = []
        for i, pos in maker.input_updates:  # In(x, update=...): the stored value is replaced
            v = fgraph.outputs[pos]
            self._input_update_cells.append((i, storage_map[v]))
            no_recycle.update(r for r in _view_roots(fgraph, v) if r not in protected_roots)
        self._link_input_storage()
        self.destroyed_cells = [storage_map[v] for v in _destroyed_roots(fgraph)]
        self.value_cells = [storage_map[v] for v in fgraph.inputs]
        self.recycle_cells = [storage_map[v] for v in no_recycle]
        self.n_in = n_in
        self.single = maker.single
        # cells emptied after each call: returned buffers must not be reused by the next call
        self.clear_cells = self.recycle_cells + self.input_cells
        self._trusted_call: Any = None
        self._trust_input = False

    @property
    def trust_input(self) -> bool:
        """True: inputs are stored as given, without type checks or conversion (Theano's
        ``trust_input``: a value of the wrong dtype or rank is then undefined behaviour).  A call
        with every input given positionally then takes a shorter path built for this function."""
        return self._trust_input

    @trust_input.setter
    def trust_input(self, value: bool) -> None:
        self._trust_input = bool(value)
        self._trusted_call = self._make_trusted_call() if self._trust_input else None

    def _make_trusted_call(self) -> Any:
        """``call(*args)`` doing what :meth:`__call__` does for trusted positional inputs, with
        everything fixed at link time looked up once; ``None`` when the general path is needed
        (profiling, inputs the graph destroys, outputs that must be copied)."""
        if self.profile is not None or self.destroyed_cells or self.any_copy:
            return None
        input_cells = tuple(self.input_cells)
        run = self._run
        clear_cells = tuple(self.clear_cells)
        update_cells = tuple(self.update_cells)
        output_cells = tuple(self.output_cells)
        single_cell = output_cells[0] if self.single else None
        mode = self.maker.mode
        perf_counter = time.perf_counter

        # straight-line code for this function's number of inputs and cells (no loops, every
        # name a closure constant), the way namedtuple and dataclasses generate their methods
        n_in, n_clear = len(input_cells), len(clear_cells)
        args = ", ".join(f"a{i}" for i in range(n_in))
        lines = [f"def call({args}):", "    t_call = perf_counter()"]
        lines += [f"    i{i}[0] = a{i}" for i in range(n_in)]
        lines += ["    run()",
                  "    outs = single_cell[0]" if single_cell is not None
                  else "    outs = [c[0] for c in output_cells]"]
        if update_cells:
            lines += ["    new_vals = [cell[0] for _, cell in update_cells]",
                      "    for (shared_cell, _), val in zip(update_cells, new_vals):",
                      "        shared_cell[0] = val"]
        lines += [f"    k{j}[0] = None" for j in range(n_clear)]
        lines += ["    mode.call_time += perf_counter() - t_call", "    return outs"]
        scope = {"perf_counter": perf_counter, "run": run, "single_cell": single_cell,
                 "output_cells": output_cells, "update_cells": update_cells, "mode": mode,
                 **{f"i{i}": c for i, c in enumerate(input_cells)},
                 **{f"k{j}": c for j, c in enumerate(clear_cells)}}
        exec("\n".join(lines), scope)  # noqa: S102  (source built above from fixed pieces)
        return scope["call"]

    def _link_input_storage(self) -> None:
        """Point the update step at the current stored-value cells (after ``copy``)."""
        self.update_cells = self._shared_update_cells + [
            (self.input_storage[i].storage, cell) for i, cell in self._input_update_cells]
        if getattr(self, "_trust_input", False):
            self._trusted_call = self._make_trusted_call()

    def _make_filter(self, i: int, spec: In, var: Variable) -> Callable[[Any], Any]:
        t = var.type
        downcast = spec.allow_downcast
        strict = spec.strict
        fname = self.name
        name = spec.name or str(spec.variable)
        # the ndarray fast path: types whose filter keeps such ndarrays as they are (tensors)
        simple_dt = t.filter_passthrough_dtype
        nd = getattr(t, "ndim", None)
        static = any(s is not None and s != 1 for s in getattr(t, "shape", ()) or ())
        static_b = any(getattr(t, "broadcastable", ()) or ())
        ndarray = np.ndarray

        def slow(a: Any) -> Any:
            try:
                v = t.filter(a, strict=strict, allow_downcast=downcast)
            except (TypeError, ValueError) as exc:
                where = f" of function {fname!r}" if fname else ""
                raise type(exc)(f"bad input argument {i} ({name!r}){where}: {exc}") from None
            if not spec.borrow and v is a and isinstance(v, ndarray) and spec.mutable:
                v = v.copy()
            return v

        if simple_dt is None or static or static_b:
            return slow

        # a 0-d input given as a NumPy scalar of its exact dtype (np.float64(1.5)), or a Python
        # float for float64, needs no checks either: it only becomes a 0-d array
        scalar_types = ((simple_dt.type,) + ((float,) if simple_dt == np.float64 else ())
                        if nd == 0 else ())
        asarray = np.asarray

        def fast(a: Any) -> Any:
            ta = type(a)
            if ta is ndarray and a.dtype == simple_dt and a.ndim == nd:
                return a
            if ta in scalar_types:
                return asarray(a, dtype=simple_dt)
            return slow(a)
        return fast

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        trusted = self._trusted_call
        if trusted is not None and not kwargs and len(args) == self.n_in:
            return trusted(*args)
        t_call = time.perf_counter()
        if kwargs or len(args) != self.n_in:
            args = self._bind(args, kwargs)
        if self.trust_input:
            # the caller guarantees values of the inputs' types: stored as given, unchecked
            for cell, a in zip(self.input_cells, args):
                cell[0] = a
        else:
            for cell, filt, a in zip(self.input_cells, self.filters, args):
                cell[0] = filt(a)
        if self.destroyed_cells:
            copy_unsafe_destroyed(self.destroyed_cells, self.value_cells)
        if self.profile is not None:
            t0 = time.perf_counter()
            self._run()
            self.profile.call_time += time.perf_counter() - t0
        else:
            self._run()
        if self.single and not self.any_copy:
            outs = self.output_cells[0][0]
        elif self.any_copy:
            outs = [np.array(c[0], copy=True) if (cp and isinstance(c[0], np.ndarray)) else c[0]
                    for c, cp in zip(self.output_cells, self.copy_flags)]
            if self.single:
                outs = outs[0]
        else:
            outs = [c[0] for c in self.output_cells]
        if self.update_cells:
            # read every new value before writing any: updates happen all at once (a <- b, b <- a)
            new_vals = [cell[0] for _, cell in self.update_cells]
            for (shared_cell, _), val in zip(self.update_cells, new_vals):
                shared_cell[0] = val
        for c in self.clear_cells:
            c[0] = None
        # Theano's counter of the time spent in calls of the mode's functions
        self.maker.mode.call_time += time.perf_counter() - t_call
        return outs

    def placement(self, node: Apply) -> tuple[str, str]:
        """Where ``node`` (an Apply of ``self.maker.fgraph``) runs: ``(backend, how)``.

        ``how`` is ``"compiled"`` (the backend's own code), ``"python fallback"`` (a compiled
        backend calls the op's Python ``perform``) or ``"python"`` (the ``py`` backend).
        """
        return self.linker.placement(node)

    @property
    def _label(self) -> str:
        """How errors name this function: ``function 'train'``, or ``the function`` unnamed."""
        return f"function {self.name!r}" if self.name else "the function"

    def _bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        n = self.n_in
        if len(args) > n:
            raise TypeError(f"{self._label} takes {n} argument(s), got {len(args)}"
                            f" (inputs: {[str(s.variable) for s in self.maker.inputs]})")
        vals = list(args) + [None] * (n - len(args))
        given = [True] * len(args) + [False] * (n - len(args))
        for k, v in kwargs.items():
            if k not in self.input_names:
                raise TypeError(f"{self._label} got an unknown keyword argument {k!r}; "
                                f"named inputs: {sorted(self.input_names)}")
            i = self.input_names[k]
            if given[i]:
                raise TypeError(f"function input {k!r} given twice")
            vals[i] = v
            given[i] = True
        for i in range(n):
            if not given[i]:
                if self.input_storage[i].storage[0] is not None:
                    vals[i] = self.input_storage[i].storage[0]
                else:
                    raise TypeError(
                        f"{self._label} takes {n} argument(s): missing input {i} "
                        f"({self.maker.inputs[i].variable}) (got {len(args)} positional)"
                    )
        return tuple(vals)

    # -- stored input values (Theano's f[x], f.value, f.container) and copies -----------------
    @property
    def container(self) -> "FunctionContainers":
        """``f.container[x]``: the :class:`InputState` of input ``x`` (variable, name or In)."""
        return FunctionContainers(self)

    @property
    def value(self) -> "FunctionValues":
        """``f.value[x]`` / ``f.value[x] = v``: the value stored for input ``x``."""
        return FunctionValues(self)

    def __getitem__(self, key: Variable | In | str) -> Any:
        return self.value[key]

    def __setitem__(self, key: Variable | In | str, value: Any) -> None:
        self.value[key] = value

    def __contains__(self, key: Variable | In | str) -> bool:
        return FunctionContainers(self).find(key) is not None

    def copy(self, share_memory: bool = False, swap: dict[Variable, Variable] | None = None,
             delete_updates: bool = False, name: str | None = None) -> "Function":
        """A new function computing the same outputs (Theano's ``Function.copy``).

        ``share_memory``: the copy reads and updates the same stored input values (``In(value=,
        update=)``) as this one; otherwise it starts from a copy of their current values.
        ``swap``: ``{old_shared: new_shared}`` used by the copy instead (in its outputs and its
        updates).  ``delete_updates``: the copy updates nothing.  ``name``: default
        ``"<name> copy"``.  Shared variables themselves are always shared.
        """
        return copy_function(self, share_memory, swap, delete_updates, name)

    def free(self) -> None:
        for cell in self.storage_map.values():
            if cell not in self.input_cells:
                pass

    def __reduce__(self) -> tuple[Any, ...]:
        # the graph as the user wrote it (inputs, outputs, updates, givens, mode) plus the values
        # stored now: shared variables pickle with their current value, and each input's stored
        # value (In(value=..., update=...), f[x] = v) is copied; the receiver rewrites and links
        # again, and its compiled backend finds the module in its compile cache when it has one
        return (_rebuild_function, (self.maker.spec, [s.storage[0] for s in self.input_storage]))

    def __repr__(self) -> str:
        return f"<opcore.Function {self.name or ''} inputs={[str(s.variable) for s in self.maker.inputs]}>"


def _rebuild_function(spec: dict[str, Any], stored: list[Any] | None = None) -> Function:
    """Unpickle a :class:`Function`: compile ``spec`` again and restore the stored input values."""
    fn = function(**spec)
    for state, value in zip(fn.input_storage, stored or ()):
        state.storage[0] = value
    return fn


def copy_function(fn: Function, share_memory: bool = False,
                  swap: dict[Variable, Variable] | None = None,
                  delete_updates: bool = False, name: str | None = None) -> Function:
    """See :meth:`Function.copy`."""
    spec: dict[str, Any] = dict(fn.maker.spec)
    swap = dict(swap or {})
    for old, new in swap.items():
        if not (isinstance(old, SharedVariable) and isinstance(new, SharedVariable)):
            raise TypeError(f"copy(swap=...): {old} -> {new}: swap maps shared variables to "
                            "shared variables")
        if old.type != new.type:
            raise TypeError(f"copy(swap=...): {old} has type {old.type} but {new} has {new.type}")
    inputs = []
    for s in fn.maker.inputs:
        c = In(s.variable, name=s.name, value=s.value, update=None if delete_updates else s.update,
               mutable=s.mutable, strict=s.strict, allow_downcast=s.allow_downcast,
               borrow=s.borrow)
        inputs.append(c)
    spec["inputs"] = inputs
    if delete_updates:
        spec["updates"] = None
        spec["no_default_updates"] = True
        spec["on_unused_input"] = "ignore"  # an input read only by an update is fine here
    elif swap and spec.get("updates") is not None:
        spec["updates"] = [(swap.get(s, s), u) for s, u in _as_pairs(spec["updates"], "updates")]
    if swap:
        spec["givens"] = _as_pairs(spec.get("givens"), "givens") + list(swap.items())
    spec["name"] = name if name is not None else (f"{fn.name} copy" if fn.name else None)
    copied = function(**spec)
    for i, state in enumerate(fn.input_storage):
        if share_memory:
            copied.input_storage[i] = state
        else:
            copied.input_storage[i].storage[0] = copy.deepcopy(state.storage[0])
    copied._link_input_storage()
    return copied
