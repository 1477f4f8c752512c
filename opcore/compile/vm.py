"""The Python VM: runs thunks over storage cells, eagerly or lazily (for ifelse)."""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore._lazy import LazyModule
from opcore.graph.fg import FunctionGraph

#: only an error message prints the failing node (and printing imports json & co.)
printing = LazyModule("opcore.printing")

if TYPE_CHECKING:
    from opcore.compile.linker import StorageMap


class RunError(Exception):
    pass


def node_error(exc: BaseException, node: Apply, storage_map: StorageMap,
               fgraph: FunctionGraph | None = None) -> BaseException:
    """Re-raise ``exc`` with the node, its input shapes/dtypes and a debugprint of it.

    When ``node`` is a rewrite's product (``tag.origin``: the node the user wrote, such as the
    ``dot`` a Gemv replaced), the message names the user's node; when that node's inputs are at
    hand, it gives the error the user's op raises for them and describes its inputs."""
    head, where, shown = str(exc), f"{node}", node
    origin = getattr(node.tag, "origin", None)
    if origin is not None and origin.op != node.op:
        user_exc, vals = _origin_error(origin, storage_map)
        if user_exc is not None:
            head, shown = str(user_exc), origin
        else:
            head = f"{origin.op}: {exc}"
        where = f"{origin}\n(run as {node} after graph rewriting)"
    shapes = []
    dtypes = []
    for v in shown.inputs:
        cell = storage_map.get(v)
        val = cell[0] if cell is not None else getattr(v, "data", None)
        shapes.append(getattr(val, "shape", "?") if val is not None else "not computed")
        dtypes.append(str(getattr(val, "dtype", type(val).__name__)))
    try:
        dp = printing.debugprint(shown.outputs[0], file="str", print_type=True)
    except Exception:  # printing must never hide the real error
        dp = str(shown)
    msg = (f"{head}\nApply node that caused the error: {where}\n"
           f"Inputs types: {[str(v.type) for v in shown.inputs]}\n"
           f"Inputs shapes: {shapes}\nInputs dtypes: {dtypes}\n"
           f"Debugprint of the apply node:\n{dp}")
    try:
        new = type(exc)(msg)
    except Exception:
        new = RunError(msg)
    new.__cause__ = exc
    new.node = node  # type: ignore[attr-defined]  # for debuggers: the failing node
    return new


def _origin_error(origin: Apply, storage_map: StorageMap
                  ) -> tuple[BaseException | None, list[Any] | None]:
    """``(exception, input values)``: the exception the user's node ``origin`` raises on the
    current input values (its reference ``perform``); None when its inputs are gone from the
    graph, when it would write in place, or when it succeeds."""
    if getattr(origin.op, "destroy_map", None):
        return None, None
    vals = []
    for v in origin.inputs:
        if v.owner is None and hasattr(v, "data") and v not in storage_map:
            vals.append(v.data)
            continue
        cell = storage_map.get(v)
        if cell is None or cell[0] is None:
            return None, None
        vals.append(cell[0])
    out = [[None] for _ in origin.outputs]
    try:
        origin.op.perform(origin, vals, out)
    except Exception as exc:  # the user-level error is what we want to report
        return exc, vals
    return None, vals


