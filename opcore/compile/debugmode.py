"""DebugMode: run every implementation of every node and check them against ``perform``.

For each node of the rewritten graph, the DebugMode linker's thunk

* runs the op's Python ``perform`` on copies of the inputs (the reference);
* runs each healthy installed backend's thunk for the node
  (``backend.linker_factory(mode).make_thunk(node, storage_map)``) on its own copies and compares
  the outputs with the reference (``values_eq_approx``);
* checks that ``perform`` modified only the inputs its ``destroy_map`` declares, and that an
  output which shares memory with an input is declared in ``view_map`` or ``destroy_map``;
* checks ``infer_shape`` against the real output shapes.

Any violation raises :class:`DebugModeError` naming the node, the implementation and the
difference.  It is slow by design: use it to test ops and backends.

>>> import opcore, opcore.tensor as T
>>> x = T.dvector('x')
>>> f = opcore.function([x], T.exp(x) + 1, mode='DebugMode')
>>> float(f([0.0])[0])
2.0
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Self, Sequence

import numpy as np

from opcore.compile.function import Function, function
from opcore.compile.linker import Linker
from opcore.graph.basic import Apply, as_symbolic, Variable
from opcore.graph.params import perform_params
from opcore.compile.mode import Mode, register_mode
from opcore.graph.traversal import clone_replace
from opcore.plugins import get_host

if TYPE_CHECKING:
    from opcore.compile.linker import StorageMap


class DebugModeError(Exception):
    """An implementation disagrees with ``perform``, or an op broke its declarations."""


class InvalidValueError(DebugModeError):
    """A node produced NaN or Inf while ``DebugMode(check_isfinite=True)``."""


def _copy(v: Any) -> Any:
    if isinstance(v, (np.random.Generator, np.random.RandomState)):
        return copy.deepcopy(v)  # each implementation draws from the same generator state
    return v.copy() if isinstance(v, np.ndarray) else (np.array(v) if np.isscalar(v) else v)


def _shares(a: Any, b: Any) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)


def _same(var: Variable, a: Any, b: Any) -> bool:
    t = var.type
    if hasattr(t, "values_eq_approx"):
        try:
            return bool(t.values_eq_approx(a, b))
        except Exception:
            return False
    return bool(np.all(a == b))


def _diff(a: Any, b: Any) -> str:
    try:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return f"shapes {a.shape} vs {b.shape}"
        d = np.abs(a.astype("float64") - b.astype("float64"))
        return f"max abs difference {np.nanmax(d) if d.size else 0.0:g}"
    except Exception:
        return f"{a!r} vs {b!r}"


class _ShapeChecker:
    """Evaluates a node's ``infer_shape`` for concrete input shapes (compiled lazily, once)."""

    def __init__(self, node: Apply) -> None:
        self.node = node
        self.fn: Function | None = None
        self.failed = False

    def __call__(self, input_values: list[Any]) -> Any:
        if self.failed:
            return None
        if self.fn is None:
            self.fn = self._build()
            if self.fn is None:
                self.failed = True
                return None
        args: list[Any] = []
        for v in input_values:
            args.extend(np.int64(s) for s in np.shape(v))
        args.extend(input_values)
        return self.fn(*args)

    def _build(self) -> Function | None:
        node = self.node
        fn = getattr(node.op, "infer_shape", None)
        if fn is None or not all(hasattr(i.type, "ndim") for i in node.inputs):
            return None
        length = as_symbolic(np.int64(0)).type  # the type of a symbolic int64 scalar (a length)
        dims = [[length(f"s{k}_{d}") for d in range(i.type.ndim)] for k, i in enumerate(node.inputs)]
        try:
            try:
                shapes = fn(node, [tuple(d) for d in dims])
            except TypeError:
                shapes = fn(None, node, [tuple(d) for d in dims])
        except Exception:
            return None
        outs: list[Variable] = []
        for s in shapes:
            outs.extend(as_symbolic(d) for d in (s or ()))
        if not outs:
            return None
        fresh = [i.type() for i in node.inputs]
        outs = clone_replace(outs, dict(zip(node.inputs, fresh)))
        flat = [d for ds in dims for d in ds]
        self.n_dims = [len(s or ()) for s in shapes]
        f = function(flat + fresh, outs, mode=Mode(linker="py", optimizer=None),
                     on_unused_input="ignore")
        return f


