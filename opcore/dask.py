"""Compiled opcore functions inside Dask: batched inference and data-parallel training.

Install with ``pip install opcore[dask]``.  This module imports ``dask`` and ``distributed`` at its
top and nothing else in opcore imports it, so ``import opcore`` never needs Dask.

* :func:`map_blocks` applies a compiled row-wise function to the row blocks of dask arrays; the
  output chunks and dtype come from the function's output types and ``infer_shape``, so
  ``dask.array`` plans the result without running the function on the data.
* :class:`DataParallel` runs synchronous data-parallel SGD: each minibatch is split into one shard
  per worker, the workers compute the gradients of their shards, the driver sums them (weighted by
  shard size), applies the update and sends the new parameters with the next step.  Tasks are pure
  (parameters travel as arguments, never as worker state), so Dask may rerun a task of a lost worker
  and the parameters on the driver change only once every gradient of the step has arrived.

See ``docs/scale-out.md`` for what travels with a pickled function and when it pays.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

try:
    import dask.array as da
    import distributed
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"opcore.dask needs dask[distributed]: pip install opcore[dask] ({exc})") \
        from exc

import opcore
from opcore.compile.function import Function, function
from opcore.compile.sharedvalue import SharedVariable
from opcore.gradient import grad
from opcore.graph.basic import Variable

__all__ = ["map_blocks", "DataParallel", "NotRowWiseError"]


class NotRowWiseError(ValueError):
    """A function given to :func:`map_blocks` mixes rows (e.g. reduces over axis 0)."""


# -- batched inference ---------------------------------------------------------------------------

def _zeros_view(shape: tuple, dtype: str) -> np.ndarray:
    """An array of ``shape`` that takes no memory (every element is one zero)."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


def _shape_function(f: Function) -> Function:
    """A function giving the shapes of ``f``'s outputs from its inputs (through ``infer_shape``:
    the rewrites replace ``x.shape`` of a computed ``x`` by arithmetic on the inputs' shapes)."""
    spec = f.maker.spec
    outs = [o.variable for o in f.maker.outputs]
    return function([s.variable for s in f.maker.inputs], [o.shape for o in outs],
                    givens=spec.get("givens"), on_unused_input="ignore")


def _output_shapes(shape_fn: Function, in_types: list, shapes: list) -> list[tuple]:
    vals = shape_fn(*[_zeros_view(s, t.dtype) for s, t in zip(shapes, in_types)])
    return [tuple(int(d) for d in v) for v in vals]


