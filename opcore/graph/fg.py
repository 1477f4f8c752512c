"""FunctionGraph: a graph with fixed inputs/outputs that rewrites may edit in place."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any, Iterable, Sequence, TypeVar

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.describe import as_string
from opcore.graph.traversal import clone_get_equiv, graph_inputs, io_toposort

if TYPE_CHECKING:
    from opcore.graph.destroyhandler import DestroyHandler


class InconsistencyError(Exception):
    """A change was rejected by a feature's validation (for example the destroy handler)."""


class Feature:
    """Listener attached to a FunctionGraph; every callback is optional."""

    def on_attach(self, fgraph: FunctionGraph) -> None: ...
    def on_detach(self, fgraph: FunctionGraph) -> None: ...
    def on_import(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None: ...
    def on_prune(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None: ...
    def on_change_input(self, fgraph: FunctionGraph, node: Apply | str, i: int, old: Variable,
                        new: Variable, reason: str | None) -> None: ...
    def validate(self, fgraph: FunctionGraph) -> None: ...


_F = TypeVar("_F", bound=Feature)


class FunctionGraph:
    """Owns the nodes between ``inputs`` and ``outputs`` and keeps a ``clients`` index.

    ``clients[var]`` lists ``(node, i)`` pairs (``node == 'output'`` for a graph output).
    """

    #: what the last ``rewrite_graph`` did (a ``RewriteReport``; absent before any rewrite)
    rewrite_report: Any
    #: the attached :class:`~opcore.graph.destroyhandler.DestroyHandler` (absent before one)
    destroy_handler: DestroyHandler | None
    #: inputs the user can see, which no op may overwrite (set by the compiler; may be absent)
    protected_inputs: Sequence[Variable]
    #: set by ``function``: how many of ``outputs`` the user asked for (updates follow them)
    n_user_outputs: int

    def __init__(self, inputs: Sequence[Variable] | None = None,
                 outputs: Sequence[Variable] | None = None, features: Iterable[Feature] = (),
                 clone: bool = True,
                 update_mapping: dict[int, int] | None = None) -> None:
        if outputs is None:
            raise ValueError("FunctionGraph needs outputs")
        outputs = list(outputs)
        if inputs is None:

            inputs = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
        inputs = list(inputs)
        self.equiv = None
        if clone:
            equiv = clone_get_equiv(inputs, outputs, copy_inputs=True, copy_orphans=False)
            inputs = [equiv[i] for i in inputs]
            outputs = [equiv[o] for o in outputs]
            self.equiv = equiv
        self.inputs: list[Variable] = []
        self._input_set: set[Variable] = set()
        self.outputs: list[Variable] = []
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list] = {}
        self._features: list[Feature] = []
        self.update_mapping = update_mapping or {}
        self.revision = 0
        for inp in inputs:
            if inp.owner is not None:
                raise ValueError(
                    f"FunctionGraph input {inp} is computed by {inp.owner.op}; inputs must be roots"
                )
            self.add_input(inp)
        for out in outputs:
            self.add_output(out, reason="init")
        for f in features:
            self.attach_feature(f)

    # -- structure --------------------------------------------------------------------------
    def _own(self, var: Variable) -> None:
        # Theano 1.0's var.fgraph, which var.clients reads (see Variable.clients)
        try:
            var.fgraph = self
        except AttributeError:  # a Variable subclass without a __dict__
            pass

    def add_input(self, var: Variable) -> None:
        if var in self.variables:
            return
        self.inputs.append(var)
        self._input_set.add(var)
        self.variables.add(var)
        self.clients.setdefault(var, [])
        self._own(var)

    def add_output(self, var: Variable, reason: str | None = None) -> None:
        self.outputs.append(var)
        self.import_var(var, reason)
        self.clients[var].append(("output", len(self.outputs) - 1))

    def import_var(self, var: Variable, reason: str | None = None) -> None:
        if var in self.variables:
            return
        if var.owner is not None:
            self.import_node(var.owner, reason)
        else:
            if not isinstance(var, Constant) and var not in self.inputs:
                # free variables (shared storage) are allowed as orphans; record them
                pass
            self.variables.add(var)
            self.clients.setdefault(var, [])
            self._own(var)

    def import_node(self, node: Apply, reason: str | None = None) -> None:
        """Add ``node`` and every ancestor not yet in the graph (cost: the new nodes only)."""
        new_nodes = self._new_nodes_toposort(node)
        for n in new_nodes:
            if n in self.apply_nodes:
                continue
            self.apply_nodes.add(n)
            for out in n.outputs:
                self.variables.add(out)
                self.clients.setdefault(out, [])
                self._own(out)
            for i, inp in enumerate(n.inputs):
                if inp not in self.variables:
                    self.variables.add(inp)
                    self.clients.setdefault(inp, [])
                    self._own(inp)
                self.clients[inp].append((n, i))
            for f in self._features:
                f.on_import(self, n, reason)

    def _new_nodes_toposort(self, node: Apply) -> list[Apply]:
        """Nodes reachable upward from ``node`` that are not in the graph, inputs first.

        Iterative DFS stopping at variables already in the graph, so importing a replacement
        costs time proportional to what is new, not to the size of the graph.
        """
        order: list[Apply] = []
        seen: set = set()
        stack = [(node, False)]
        while stack:
            n, done = stack.pop()
            if done:
                order.append(n)
                continue
            if n in seen or n in self.apply_nodes:
                continue
            seen.add(n)
            stack.append((n, True))
            for inp in reversed(n.inputs):
                owner = inp.owner
                if (owner is not None and inp not in self.variables and owner not in seen
                        and owner not in self.apply_nodes):
                    stack.append((owner, False))
        return order

    def _remove_client(self, var: Variable, client: tuple[Apply | str, int],
                       reason: str | None = None) -> None:
        stack = [(var, client)]
        while stack:
            v, c = stack.pop()
            cl = self.clients.get(v)
            if cl is None:
                continue
            try:
                cl.remove(c)
            except ValueError:
                continue
            # a graph output always has an ("output", i) client, so an empty list is enough
            if cl or v in self._input_set:
                continue
            node = v.owner
            if node is None:
                if isinstance(v, Constant) or v not in self._input_set:
                    self.variables.discard(v)
                    del self.clients[v]
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            if node not in self.apply_nodes:
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            for f in self._features:
                f.on_prune(self, node, reason)
            for i, inp in enumerate(node.inputs):
                stack.append((inp, (node, i)))

    def change_node_input(self, node: Apply | str, i: int, new: Variable,
                          reason: str | None = None) -> None:
        if isinstance(node, str):  # "output": the graph's i-th output
            old = self.outputs[i]
            if old is new:
                return
            if old.type != new.type and not old.type.is_super(new.type):
                raise TypeError(f"output {i}: cannot replace {old} ({old.type}) by {new} ({new.type})")
            self.outputs[i] = new
        else:
            old = node.inputs[i]
            if old is new:
                return
            if not old.type.is_super(new.type) and old.type != new.type:
                raise TypeError(
                    f"{node.op}: input {i} has type {old.type}, replacement {new} has {new.type}"
                )
            node.inputs[i] = new
        self.import_var(new, reason)
        self.clients[new].append((node, i))
        self._remove_client(old, (node, i), reason)
        self.revision += 1
        for f in self._features:
            f.on_change_input(self, node, i, old, new, reason)

    def replace(self, var: Variable, new: Variable, reason: str | None = None,
                verbose: bool | None = None, import_missing: bool = False) -> None:
        """Make every client of ``var`` use ``new`` instead (types must match)."""
        if var is new:
            return
        if var.type != new.type and not var.type.is_super(new.type):
            conv = var.type.convert_variable(new)
            if conv is None:
                raise TypeError(
                    f"replace ({reason}): {var} has type {var.type} but its replacement {new} "
                    f"has type {new.type}"
                )
            new = conv
        if var not in self.variables:
            return
        self._inherit_origin(var, new)
        for node, i in list(self.clients.get(var, [])):
            self.change_node_input(node, i, new, reason)

    def _inherit_origin(self, var: Variable, new: Variable) -> None:
        """The nodes a rewrite created for ``new`` remember the node the user wrote
        (``tag.origin``), so a run-time error names the user's op, not a rewrite's product."""
        if var.owner is None or new.owner is None or new.owner is var.owner:
            return
        origin = getattr(var.owner.tag, "origin", None) or var.owner
        stack = [new.owner]
        seen = set()
        while stack:
            node = stack.pop()
            if node in seen or node in self.apply_nodes or getattr(node.tag, "origin", None):
                continue
            seen.add(node)
            node.tag.origin = origin
            stack.extend(v.owner for v in node.inputs
                         if v.owner is not None and v not in self.variables)

    def replace_all(self, pairs: Iterable[tuple[Variable, Variable]],
                    reason: str | None = None) -> None:
        for old, new in pairs:
            self.replace(old, new, reason)

    def replace_validate(self, var: Variable, new: Variable, reason: str | None = None) -> None:
        self.replace(var, new, reason)
        self.validate()

    # -- features ---------------------------------------------------------------------------
    def attach_feature(self, feature: Feature) -> None:
        if feature in self._features:
            return
        self._features.append(feature)
        feature.on_attach(self)

    def remove_feature(self, feature: Feature) -> None:
        self._features.remove(feature)
        feature.on_detach(self)

    def validate(self) -> None:
        for f in self._features:
            f.validate(self)

    def get_feature(self, cls: type[_F]) -> _F | None:
        for f in self._features:
            if isinstance(f, cls):
                return f
        return None

    # -- queries ----------------------------------------------------------------------------
    def toposort(self) -> list[Apply]:
        order = io_toposort(self.inputs, self.outputs)
        orderings = [f.orderings(self) for f in self._features if hasattr(f, "orderings")]
        orderings = [o for o in orderings if o]
        if orderings:
            order = _toposort_with_orderings(order, orderings)
        return order

    def orphans(self) -> list[Variable]:
        return [v for v in self.variables if v.owner is None and v not in self.inputs]

    def clone(self, check_integrity: bool = True) -> "FunctionGraph":
        return self.clone_get_equiv()[0]

    def clone_get_equiv(self) -> tuple[FunctionGraph, dict[Any, Any]]:
        equiv = clone_get_equiv(self.inputs, self.outputs, copy_inputs=True, copy_orphans=False)
        fg = FunctionGraph([equiv[i] for i in self.inputs], [equiv[o] for o in self.outputs],
                           clone=False, update_mapping=dict(self.update_mapping))
        return fg, equiv

    def __str__(self) -> str:
        # Theano's form: the outputs as expressions, shared nodes marked *n
        return "[" + ", ".join(as_string(self.inputs, self.outputs)) + "]"

    __repr__ = __str__

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["_features"] = []
        return d


def _toposort_with_orderings(order: list[Apply],
                             orderings: list[dict[Apply, set[Apply]]]) -> list[Apply]:
    """Stable toposort of ``order`` adding extra edges {node: [must-run-before nodes]}."""
    extra: dict = {}
    for o in orderings:
        for node, prereqs in o.items():
            extra.setdefault(node, set()).update(prereqs)
    pos = {n: i for i, n in enumerate(order)}
    deps = {n: {i.owner for i in n.inputs if i.owner in pos} | (extra.get(n, set()) & pos.keys())
            for n in order}
    rev: dict = {n: [] for n in order}
    for n, ds in deps.items():
        for d in ds:
            rev[d].append(n)

    indeg = {n: len(ds) for n, ds in deps.items()}
    ready = [(pos[n], n.__hash__(), n) for n in order if indeg[n] == 0]
    ready = [(p, i, n) for p, i, n in ready]
    heapq.heapify(ready)
    out = []
    while ready:
        _, _, n = heapq.heappop(ready)
        out.append(n)
        for m in rev[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                heapq.heappush(ready, (pos[m], m.__hash__(), m))
    if len(out) != len(order):
        raise InconsistencyError("the graph's ordering constraints form a cycle")
    return out
