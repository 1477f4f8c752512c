"""The rewrite engine: ordered phases of node-local rewrites applied with a worklist.

A rewrite is a plain function ``fn(fgraph, node)`` returning replacements for some of ``node``'s
outputs (a list aligned with ``node.outputs``, ``None`` entries meaning "keep"), a dict
``{old_variable: new_variable}``, or ``None``/``False`` when it does not apply.  A function with
the attribute ``graph_rewrite = True`` is a whole-graph rewrite instead: called once per phase as
``fn(fgraph, None)``, before the node rewrites, it makes its own replacements and returns whether it
changed the graph.  Rewrites are
registered through the plugin host (``opcore_register_rewrites``) with a name, tags and a phase.

Each phase runs a worklist: every node once, then only the nodes that a replacement created or
whose inputs changed.  The cost therefore grows with the size of the graph plus the number of
changes, not with (graph size) x (number of passes).
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from opcore.graph.basic import Apply, Variable
from opcore.graph.fg import Feature, FunctionGraph
from opcore.graph.rewriting import _RULE_SOURCE, set_rule_source  # noqa: F401  (public here too)

#: the core's phases, in the order they run
CORE_PHASES = ("canonicalize", "stabilize", "specialize", "fusion", "inplace")
#: a plugin declares where its own phases run (``rewrites.declare_phase(name, after=...)``); the
#: engine receives these as ``phase_slots``; an undeclared phase runs just before ``fusion``
#: phases whose worklist starts from the outputs (fusion grows groups upward in one visit)
REVERSE_PHASES = {"fusion"}
#: a phase name meaning "run at every node visit of every phase except inplace" (merge)
EVERY_PHASE = "all"


class RewriteError(Exception):
    """A rewrite produced an invalid replacement (wrong type, wrong count...)."""


class RewriteWarning(UserWarning):
    """A rewrite raised and was skipped (``rewrite_graph(raise_errors=True)``, which ``function``
    passes under ``config.rewrite_raise``, makes it an error)."""


@dataclass
class Rewrite:
    """A selected rewrite: what the engine runs."""

    name: str
    fn: Callable
    tags: tuple[str, ...]
    phase: str
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    plugin: str = "core"
    #: op classes (or ``(Elemwise, scalar name)`` keys) this rewrite looks at; None = every node
    tracks: tuple | None = None
    fired: int = 0
    seconds: float = 0.0


#: adapters ``(old, new) -> new' | None`` used when a replacement's type differs from the
#: original's only in static information (the tensor layer registers one adding SpecifyShape)
TYPE_ADAPTERS: list[Callable[[Variable, Variable], Variable | None]] = []



# -- selection --------------------------------------------------------------------------------
def select(entries: Iterable[Any], include: Sequence[str] = (), exclude: Sequence[str] = (),
           require: Sequence[str] = ()) -> list[Rewrite]:
    """Rewrites whose tags meet the query, as :class:`Rewrite` records.

    A rewrite is selected when one of its tags (or its name, or its phase) is in ``include``, none
    of its tags, its name or its phase is in ``exclude``, and it carries every tag in ``require``.
    """
    inc, exc, req = set(include), set(exclude), set(require)
    out = []
    for e in entries:
        keys = set(e.tags) | {e.name}
        if not (keys & inc):
            continue
        if (keys | {e.phase}) & exc:
            continue
        if req and not req <= set(e.tags):
            continue
        out.append(Rewrite(e.name, e.fn, tuple(e.tags), e.phase, tuple(e.after), tuple(e.before),
                           getattr(e, "plugin", "core"), getattr(e.fn, "tracks", None)))
    return out


def order_phases(rewrites: Sequence[Rewrite], phase_slots: Mapping[str, str] | None = None
                 ) -> list[tuple[str, list[Rewrite]]]:
    """Group rewrites by phase, phases in run order, each phase ordered by after/before.

    ``phase_slots`` maps a plugin's phase to the phase it runs after (``{'gpu_lift': 'fusion'}``);
    a phase not in it runs just before ``fusion``.
    """
    phase_slots = phase_slots or {}
    phases: dict[str, list[Rewrite]] = {}
    for r in rewrites:
        phases.setdefault(r.phase, []).append(r)
    names = list(CORE_PHASES)
    extra = [p for p in phases if p not in names and p != EVERY_PHASE]
    for p in extra:
        slot = phase_slots.get(p)
        idx = names.index(slot) + 1 if slot in names else names.index("fusion")
        names.insert(idx, p)
    return [(p, _order_within(phases.get(p, []))) for p in names]


def _order_within(rules: list[Rewrite]) -> list[Rewrite]:
    """Registration order, adjusted by ``after``/``before`` constraints (stable toposort)."""
    if not any(r.after or r.before for r in rules):
        return rules
    by_name = {r.name: r for r in rules}
    deps: dict[str, set[str]] = {r.name: set() for r in rules}
    for r in rules:
        deps[r.name].update(a for a in r.after if a in by_name)
        for b in r.before:
            if b in by_name:
                deps[b].add(r.name)
    out: list[Rewrite] = []
    done: set[str] = set()
    pending = list(rules)
    while pending:
        for k, r in enumerate(pending):
            if deps[r.name] <= done:
                out.append(r)
                done.add(r.name)
                del pending[k]
                break
        else:
            cyc = ", ".join(r.name for r in pending)
            raise RewriteError(f"rewrites {cyc} have contradictory after=/before= constraints")
    return out


# -- the worklist -----------------------------------------------------------------------------
class _Worklist(Feature):
    """Collects nodes to (re)visit: new nodes and clients whose inputs changed."""

    def __init__(self) -> None:
        self.queue: deque[Apply] = deque()
        self.queued: set[Apply] = set()

    def push(self, node: Apply | str) -> None:
        if not isinstance(node, str) and node not in self.queued:  # str: "output"
            self.queued.add(node)
            self.queue.append(node)

    def on_import(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None:
        self.push(node)

    def on_change_input(self, fgraph: FunctionGraph, node: Apply | str, i: int, old: Variable,
                        new: Variable, reason: str | None) -> None:
        self.push(node)


@dataclass
class RewriteReport:
    """What a :func:`rewrite_graph` call did (also kept as ``fgraph.rewrite_report``)."""

    fired: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        rows = [f"rewrite phase {p}: {t * 1e3:.2f} ms" for p, t in self.phase_seconds.items()]
        for name in sorted(self.fired, key=lambda n: -self.seconds.get(n, 0.0)):
            rows.append(f"  {name}: fired {self.fired[name]}x, {self.seconds[name] * 1e3:.2f} ms")
        return rows


def _dispatch_key(node: Apply) -> tuple[type, str | None]:
    op = node.op
    so = getattr(op, "scalar_op", None)
    return type(op), getattr(so, "name", None)


class _Dispatcher:
    """Finds, per node, the rewrites that track its op (cached by op class and scalar name)."""

    def __init__(self, rules: list[Rewrite]) -> None:
        self.rules = rules
        self.cache: dict = {}

    def for_node(self, node: Apply) -> list[Rewrite]:
        key = _dispatch_key(node)
        try:
            return self.cache[key]
        except KeyError:
            pass
        cls, sname = key
        out = []
        for r in self.rules:
            if r.tracks is None:
                out.append(r)
                continue
            for t in r.tracks:
                if isinstance(t, str):
                    if t == sname:
                        out.append(r)
                        break
                elif isinstance(t, type) and issubclass(cls, t):
                    out.append(r)
                    break
        self.cache[key] = out
        return out


def _normalise(rw: Rewrite, node: Apply, result: Any) -> list[tuple[Variable, Variable]]:
    if isinstance(result, dict):
        return list(result.items())
    if isinstance(result, Variable):
        result = [result]
    if not isinstance(result, (list, tuple)):
        raise RewriteError(f"rewrite {rw.name!r} returned {type(result).__name__}; expected a "
                           "list of variables, a dict or None")
    if len(result) != len(node.outputs):
        raise RewriteError(f"rewrite {rw.name!r} returned {len(result)} replacements for {node.op}"
                           f" which has {len(node.outputs)} outputs")
    return [(o, n) for o, n in zip(node.outputs, result) if n is not None]


def _check_type(rw: Rewrite, old: Variable, new: Variable) -> Variable:
    if not isinstance(new, Variable):
        raise RewriteError(f"rewrite {rw.name!r} replaced {old} by {new!r}, which is not a Variable")
    if old.type == new.type or old.type.is_super(new.type):
        return new
    for adapt in TYPE_ADAPTERS:
        fixed = adapt(old, new)
        if fixed is not None:
            return fixed
    raise RewriteError(f"rewrite {rw.name!r} replaced {old} of type {old.type} by {new} of type "
                       f"{new.type}")


def _run_graph_rewrites(fgraph: FunctionGraph, rules: list[Rewrite], report: RewriteReport,
                        raise_errors: bool) -> None:
    """Run the whole-graph rewrites of a phase (``fn.graph_rewrite``), each once, in order.

    They are called as ``fn(fgraph, None)`` and make their own replacements (Theano's
    ``GlobalOptimizer.apply(fgraph)`` enters the engine this way).
    """
    for rw in rules:
        t0 = time.perf_counter()
        try:
            changed = rw.fn(fgraph, None)
        except Exception as exc:
            if raise_errors:
                raise
            msg = (f"rewrite {rw.name!r} (plugin {rw.plugin}) raised {type(exc).__name__}: {exc};"
                   " skipped")
            report.failures.append(msg)
            warnings.warn(msg, RewriteWarning, stacklevel=3)
            changed = False
        rw.seconds += time.perf_counter() - t0
        if changed:
            rw.fired += 1


def _run_phase(fgraph: FunctionGraph, phase: str, rules: list[Rewrite], report: RewriteReport,
               raise_errors: bool, trace: bool) -> None:
    if not rules:
        return
    graph_rules = [r for r in rules if getattr(r.fn, "graph_rewrite", False)]
    if graph_rules:
        _run_graph_rewrites(fgraph, graph_rules, report, raise_errors)
        rules = [r for r in rules if r not in graph_rules]
        if not rules:
            return
    work = _Worklist()
    order = fgraph.toposort()
    if phase in REVERSE_PHASES:
        order.reverse()
    for n in order:
        work.push(n)
    fgraph.attach_feature(work)
    dispatch = _Dispatcher(rules)
    budget = 50 * (len(order) + 10)  # guards against two rewrites undoing each other forever
    apply_nodes = fgraph.apply_nodes
    try:
        while work.queue:
            node = work.queue.popleft()
            work.queued.discard(node)
            if node not in apply_nodes:
                continue
            for rw in dispatch.for_node(node):
                t0 = time.perf_counter()
                try:
                    result = rw.fn(fgraph, node)
                except Exception as exc:
                    if raise_errors:
                        raise
                    msg = (f"rewrite {rw.name!r} (plugin {rw.plugin}) raised "
                           f"{type(exc).__name__}: {exc} at node {node}; skipped")
                    report.failures.append(msg)
                    warnings.warn(msg, RewriteWarning, stacklevel=2)
                    continue
                if result is None or result is False:
                    rw.seconds += time.perf_counter() - t0
                    continue
                pairs = _normalise(rw, node, result)
                pairs = [(o, _check_type(rw, o, n)) for o, n in pairs if o is not n]
                if not pairs:
                    rw.seconds += time.perf_counter() - t0
                    continue
                for old, new in pairs:
                    fgraph.replace(old, new, reason=rw.name)
                rw.seconds += time.perf_counter() - t0
                rw.fired += 1
                if trace:
                    print(f"rewrite {rw.name}: {node} -> "
                          f"{', '.join(str(n) for _, n in pairs)}")
                budget -= 1
                if budget <= 0:
                    msg = (f"rewrite phase {phase!r} stopped after too many changes "
                           f"(last: {rw.name}); some rewrites may cycle")
                    if raise_errors:  # a cycle is a rewrite bug too (rewrite_raise=True)
                        raise RewriteError(msg)
                    warnings.warn(msg, RewriteWarning)
                    return
                if node not in apply_nodes:
                    break
    finally:
        fgraph.remove_feature(work)


def rewrite_graph(fgraph: FunctionGraph, include: Sequence[str] = (),
                  exclude: Sequence[str] = (), require: Sequence[str] = (),
                  backend: str | None = None, trace: bool = False,
                  entries: Iterable[Any] | None = None,
                  phase_slots: Mapping[str, str] | None = None,
                  raise_errors: bool = False) -> FunctionGraph:
    """Rewrite ``fgraph`` in place with every registered rewrite matching the query.

    ``include``/``exclude``/``require`` are tag (or rewrite-name) queries, as set by
    ``Mode.including``/``excluding``/``requiring``; ``backend`` is the backend's name (rewrites
    tagged with another backend's name only run when that tag is included).  ``entries``
    overrides the rule source installed with :func:`set_rule_source` (the plugin host's registry,
    whose ``phase_slots`` say where plugin phases run); ``phase_slots`` overrides those.

    The settings come from the caller; the engine reads no configuration (``function`` passes
    the config flags, see ``opcore.compile.mode.rewrite_settings``): ``trace`` prints each
    firing and a timing table (``config.rewrite_trace``); ``raise_errors`` makes a rewrite that
    raises, or rewrites that do not settle, an error instead of a :class:`RewriteWarning` and a
    skipped rewrite (``config.rewrite_raise``, Theano's ``config.on_opt_error='raise'``).

    >>> import opcore.tensor as T
    >>> from opcore.graph.fg import FunctionGraph
    >>> x = T.dvector('x')
    >>> fg = FunctionGraph([x], [x * 1 + 0])
    >>> _ = rewrite_graph(fg, include=('fast_run',))
    >>> fg.outputs[0] is fg.inputs[0]
    True
    """
    if not include:
        return fgraph
    if entries is None:
        if not _RULE_SOURCE:
            raise RuntimeError("rewrite_graph: no rewrites given and no rule source installed "
                               "(import opcore: the plugin host installs its registry)")
        registry = _RULE_SOURCE[0]()
        entries = registry.entries
        if phase_slots is None:
            phase_slots = getattr(registry, "phase_slots", None)
    include = tuple(include) + ((backend,) if backend else ())
    selected = select(entries, include, exclude, require)
    every = [r for r in selected if r.phase == EVERY_PHASE]
    report = RewriteReport()
    for phase, rules in order_phases(selected, phase_slots):
        if not rules:
            continue
        t0 = time.perf_counter()
        _run_phase(fgraph, phase, (every if phase != "inplace" else []) + rules, report,
                   raise_errors, trace)
        report.phase_seconds[phase] = time.perf_counter() - t0
    if every and not any(rules for _, rules in order_phases(selected, phase_slots)):
        t0 = time.perf_counter()
        _run_phase(fgraph, "merge", every, report, raise_errors, trace)
        report.phase_seconds["merge"] = time.perf_counter() - t0
    for r in selected:
        if r.fired or r.seconds:
            report.fired[r.name] = r.fired
            report.seconds[r.name] = r.seconds
    fgraph.rewrite_report = report
    fgraph.validate()
    if trace:
        print("\n".join(report.lines()))
    return fgraph
