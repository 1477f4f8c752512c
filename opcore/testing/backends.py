"""Running the same graph on several backends and comparing the results."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Sequence

import numpy as np

from opcore.compile import Mode, function

from opcore.plugins import BackendError, UnsupportedOp
from opcore.plugins import get_host


#: Backends made strict by :func:`strict_backend` (the pytest plugin's backend under test).
_STRICT: set[str] = set()


class BackendComparison(dict):
    """``{backend name: [output arrays]}`` plus :attr:`skipped` ``{name: reason}``."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: dict[str, str] = {}


def first_unsupported(backend: Any, nodes: Iterable[Any]) -> UnsupportedOp | None:
    """The first of ``nodes`` that ``backend`` cannot run (per its ``supports``), or ``None``."""
    for node in nodes:
        ok, reason = backend.supports_op(node.op)
        if not ok:
            return UnsupportedOp(backend.name, node.op, reason)
    return None


def _mode_for(name: str) -> Any:
    return Mode(backend=name)


def _as_list(outputs: Any) -> tuple[list[Any], bool]:
    if isinstance(outputs, (list, tuple)):
        return list(outputs), True
    return [outputs], False


def run_on_backend(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], name: str,
                   **function_kwargs: Any) -> list[np.ndarray]:
    """Compile ``inputs -> outputs`` for backend ``name`` and run it once on ``values``.

    Raises :class:`~opcore.plugins.UnsupportedOp` when the backend says (through its
    ``supports`` callback) that it cannot run one of the compiled graph's ops.
    """
    backend = get_host().select_backend(name)
    outs, _ = _as_list(outputs)
    fn = function(list(inputs), outs, mode=_mode_for(name), on_unused_input="ignore",
                         **function_kwargs)
    fgraph = getattr(getattr(fn, "maker", None), "fgraph", None)
    if fgraph is not None:
        problem = first_unsupported(backend, fgraph.toposort())
        if problem is not None:
            raise problem
    return [np.asarray(v) for v in fn(*values)]


def compare_backends(inputs: Sequence[Any], outputs: Any, values: Sequence[Any],
                     backends: Sequence[str] | None = None, reference: str = "py",
                     rtol: float | None = None, atol: float | None = None
                     ) -> BackendComparison:
    """Run a graph on several backends and assert they agree with ``reference``.

    ``backends=None`` means every healthy backend; a backend that does not support an op of the
    graph is then listed in ``result.skipped`` (except the backend under test of the pytest
    plugin, ``OPCORE_TEST_BACKEND``: it raises, so the test xfails with the backend's reason).
    A backend named explicitly must be available and must support the graph (else
    :class:`~opcore.plugins.BackendError` / :class:`~opcore.plugins.UnsupportedOp`).

    >>> import numpy as np, opcore.tensor as T
    >>> from opcore.testing import compare_backends
    >>> x = T.dvector("x")
    >>> res = compare_backends([x], [x * 2], [np.arange(3.0)])
    >>> (doubled,) = res["py"]
    >>> doubled.tolist()
    [0.0, 2.0, 4.0]
    """

    host = get_host().ensure_loaded()
    explicit = backends is not None
    names = list(backends) if explicit else [b.name for b in host.healthy_backends()]
    if reference not in names:
        names.insert(0, reference)
    result = BackendComparison()
    for name in names:
        try:
            result[name] = run_on_backend(inputs, outputs, values, name)
        except UnsupportedOp as exc:
            if (explicit or name in _STRICT) and name != reference:
                raise
            result.skipped[name] = str(exc)
    expected = result[reference]
    for name, got in result.items():
        if name == reference:
            continue
        for k, (g, e) in enumerate(zip(got, expected)):
            _assert_close(g, e, f"output {k} on backend {name!r} vs {reference!r}", rtol, atol)
    return result


def _default_tols(dtype: np.dtype) -> tuple[float, float]:
    if dtype.kind in "fc" and dtype.itemsize <= (4 if dtype.kind == "f" else 8):
        return 1e-4, 1e-5
    return 1e-7, 1e-10


def _assert_close(got: Any, expected: Any, what: str, rtol: float | None = None,
                  atol: float | None = None) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {expected.shape}")
    if got.dtype != expected.dtype:
        raise AssertionError(f"{what}: dtype {got.dtype}, expected {expected.dtype}")
    if expected.dtype.kind in "fc":
        d_rtol, d_atol = _default_tols(expected.dtype)
        np.testing.assert_allclose(got, expected, rtol=rtol if rtol is not None else d_rtol,
                                   atol=atol if atol is not None else d_atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


class _CheckingLinker:
    """Wraps a backend's linker: a node the backend does not implement (``implements_op``)
    raises UnsupportedOp."""

    def __init__(self, linker: Any, backend: Any) -> None:
        self._linker = linker
        self._backend = backend

    def _check(self, node: Any) -> None:
        ok, reason = self._backend.implements_op(node.op)
        if not ok:
            raise UnsupportedOp(self._backend.name, node.op, reason)

    def make_thunk(self, node: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(node)
        return self._linker.make_thunk(node, *args, **kwargs)

    def make_program(self, fgraph: Any, order: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        for node in order:
            self._check(node)
        return self._linker.make_program(fgraph, order, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._linker, name)


def strict_backend(name: str) -> Any:
    """Make backend ``name`` raise UnsupportedOp for unsupported ops; returns an undo callable.

    Used by the pytest plugin so that an op the backend lacks xfails instead of silently running
    a fallback.
    """

    host = get_host().ensure_loaded()
    backend = host.backends.get(name)
    if backend is None:
        raise BackendError(f"unknown backend {name!r}; known backends: "
                           + ", ".join(host.backends.names()))
    if backend.supports is None and backend.implements is None:
        return lambda: None
    factory = backend.linker_factory
    _STRICT.add(name)

    def checking_factory(mode: Any) -> Any:
        return _CheckingLinker(factory(mode), backend)

    wrapped = dataclasses.replace(backend, linker_factory=checking_factory)
    entry = host.backends._backends[name]
    host.backends._backends[name] = (wrapped, entry[1])

    def undo() -> None:
        host.backends._backends[name] = entry
        _STRICT.discard(name)

    return undo