class DebugLinker(Linker):
    """A linker whose thunks run and cross-check every implementation of their node."""

    backend_name = "py"

    def __init__(self, mode: "DebugMode") -> None:
        super().__init__(None)
        self.mode = mode
        self._others: list[tuple[str, Linker]] | None = None

    def other_linkers(self) -> list[tuple[str, Linker]]:
        """``[(backend name, linker)]`` for every healthy backend except pure Python."""
        if self._others is None:

            host = get_host()
            host.ensure_loaded()
            self._others = []
            for b in host.healthy_backends():
                if b.name == "py" or b.linker_factory is None:
                    continue
                try:
                    self._others.append((b.name, b.linker_factory(Mode(backend=b.name))))
                except Exception:  # a backend that cannot even build a linker is skipped
                    continue
        return self._others

    def make_thunk(self, node: Apply, storage_map: StorageMap) -> Callable[[], Any]:
        ins = [storage_map[v] for v in node.inputs]
        outs = [storage_map[v] for v in node.outputs]
        op = node.op
        destroyed = {i for ii in (getattr(op, "destroy_map", None) or {}).values() for i in ii}
        allowed_alias: dict[int, set[int]] = {}
        for m in (getattr(op, "destroy_map", None) or {}, getattr(op, "view_map", None) or {}):
            for o, ii in m.items():
                allowed_alias.setdefault(o, set()).update(ii)
        shape_check = _ShapeChecker(node) if self.mode.check_shapes else None
        others = []
        for name, linker in (self.other_linkers() if self.mode.check_c_code else ()):
            local = {v: [None] for v in list(node.inputs) + list(node.outputs)}
            try:
                other = linker.make_thunk(node, local)
            except Exception:
                continue  # this backend has no implementation for the node
            others.append((name, other, local))

        def thunk() -> None:
            values = [c[0] for c in ins]
            originals = [_copy(v) for v in values]
            # the reference: perform on private copies, so destroy_map can be checked
            work = [_copy(v) for v in values]
            ref: list[list[Any]] = [[None] for _ in node.outputs]
            compare = others
            if self.mode.check_py_code or not others:
                op.perform(node, work, ref, *perform_params(op, node))
            else:  # check_py_code=False: the first other implementation is the reference
                name0, first, local0 = others[0]
                for v, val in zip(node.inputs, work):
                    local0[v][0] = val
                first()
                for o, var in enumerate(node.outputs):
                    ref[o][0] = local0[var][0]
                compare = others[1:]
            if self.mode.check_isfinite:
                for o, cell in enumerate(ref):
                    val = cell[0]
                    if (isinstance(val, (np.ndarray, np.generic)) and val.dtype.kind in "fc"
                            and not np.all(np.isfinite(val))):
                        raise InvalidValueError(
                            f"{op} (node {node}) output {o} holds "
                            f"{'NaN' if np.isnan(val).any() else 'Inf'} (check_isfinite=True)")
            for i, (before, after) in enumerate(zip(originals, work)):
                if i in destroyed:
                    continue
                if isinstance(before, np.ndarray) and not (
                        before.shape == np.shape(after) and np.array_equal(
                            before, after, equal_nan=before.dtype.kind in "fc")):
                    raise DebugModeError(f"{op} (node {node}) modified its input {i} "
                                         f"({node.inputs[i]}) without declaring it in destroy_map")
            for o, cell in enumerate(ref):
                for i, w in enumerate(work):
                    if _shares(cell[0], w) and i not in allowed_alias.get(o, ()):
                        raise DebugModeError(
                            f"{op} (node {node}): output {o} shares memory with input {i} "
                            "but view_map/destroy_map do not declare it")
            for o, (cell, var) in enumerate(zip(ref, node.outputs)):
                if hasattr(var.type, "filter") and cell[0] is not None:
                    try:
                        var.type.filter(cell[0], strict=True)
                    except (TypeError, ValueError) as exc:
                        raise DebugModeError(f"{op} (node {node}) output {o} has a value that "
                                             f"does not fit its type {var.type}: {exc}") from None
            if shape_check is not None:
                inferred = shape_check(originals)
                if inferred is not None:
                    k = 0
                    for o, n in enumerate(shape_check.n_dims):
                        want = tuple(int(d) for d in inferred[k:k + n])
                        k += n
                        got = np.shape(ref[o][0])
                        if want != got:
                            raise DebugModeError(f"{op}.infer_shape (node {node}) gave {want} "
                                                 f"for output {o}, the real shape is {got}")
            for name, other, local in compare:
                for v, val in zip(node.inputs, originals):
                    local[v][0] = _copy(val)
                for v in node.outputs:
                    local[v][0] = None
                try:
                    other()
                except Exception as exc:
                    raise DebugModeError(f"backend {name!r} failed on {op} (node {node}): "
                                         f"{type(exc).__name__}: {exc}") from exc
                for o, var in enumerate(node.outputs):
                    got = local[var][0]
                    if not _same(var, ref[o][0], got):
                        raise DebugModeError(
                            f"backend {name!r} disagrees with perform on {op} (node {node}), "
                            f"output {o}: {_diff(ref[o][0], got)}")
            # hand the reference result on, honouring in-place semantics for the real inputs
            for o, cell in enumerate(ref):
                dm = (getattr(op, "destroy_map", None) or {}).get(o)
                if dm and isinstance(values[dm[0]], np.ndarray) and isinstance(
                        cell[0], np.ndarray) and values[dm[0]].shape == cell[0].shape:
                    values[dm[0]][...] = cell[0]
                    outs[o][0] = values[dm[0]]
                else:
                    outs[o][0] = cell[0]

        return thunk


