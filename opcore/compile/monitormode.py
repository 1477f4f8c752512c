"""MonitorMode: call user functions before and after every node of a compiled function.

``MonitorMode(pre_func=None, post_func=None, optimizer='fast_run', linker=None)``: for each
node, in execution order, ``pre_func(i, node, fn)`` runs before it and ``post_func(i, node, fn)``
after it; ``i`` is the node's position, ``fn.inputs`` / ``fn.outputs`` are the node's storage
cells (one-element lists: ``fn.outputs[0][0]`` is the first output's value).  Nodes run one at a
time through the backend's per-node thunks (a backend's whole-graph program is not used), as in
Theano's ``theano.compile.monitormode.MonitorMode``.

>>> import numpy as np, opcore, opcore.tensor as T
>>> from opcore.compile.monitormode import MonitorMode
>>> seen = []
>>> x = T.dvector('x')
>>> f = opcore.function([x], T.exp(x) * 2, mode=MonitorMode(
...     post_func=lambda i, node, fn: seen.append(str(node.op))))
>>> _ = f(np.zeros(2)); len(seen) >= 1
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from opcore.compile.linker import Linker
from opcore.compile.mode import OPTIMIZERS, Mode, register_mode
from opcore.graph.basic import Apply
from opcore.graph.fg import FunctionGraph

if TYPE_CHECKING:
    from opcore.compile.linker import StorageMap


class MonitoringLinker(Linker):
    """Wraps a backend linker: each thunk calls ``pre(i, node, thunk)`` / ``post(...)``."""

    def __init__(self, inner: Linker, pre: Callable | None, post: Callable | None) -> None:
        super().__init__(None)
        self.inner = inner
        self.backend_name = inner.backend_name
        self.pre = pre
        self.post = post
        self._count = 0

    def make_thunk(self, node: Apply, storage_map: StorageMap) -> Callable[[], Any]:
        inner = self.inner.make_thunk(node, storage_map)
        i = self._count
        self._count += 1
        pre, post = self.pre, self.post

        def thunk() -> Any:
            if pre is not None:
                pre(i, node, thunk)
            r = inner()
            if post is not None:
                post(i, node, thunk)
            return r

        thunk.inputs = [storage_map[v] for v in node.inputs]  # type: ignore[attr-defined]
        thunk.outputs = [storage_map[v] for v in node.outputs]  # type: ignore[attr-defined]
        thunk.lazy = getattr(inner, "lazy", False)  # type: ignore[attr-defined]
        return thunk

    def make_program(self, fgraph: FunctionGraph, order: list[Apply],
                     storage_map: StorageMap) -> Callable[[], Any] | None:
        return None  # node by node, so every node is seen

    def describe(self) -> str:
        return f"monitor({self.inner.describe()})"


class MonitorMode(Mode):
    """A mode whose functions call ``pre_func`` / ``post_func`` around every node."""

    def __init__(self, pre_func: Callable | None = None, post_func: Callable | None = None,
                 optimizer: str | None = "fast_run", linker: str | Linker | None = None,
                 **kw: Any) -> None:
        if optimizer == "default":
            optimizer = "fast_run"
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        super().__init__(linker=linker, optimizer=optimizer, name=kw.pop("name", "MonitorMode"),
                         **kw)
        self.pre_func = pre_func
        self.post_func = post_func

    def wrap_linker(self, linker: Linker) -> Linker:
        """The linker ``function`` uses: the backend's, wrapped (see the module docstring)."""
        return MonitoringLinker(linker, self.pre_func, self.post_func)


register_mode("MonitorMode", MonitorMode)