def _probe(t, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if np.dtype(t.dtype).kind in "iu":
        return rng.integers(0, 2, size=shape).astype(t.dtype)
    if np.dtype(t.dtype).kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.uniform(0.25, 0.75, size=shape).astype(t.dtype)


def check_row_wise(f: Function, row_shapes: Sequence[tuple]) -> None:
    """Raise :class:`NotRowWiseError` unless row ``i`` of each output of ``f`` depends only on
    row ``i`` of its inputs; ``row_shapes``: the shape of one row of each input.

    Two checks: the shapes (through ``infer_shape``, no values) of each output must have as many
    rows as the inputs for two different row counts; and, on three random probe rows, the
    function applied to the rows one at a time must equal the function applied to all of them
    (this catches ``x - x.mean(axis=0)``, whose shape is row-wise but whose values are not).
    Functions with updates are refused: a block task must not change state.
    """
    name = f._label
    if f.maker.updates:
        raise NotRowWiseError(
            f"map_blocks: {name} updates shared variables "
            f"({[str(s) for s, _ in f.maker.updates]}); a block task must be pure: compile the "
            "inference function without updates")
    in_types = [s.variable.type for s in f.maker.inputs]
    for i, t in enumerate(in_types):
        if getattr(t, "ndim", 0) < 1:
            raise NotRowWiseError(f"map_blocks: input {i} of {name} ({f.maker.inputs[i].variable},"
                                  f" {t}) has no rows to split; every input must be an array")
    shape_fn = _shape_function(f)
    for n in (7, 11):
        shapes = [(n,) + tuple(r) for r in row_shapes]
        for k, (o, s) in enumerate(zip(f.maker.outputs, _output_shapes(shape_fn, in_types, shapes))):
            if len(s) == 0 or s[0] != n:
                raise NotRowWiseError(
                    f"map_blocks: {name} is not row-wise: output {k} ({o.variable}) has shape "
                    f"{s} for inputs of {n} rows (expected {n} rows); it reduces or reshapes "
                    "over the chunked axis 0, so its blocks cannot be computed separately")
    rng = np.random.default_rng(0)
    probes = [_probe(t, (3,) + tuple(r), rng) for t, r in zip(in_types, row_shapes)]
    whole = f(*probes)
    whole = [whole] if f.single else whole
    for r in range(3):
        part = f(*[p[r:r + 1] for p in probes])
        part = [part] if f.single else part
        for k, (a, b) in enumerate(zip(whole, part)):
            if not np.allclose(np.asarray(a)[r:r + 1], b, rtol=1e-5, atol=1e-6, equal_nan=True):
                raise NotRowWiseError(
                    f"map_blocks: {name} is not row-wise: row {r} of output {k} "
                    f"({f.maker.outputs[k].variable}) differs when computed alone; it mixes "
                    "rows (a reduction over axis 0, e.g. x - x.mean(axis=0)), so its blocks "
                    "cannot be computed separately")


def _apply_block(f: Function, k: int, *blocks: np.ndarray) -> np.ndarray:
    out = f(*blocks)
    return np.asarray(out if f.single else out[k])


def map_blocks(f: Function, *arrays: da.Array, check: bool = True) -> da.Array | list[da.Array]:
    """Apply the compiled row-wise function ``f`` to the row blocks of dask arrays.

    ``arrays``: one dask array (or NumPy array, wrapped) per input of ``f``, with the same number
    of rows; they are rechunked to the row chunks of the first and to one chunk along every other
    axis.  Returns one dask array per output of ``f`` (one array when ``f`` has a single output),
    chunked by rows like the first input, with the dtype of the output's type and the other
    dimensions from ``infer_shape``: ``dask.array`` plans the graph without running ``f`` on the
    data.  ``f`` itself travels to the workers pickled once (see :meth:`Function.__reduce__`).

    Raises :class:`NotRowWiseError` when ``f`` is not row-wise (see :func:`check_row_wise`; pass
    ``check=False`` to skip the probe when you know it is), ``TypeError`` when an array's
    ``ndim`` differs from its input's, ``ValueError`` when the row counts differ.

    >>> import numpy as np, dask.array as da, opcore, opcore.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = opcore.function([x], T.tanh(x).sum(axis=1))
    >>> y = map_blocks(f, da.ones((10, 3), chunks=(4, 3)))
    >>> y.chunks, y.dtype
    (((4, 4, 2),), dtype('float64'))
    """
    if not isinstance(f, Function):
        raise TypeError(f"map_blocks: expected a compiled opcore Function, got {type(f).__name__}")
    ins = f.maker.inputs
    if len(arrays) != len(ins):
        raise TypeError(f"map_blocks: {f.name or 'the function'} takes {len(ins)} input(s) "
                        f"({[str(s.variable) for s in ins]}), got {len(arrays)} array(s)")
    arrays = [a if isinstance(a, da.Array) else da.from_array(np.asarray(a)) for a in arrays]
    in_types = [s.variable.type for s in ins]
    for i, (a, t) in enumerate(zip(arrays, in_types)):
        if a.ndim != getattr(t, "ndim", 0):
            raise TypeError(f"map_blocks: array {i} has {a.ndim} dimension(s) but input "
                            f"{ins[i].variable} has type {t} ({getattr(t, 'ndim', 0)} dimensions)")
        if a.shape[0] != arrays[0].shape[0]:
            raise ValueError(f"map_blocks: array {i} has {a.shape[0]} rows, array 0 has "
                             f"{arrays[0].shape[0]}; row-wise inputs must have the same rows")
    if check:
        check_row_wise(f, [a.shape[1:] for a in arrays])
    rows = arrays[0].chunks[0]
    arrays = [a.rechunk((rows,) + tuple(-1 for _ in a.shape[1:])) for a in arrays]
    shape_fn = _shape_function(f)
    # the non-row dimensions of each output, for the first block (row-wise: they do not vary)
    out_shapes = _output_shapes(shape_fn, in_types, [(rows[0],) + a.shape[1:] for a in arrays])
    idx = "abcdefghijklmnopqrstuvwxyz"
    results = []
    for k, (o, shp) in enumerate(zip(f.maker.outputs, out_shapes)):
        out_ind = idx[:len(shp)]
        args = []
        for a in arrays:
            args += [a, "a" + idx[len(shp):len(shp) + a.ndim - 1]]
        results.append(da.blockwise(
            _apply_block, out_ind, f, None, k, None, *args,
            new_axes={c: d for c, d in zip(out_ind[1:], shp[1:])},
            concatenate=True, dtype=np.dtype(o.variable.type.dtype),
            name=f"opcore-{f.name or 'function'}-{k}"))
    return results[0] if f.single else results


# -- data-parallel training -----------------------------------------------------------------------

def sgd(lr: float) -> Callable[[list, list], list]:
    """The update rule ``p <- p - lr * g`` for :class:`DataParallel` (``update_rule=sgd(0.1)``)."""
    def rule(params: list, grads: list) -> list:
        return [(p, p - np.asarray(lr, dtype=p.dtype) * g) for p, g in zip(params, grads)]
    return rule


def _shard_grads(fn: Function, param_values: list, weight: float, *shard: np.ndarray) -> list:
    """On a worker: loss and gradients of one shard, scaled by ``weight`` (its share of rows)."""
    out = fn(*shard, *param_values)
    return [np.asarray(v) * weight for v in out]


class DataParallel:
    """Synchronous data-parallel training of shared ``params`` on a Dask cluster.

    ``loss``: a scalar variable, the *mean* over the rows of the minibatch (``reduction="mean"``,
    the usual case) or their *sum* (``reduction="sum"``).  ``params``: the shared variables to
    train.  ``inputs``: the symbolic inputs of one minibatch (all split along axis 0).
    ``client``: a ``distributed.Client``.  ``update_rule(params, grads) -> updates``: the update
    applied on the driver (default :func:`sgd` with ``lr``); ``grads`` are symbolic
    placeholders for the summed gradients, so any rule built from opcore expressions works
    (momentum keeps its own shared state on the driver).  ``retries``: how many times one step is
    restarted when workers are lost (on top of Dask's own rescheduling of a dead worker's tasks);
    ``timeout``: seconds a scatter or a step's tasks may take before the step is restarted.

    :meth:`step` returns the minibatch loss (the mean or sum like ``loss``); after it the shared
    variables hold the new values.  The result equals single-process training on the same
    minibatches to float rounding (the sum of per-shard gradients is the gradient of the sum).
    """

    def __init__(self, loss: Variable, params: Sequence[SharedVariable], inputs: Sequence[Variable],
                 client: distributed.Client, lr: float = 0.1,
                 update_rule: Callable[[list, list], list] | None = None,
                 reduction: str = "mean", retries: int = 3, timeout: float = 60.0,
                 mode: Any = None) -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"DataParallel: reduction must be 'mean' or 'sum', got {reduction!r}")
        params = list(params)
        for p in params:
            if not isinstance(p, SharedVariable):
                raise TypeError(f"DataParallel: parameter {p} is {type(p).__name__}, not a shared "
                                "variable")
        self.client = client
        self.params = params
        self.inputs = list(inputs)
        self.reduction = reduction
        self.retries = retries
        self.timeout = timeout
        # the worker function takes the parameters as inputs: a task is a pure function of its
        # arguments, so rerunning it (a lost worker) cannot change any state
        p_in = [p.type() for p in params]
        for v, p in zip(p_in, params):
            v.name = p.name
        grads = grad(loss, params)
        self.grad_fn = function(self.inputs + p_in, [loss] + list(grads), mode=mode,
                                givens=list(zip(params, p_in)), name="shard_grads")
        g_in = [p.type() for p in params]
        rule = update_rule if update_rule is not None else sgd(lr)
        self.apply_fn = function(g_in, [], updates=rule(params, g_in), mode=mode,
                                 name="apply_update")
        self._fn_future = None
        self.scatter_function()

    def scatter_function(self) -> None:
        """Send the gradient function to every worker (once; again after workers are lost)."""
        self._fn_future = self.client.scatter(self.grad_fn, broadcast=True, hash=False,
                                              timeout=self.timeout)

    def _shards(self, batch: Sequence[np.ndarray]) -> list[tuple[float, list]]:
        n = len(batch[0])
        for i, b in enumerate(batch):
            if len(b) != n:
                raise ValueError(f"DataParallel.step: input {i} ({self.inputs[i]}) has {len(b)} "
                                 f"rows, input 0 has {n}")
        k = max(1, min(len(self.client.scheduler_info(n_workers=-1)["workers"]) or 1, n))
        bounds = np.linspace(0, n, k + 1).astype(int)
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            w = (b - a) / n if self.reduction == "mean" else 1.0
            out.append((w, [x[a:b] for x in batch]))
        return out

    def gradients(self, *batch: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """The minibatch loss and the gradients of the parameters, computed on the workers."""
        batch = [np.asarray(b) for b in batch]
        if len(batch) != len(self.inputs):
            raise TypeError(f"DataParallel.step takes {len(self.inputs)} input(s) "
                            f"({[str(v) for v in self.inputs]}), got {len(batch)}")
        values = [p.get_value(borrow=False) for p in self.params]
        last = None
        futures: list = []
        for attempt in range(self.retries + 1):
            try:
                if self._fn_future is None or self._fn_future.status != "finished":
                    self.scatter_function()
                # the parameter values travel inside each shard's task (not a broadcast scatter:
                # that can wait forever on a worker that dies during it)
                futures = [self.client.submit(_shard_grads, self._fn_future, values, w, *shard,
                                              pure=False, retries=self.retries)
                           for w, shard in self._shards(batch)]
                distributed.wait(futures, timeout=self.timeout)
                parts = self.client.gather(futures)
                break
            except (distributed.client.FutureCancelledError, distributed.scheduler.KilledWorker,
                    distributed.comm.CommClosedError, OSError, TimeoutError) as exc:
                last = exc
                self.client.cancel(futures)
                self._fn_future = None  # the workers holding it may be gone: send it again
        else:
            raise RuntimeError(f"DataParallel.step: the step failed {self.retries + 1} times; "
                               f"the parameters are unchanged ({last!r})") from last
        total = [sum(vals) for vals in zip(*parts)]
        return float(total[0]), total[1:]

    def step(self, *batch: np.ndarray) -> float:
        """One synchronous SGD step on the minibatch ``batch`` (one array per input).

        The parameters change only after every shard's gradient has arrived: a step that fails
        raises ``RuntimeError`` and leaves them as they were."""
        loss, grads = self.gradients(*batch)
        self.apply_fn(*[np.asarray(g, dtype=p.dtype) for g, p in zip(grads, self.params)])
        return loss