class VM:
    """Runs ``thunks`` (one per node of ``order``).

    Eager mode is a plain loop.  When the graph contains lazy nodes (``op.lazy``), it evaluates
    on demand from the outputs, so an ifelse runs only the branch it takes.
    """

    def __init__(self, fgraph: FunctionGraph, order: list[Apply], thunks: list[Callable[[], Any]],
                 storage_map: StorageMap, program: Callable[[], Any] | None = None,
                 profile: ProfileStats | None = None, lazy_nodes: Iterable[Apply] = ()) -> None:
        self.fgraph = fgraph
        self.order = order
        self.thunks = thunks
        self.storage_map = storage_map
        #: the backend's whole-graph program: a callable; a compiled one may also carry ``nodes``
        #: and ``run_profiled(times)`` (read by the profiled run)
        self.program: Any = program
        self.profile = profile
        self.lazy = bool(lazy_nodes)
        if self.lazy:
            self._prepare_lazy()
        if profile is not None:
            self.run = self._run_profiled
        elif self.lazy:
            self.run = self._run_lazy
        elif program is not None:
            self.run = self._run_program
        else:
            self.run = self._make_eager()

    def _make_eager(self) -> Callable[[], None]:
        thunks = self.thunks
        order = self.order
        storage_map = self.storage_map

        def run() -> None:
            i = 0
            try:
                for i, t in enumerate(thunks):  # noqa: B007
                    t()
            except Exception as exc:
                raise node_error(exc, order[i], storage_map) from exc.__cause__
        return run

    def _run_program(self) -> None:
        try:
            self.program()
        except Exception as exc:
            node = getattr(exc, "node", None)
            if node is not None and not getattr(exc, "_opcore_wrapped", False):
                err = node_error(exc, node, self.storage_map)
                err._opcore_wrapped = True  # type: ignore[attr-defined]
                raise err from exc
            raise

    def _run_profiled(self) -> None:
        prof = self.profile
        assert prof is not None  # chosen only when profiling
        run_profiled = getattr(self.program, "run_profiled", None)
        if run_profiled is not None and not self.lazy:
            # the module an unprofiled call runs, timing each step inside it
            times = np.zeros(len(self.program.nodes))
            try:
                run_profiled(times)
            except Exception as exc:
                node = getattr(exc, "node", None)
                if node is None:
                    raise
                raise node_error(exc, node, self.storage_map) from exc
            for node, dt in zip(self.program.nodes, times.tolist()):
                prof.add(node, dt)
            prof.calls += 1
            return
        for node, t in zip(self.order, self.thunks):
            t0 = time.perf_counter()
            try:
                t()
            except Exception as exc:
                raise node_error(exc, node, self.storage_map) from exc
            prof.add(node, time.perf_counter() - t0)
        prof.calls += 1

    # -- lazy evaluation -------------------------------------------------------------------------
    def _prepare_lazy(self) -> None:
        self.index = {n: i for i, n in enumerate(self.order)}
        self.node_of: dict[Variable, Apply] = {}
        for n in self.order:
            for o in n.outputs:
                self.node_of[o] = n
        # in-place safety: a destroyer runs after the other readers of what it overwrites
        self.prereqs: dict[Apply, set[Apply]] = {}
        for f in getattr(self.fgraph, "_features", ()):
            for node, before in (f.orderings(self.fgraph) if hasattr(f, "orderings") else {}).items():
                self.prereqs.setdefault(node, set()).update(b for b in before if b in self.index)

    def _run_lazy(self) -> None:
        computed: set[Apply] = set()
        storage_map = self.storage_map
        node_of = self.node_of
        thunks = self.thunks
        index = self.index
        stack = [node_of[o] for o in self.fgraph.outputs if o in node_of]
        pending_lazy: dict[Apply, Any] = {}
        while stack:
            node = stack[-1]
            if node in computed:
                stack.pop()
                continue
            lazy = getattr(node.op, "lazy", False)
            op: Any = node.op  # a lazy op (ifelse) has lazy_needs
            if lazy:
                needs = pending_lazy.get(node)
                if needs is None:
                    needs = op.lazy_needs(node, storage_map, None)
                missing = [node.inputs[k] for k in needs
                           if node.inputs[k] in node_of and node_of[node.inputs[k]] not in computed]
                if missing:
                    pending_lazy[node] = needs
                    stack.extend(node_of[v] for v in missing)
                    continue
                more = op.lazy_needs(node, storage_map, needs)
                if more and set(more) - set(needs):
                    pending_lazy[node] = sorted(set(more) | set(needs))
                    continue
            else:
                missing = [node_of[v] for v in node.inputs if v in node_of and node_of[v] not in computed]
                missing += [b for b in self.prereqs.get(node, ()) if b not in computed]
                if missing:
                    stack.extend(missing)
                    continue
            try:
                thunks[index[node]]()
            except Exception as exc:
                raise node_error(exc, node, storage_map) from exc
            computed.add(node)
            stack.pop()


class ProfileStats:
    """Per-node timings collected when a function is compiled with ``profile=True``."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.node_times: dict = {}
        self.node_calls: dict = {}
        self.calls = 0
        self.compile_time = 0.0
        self.rewrite_time = 0.0
        self.link_time = 0.0
        self.call_time = 0.0
        self.placement: dict = {}  # node -> (backend, how), filled when the function is linked

    def add(self, node: Apply, dt: float) -> None:
        self.node_times[node] = self.node_times.get(node, 0.0) + dt
        self.node_calls[node] = self.node_calls.get(node, 0) + 1

    def summary(self, file: IO[str] | str | None = None, n_apply_to_print: int = 20) -> str | None:
        """Print a table of the most expensive ops and nodes to ``file`` (default stdout).

        Compile time (rewriting and linking, which includes building and caching the backend's
        module) is reported apart from run time; each node says where it runs (its backend, and
        ``python fallback`` for a node a compiled backend calls back into Python for). Returns
        None, as Theano's does; ``file="str"`` returns the text instead of printing it.
        """
        lines = [f"Function profiling: {self.name or '<unnamed>'}",
                 f"  compile time {self.compile_time:.4f}s (rewrite {self.rewrite_time:.4f}s, "
                 f"link and build {self.link_time:.4f}s): not part of the times below",
                 f"  calls: {self.calls}, total call time {self.call_time:.6f}s, "
                 f"of which in nodes {sum(self.node_times.values()):.6f}s"]
        total = sum(self.node_times.values()) or 1e-12
        by_op: dict = {}
        for n, t in self.node_times.items():
            by_op[str(n.op)] = by_op.get(str(n.op), 0.0) + t
        lines.append("  Ops (time %, seconds, op):")
        for op, t in sorted(by_op.items(), key=lambda kv: -kv[1])[:n_apply_to_print]:
            lines.append(f"    {100 * t / total:6.1f}%  {t:.6f}s  {op}")
        lines.append("  Apply nodes (time %, seconds, calls, where, node):")
        for n, t in sorted(self.node_times.items(), key=lambda kv: -kv[1])[:n_apply_to_print]:
            where = self.placement.get(n)
            where_s = f"{where[0]}{'' if where[1] in ('compiled', 'python') else ', ' + where[1]}" \
                if where else "?"
            lines.append(f"    {100 * t / total:6.1f}%  {t:.6f}s  {self.node_calls[n]:5d}  "
                         f"[{where_s}]  {n}")
        text = "\n".join(lines)
        if isinstance(file, str):  # "str"
            return text
        print(text, file=sys.stdout if file is None else file)
        return None


def np_copy_if_alias(x: Any) -> Any:
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x