class DebugMode(Mode):
    """FAST_RUN's rewrites, linked by :class:`DebugLinker` (see the module docstring).

    Theano's switches: ``check_py_code`` (run ``perform`` as the reference; when False and
    another implementation exists, the first backend's result is the reference),
    ``check_c_code`` (run and compare every other backend's implementation), ``check_isfinite``
    (a NaN or Inf in a float output raises :class:`InvalidValueError`), ``check_shapes``
    (compare ``infer_shape`` with the real shapes).
    """

    def __init__(self, optimizer: str | None = "fast_run", check_shapes: bool = True,
                 check_c_code: bool = True, check_py_code: bool = True,
                 check_isfinite: bool = True, stability_patience: int | None = None,
                 check_preallocated_output: Sequence[str] | None = None,
                 require_matching_strides: int | None = None, linker: Any = None,
                 **kw: Any) -> None:
        # Theano's stability_patience, check_preallocated_output, require_matching_strides and
        # linker are accepted and have no effect (see docs/porting-differences.md)
        self.check_shapes = check_shapes
        self.check_c_code = check_c_code
        self.check_py_code = check_py_code
        self.check_isfinite = check_isfinite
        super().__init__(linker=None, optimizer=optimizer, name="DebugMode", debug=True, **kw)
        self.backend = "py"
        self.linker_obj = DebugLinker(self)

    def _copy(self, **kw: Any) -> Self:
        m = super()._copy(**kw)
        m.linker_obj = DebugLinker(m)
        return m


register_mode("DebugMode", DebugMode)
register_mode("DEBUG_MODE", DebugMode)
