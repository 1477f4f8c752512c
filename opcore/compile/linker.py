"""Linkers turn a rewritten FunctionGraph into thunks; the Python linker is the core's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from opcore.graph.basic import Apply, Variable
from opcore.graph.fg import FunctionGraph

if TYPE_CHECKING:
    #: the storage cells of a function's variables: one-element lists, by variable
    StorageMap = dict[Variable, list[Any]]


class Linker:
    """Base linker: per-node thunks from the backend's impl table, else ``perform``.

    Backends subclass this and may override :meth:`make_program` to run the whole graph in one
    call (see docs/internal-contracts.md).
    """

    backend_name = "py"

    def __init__(self, impl_lookup: Callable[..., Any] | None = None) -> None:
        self.impl_lookup = impl_lookup

    def make_thunk(self, node: Apply, storage_map: StorageMap) -> Callable[[], Any]:
        impl = self.impl_lookup(self.backend_name, node.op) if self.impl_lookup else None
        if impl is not None:
            return impl(node, storage_map)
        return node.op.make_py_thunk(node, storage_map)

    def make_program(self, fgraph: FunctionGraph, order: list[Apply],
                     storage_map: StorageMap) -> Callable[[], Any] | None:
        return None

    def placement(self, node: Apply) -> tuple[str, str]:
        """Where ``node`` runs: ``(backend name, how)`` where ``how`` is ``"compiled"`` (the
        backend's own implementation) or ``"python fallback"`` (the op's ``perform``).

        ``debugprint``, ``profile`` summaries and ``d3viz`` show it. Backends that decide at
        link time (one module per function) override this to report what they linked.
        """
        impl = self.impl_lookup(self.backend_name, node) if self.impl_lookup else None
        return self.backend_name, "compiled" if impl is not None else "python fallback"

    def describe(self) -> str:
        return self.backend_name


class PyLinker(Linker):
    """Pure Python/NumPy: every node runs its ``perform``."""

    backend_name = "py"

    def placement(self, node: Apply) -> tuple[str, str]:
        return self.backend_name, "python"
