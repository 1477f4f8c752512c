"""The Scan op: a loop whose body is an inner graph compiled once per outer compile.

Layout of a Scan node (everything is decided by :func:`opcore.scan.scan`, which builds it):

* outer inputs: ``[n_steps] + sequences + state initial buffers + non_sequences``.  Sequences have
  one tap each (the builder turns taps into shifted slices of the user's sequence); a state's
  initial buffer has a leading time axis holding at least ``-min(taps)`` entries.
* inner inputs: one slice per sequence, one value per (state, tap), one per non-sequence.
* inner outputs: each state's new value, each ``nit`` output (no recurrence), then the ``until``
  condition when there is one.
* outer outputs: each state's values for every step (or only the last, ``save_last``), then each
  nit output stacked over steps.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore.compile.io import In
from opcore.graph.basic import Apply, Variable
from opcore import tensor as T
from opcore.compile.function import function
from opcore.graph.op import Op, ShapeUnknown
from opcore.graph.fg import FunctionGraph
from opcore.graph.traversal import ancestors, clone_replace, graph_inputs
from opcore.scan.utils import inner_mode
from opcore.tensor.basic import MakeVector, Shape, Shape_i
from opcore.tensor.rewriting.shape import ShapeFeature
from opcore.tensor.type import TensorType


class ScanInfo:
    """The static description of a Scan node (hashable, picklable)."""

    __slots__ = ("n_seqs", "state_taps", "n_nit", "n_ns", "has_until", "save_last",
                 "truncate_gradient", "go_backwards", "name", "mode", "n_steps_given",
                 "seq_names", "out_names", "empty_if_no_steps")

    def __init__(self, n_seqs: int, state_taps: Sequence[Sequence[int]], n_nit: int, n_ns: int,
                 has_until: bool = False, save_last: Sequence[bool] | None = None,
                 truncate_gradient: int = -1, go_backwards: bool = False,
                 name: str | None = None, mode: Any = None, n_steps_given: bool = False,
                 seq_names: Sequence[str] = (), out_names: Sequence[str] = (),
                 empty_if_no_steps: Sequence[bool] | None = None) -> None:
        self.n_seqs = n_seqs
        self.state_taps = tuple(tuple(sorted(t)) for t in state_taps)
        self.n_nit = n_nit
        self.n_ns = n_ns
        self.has_until = has_until
        n_out = len(self.state_taps) + n_nit
        self.save_last = tuple(save_last) if save_last is not None else (False,) * n_out
        self.truncate_gradient = truncate_gradient
        self.go_backwards = go_backwards
        self.name = name
        self.mode = mode
        self.n_steps_given = n_steps_given
        self.seq_names = tuple(seq_names) or tuple(f"sequences[{i}]" for i in range(n_seqs))
        self.out_names = tuple(out_names) or tuple(f"output {i}" for i in range(n_out))
        # a save_last state output whose value after zero steps is empty (what reading [-1] of the
        # full history would see) rather than the initial value (a shared variable's update)
        self.empty_if_no_steps = (tuple(empty_if_no_steps) if empty_if_no_steps is not None
                                  else (False,) * n_out)

    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    def replace(self, **kw) -> "ScanInfo":
        d = {k: getattr(self, k) for k in self.__slots__}
        d.update(kw)
        return ScanInfo(**d)

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, d):
        d.setdefault("empty_if_no_steps", (False,) * len(d["save_last"]))
        for k, v in d.items():
            setattr(self, k, v)


class Scan(Op):
    """A loop over ``n_steps`` with an inner graph (see the module docstring for the layout).

    No ``__props__``: two Scan ops are equal only when they are the same object (their inner
    graphs are not compared).
    """

    def __init__(self, inner_inputs: Sequence[Variable], inner_outputs: Sequence[Variable],
                 info: ScanInfo) -> None:

        self.info = info
        # an isolated copy: rewrites of the outer graph never touch the loop body
        fg = FunctionGraph(list(inner_inputs), list(inner_outputs), clone=True)
        self.inner_inputs = list(fg.inputs)
        self.inner_outputs = list(fg.outputs)
        self.fgraph = fg
        self.name = info.name

    def __str__(self) -> str:
        return f"Scan{{{self.info.name or 'scan_fn'}}}"

    def __getstate__(self):
        d = dict(self.__dict__)
        d.pop("_perform_fn", None)
        return d

    # -- layout helpers -----------------------------------------------------------------------
    def outer_seqs(self, node: Apply) -> list:
        return node.inputs[1:1 + self.info.n_seqs]

    def outer_inits(self, node: Apply) -> list:
        a = 1 + self.info.n_seqs
        return node.inputs[a:a + self.info.n_states]

    def outer_non_seqs(self, node: Apply) -> list:
        return node.inputs[1 + self.info.n_seqs + self.info.n_states:]

    def make_node(self, n_steps: Any, *inputs: Any) -> Apply:
        info = self.info
        n_steps = T.as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype not in ("int8", "int16", "int32", "int64",
                                                       "uint8", "uint16", "uint32", "uint64"):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps} "
                            f"({n_steps.type})")
        n_steps = T.cast(n_steps, "int64") if n_steps.dtype != "int64" else n_steps
        expected = info.n_seqs + info.n_states + info.n_ns
        if len(inputs) != expected:
            raise TypeError(f"{self}: expected {expected} outer inputs after n_steps, "
                            f"got {len(inputs)}")
        # sequences and states are tensors; a non-sequence may be any variable (a typed list...)
        n_tensor = info.n_seqs + info.n_states
        inputs = ([T.as_tensor_variable(v) for v in inputs[:n_tensor]]
                  + [v if isinstance(v, Variable) else T.as_tensor_variable(v)
                     for v in inputs[n_tensor:]])
        outs = []
        k = info.n_seqs
        for s in range(info.n_states):
            inner = self.inner_outputs[s]
            init = inputs[info.n_seqs + s]
            if init.dtype != inner.dtype or init.ndim != inner.ndim + 1:
                raise TypeError(f"{self}: initial buffer {s} ({init.type}) does not match the "
                                f"state type {inner.type} with a leading time axis")
            outs.append(T.TensorType(inner.dtype, broadcastable=(False,) + inner.broadcastable)())
            k += len(info.state_taps[s])
        for j in range(info.n_nit):
            inner = self.inner_outputs[info.n_states + j]
            outs.append(T.TensorType(inner.dtype, broadcastable=(False,) + inner.broadcastable)())
        return Apply(self, [n_steps] + inputs, outs)

    # -- running ------------------------------------------------------------------------------
    def compile_inner(self, mutable: Sequence[int] = ()):
        """The inner graph compiled by ``opcore.function`` with the scan's mode (else the mode of
        the outer function being linked).  ``mutable``: indices of inner inputs the function may
        overwrite (``In(mutable=True)``); a loop giving it values it owns (a backend's loop over
        a state whose last value only is kept) lets in-place rewrites update the state."""
        mut = set(mutable)
        ins = [In(v, mutable=True) if i in mut else v for i, v in enumerate(self.inner_inputs)]
        fn = function(ins, list(self.inner_outputs), mode=inner_mode(self.info.mode),
                      on_unused_input="ignore", name=f"{self}.inner")
        return fn

    _compile_inner = compile_inner

    def make_py_thunk(self, node: Apply, storage_map: dict):
        fn = self._compile_inner()  # once per outer compile
        ins = [storage_map[v] for v in node.inputs]
        outs = [storage_map[v] for v in node.outputs]
        run = self._loop

        def thunk():
            run(fn, node, [c[0] for c in ins], outs)
        thunk.inputs = ins
        thunk.outputs = outs
        return thunk

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        fn = self.__dict__.get("_perform_fn")
        if fn is None:
            fn = self._perform_fn = self._compile_inner()
        self._loop(fn, node, inputs, output_storage)

    def _loop(self, fn, node: Apply, inputs: list, output_storage: list) -> None:
        state = self.loop_begin(fn, node, inputs)
        self.loop_end(state, self._steps(fn, state), output_storage)

    def loop_begin(self, fn, node: Apply, inputs: list) -> "LoopState":
        """Check the outer values, allocate the output buffers and bind the inner function's
        non-sequence cells: what a loop over the steps needs (a backend's compiled loop uses it
        with :meth:`loop_end`, so both loops give the same results and errors).

        Raises ``ValueError`` for a negative ``n_steps``, a scalar or too short sequence, or an
        initial value with fewer entries than its taps need."""
        info = self.info
        ns, nst = info.n_seqs, info.n_states
        n = int(inputs[0])
        seqs = inputs[1:1 + ns]
        inits = inputs[1 + ns:1 + ns + nst]
        nsv = inputs[1 + ns + nst:]
        if n < 0:
            raise ValueError(f"{self}: n_steps must be >= 0, got {n}")
        for i, s in enumerate(seqs):
            if s.ndim == 0:
                raise ValueError(f"{self}: sequence {info.seq_names[i]} is a scalar; sequences "
                                 "need a leading axis to iterate over")
            if s.shape[0] < n:
                # longer sequences are fine (only the first n entries are read)
                raise ValueError(
                    f"{self}: sequence {info.seq_names[i]} has {s.shape[0]} entries (after "
                    f"taps) but the loop needs {n} steps (n_steps)")
        cells = fn.input_cells
        outcells = fn.output_cells
        st = LoopState(n)
        for k, taps in enumerate(info.state_taps):
            m = -taps[0]
            init = inits[k]
            if init.shape[0] < m:
                raise ValueError(
                    f"{self}: taps out of range: {info.out_names[k]} uses tap {taps[0]}, so its "
                    f"initial value needs at least {m} entries along axis 0, got {init.shape[0]}")
            size = m if info.save_last[k] else m + n
            buf = np.empty((size,) + init.shape[1:], dtype=node.outputs[k].dtype)
            buf[:m] = init[init.shape[0] - m:]
            st.bufs.append(buf)
            st.ms.append(m)
        st.nit_bufs = [None] * info.n_nit
        st.nit_dtypes = [np.dtype(node.outputs[nst + q].dtype) for q in range(info.n_nit)]
        st.nit_ndims = [node.outputs[nst + q].ndim for q in range(info.n_nit)]
        j0 = ns + sum(len(t) for t in info.state_taps)
        for j, v in enumerate(nsv):
            cells[j0 + j][0] = v
        j = ns
        for k, taps in enumerate(info.state_taps):
            for tap in taps:
                st.reads.append((cells[j], st.bufs[k], st.ms[k], tap, info.save_last[k]))
                j += 1
        st.writes = [(outcells[k], st.bufs[k], st.ms[k], info.save_last[k], st.bufs[k].shape[1:], k)
                     for k in range(nst)]
        st.seq_cells = list(zip(cells[:ns], seqs))
        st.nit_cells = [(q, outcells[nst + q], info.save_last[nst + q])
                        for q in range(info.n_nit)]
        st.until_cell = outcells[-1] if info.has_until else None
        return st

    def step_error(self, exc: BaseException, t: int) -> BaseException:
        """The exception a failure of the inner function at step ``t`` raises: ``exc``'s type,
        naming this scan and the step (``exc`` is its ``__cause__``)."""
        new = type(exc)(f"{self}: error at step {t}: {exc}")
        new.__cause__ = exc
        return new

    def state_shape_error(self, k: int, val: Any, t: int, shp: tuple) -> ValueError:
        """A recurrent output ``k`` whose value at step ``t`` lost the state's shape ``shp``."""
        return ValueError(
            f"{self}: {self.info.out_names[k]} has shape {np.shape(val)} at step {t} but "
            f"its initial value has shape {shp}; a recurrent output must keep its "
            "shape across steps")

    def nit_shape_error(self, q: int, shape: tuple, t: int, first: tuple) -> ValueError:
        """A nit output ``q`` whose shape at step ``t`` differs from its shape at step 0."""
        return ValueError(
            f"{self}: {self.info.out_names[self.info.n_states + q]} has shape {shape} at step "
            f"{t} but {first} at step 0; outputs must keep their shape")

    def _steps(self, fn, st: "LoopState") -> int:
        """Run the steps in Python; returns how many ran (fewer than ``n`` after ``until``)."""
        run = fn._run
        reads, writes, seq_cells = st.reads, st.writes, st.seq_cells
        nit_cells, until_cell, nit_bufs = st.nit_cells, st.until_cell, st.nit_bufs
        n = st.n
        for t in range(n):
            for cell, s in seq_cells:
                cell[0] = s[t, ...]
            for cell, buf, m, tap, ring in reads:
                cell[0] = buf[(t + tap) % m if ring else m + t + tap, ...]
            try:
                run()
            except Exception as exc:
                raise self.step_error(exc, t) from exc
            for cell, buf, m, ring, shp, k in writes:
                val = cell[0]
                if getattr(val, "shape", ()) != shp:
                    raise self.state_shape_error(k, val, t, shp)
                buf[t % m if ring else m + t] = val
            for q, cell, last in nit_cells:
                val = np.asarray(cell[0])
                if last:
                    nit_bufs[q] = val.copy()
                    continue
                if nit_bufs[q] is None:
                    nit_bufs[q] = np.empty((n,) + val.shape, dtype=st.nit_dtypes[q])
                elif val.shape != nit_bufs[q].shape[1:]:
                    raise self.nit_shape_error(q, val.shape, t, nit_bufs[q].shape[1:])
                nit_bufs[q][t] = val
            if until_cell is not None and until_cell[0]:
                return t + 1
        return n

    def loop_end(self, st: "LoopState", n_done: int, output_storage: list) -> None:
        """Store the outputs of a loop that ran ``n_done`` steps into ``output_storage``."""
        info = self.info
        nst, n = info.n_states, st.n
        bufs, nit_bufs = st.bufs, st.nit_bufs
        for k in range(nst):
            m = st.ms[k]
            if info.save_last[k]:
                if n_done == 0 and info.empty_if_no_steps[k]:
                    output_storage[k][0] = bufs[k][:0].copy()
                    continue
                last = bufs[k][(n_done - 1) % m] if n_done > 0 else bufs[k][m - 1]
                output_storage[k][0] = last[None].copy()
            else:
                output_storage[k][0] = bufs[k][m:m + n_done]
        for q in range(info.n_nit):
            if nit_bufs[q] is None:
                output_storage[nst + q][0] = np.zeros((0,) * st.nit_ndims[q],
                                                      dtype=st.nit_dtypes[q])
            elif info.save_last[nst + q]:
                output_storage[nst + q][0] = nit_bufs[q][None]
            else:
                output_storage[nst + q][0] = nit_bufs[q][:n_done]

    # -- shapes and derivatives -----------------------------------------------------------------
    def infer_shape(self, node: Apply, shapes: list) -> list:
        info = self.info
        if info.has_until:
            raise ShapeUnknown(self)
        n = node.inputs[0]
        one = T.constant(np.int64(1))
        out = []
        inits = shapes[1 + info.n_seqs:1 + info.n_seqs + info.n_states]
        for k in range(info.n_states):
            lead = n
            if info.save_last[k]:
                lead = T.minimum(n, one) if info.empty_if_no_steps[k] else one
            out.append((lead,) + tuple(inits[k][1:]))
        for q in range(info.n_nit):
            k = info.n_states + q
            lead = one if info.save_last[k] else n
            rest = _nit_shape(self, node, q, shapes)
            if rest is None:
                raise ShapeUnknown(self)
            out.append((lead,) + tuple(rest))
        return out

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from opcore.scan.grad import scan_grad

        return scan_grad(self, inputs, outputs, output_grads)

    def connection_pattern(self, node: Apply) -> list:
        return [[True] * len(node.outputs) for _ in node.inputs]


class LoopState:
    """The buffers and inner storage cells of one run of a Scan (:meth:`Scan.loop_begin`).

    ``bufs[k]``: state ``k``'s buffer (``ms[k]`` initial entries, then one per step, or a ring of
    ``ms[k]`` entries when only the last is kept); ``reads``: ``(cell, buffer, m, tap, ring)`` per
    state tap; ``writes``: ``(cell, buffer, m, ring, shape, k)`` per state; ``seq_cells``:
    ``(cell, sequence)``; ``nit_cells``: ``(q, cell, keep_last)``; ``nit_bufs[q]``: nit output
    ``q``'s buffer, allocated at step 0; ``until_cell``: the condition's cell or ``None``."""

    __slots__ = ("n", "bufs", "ms", "reads", "writes", "seq_cells", "nit_cells", "nit_bufs",
                 "nit_dtypes", "nit_ndims", "until_cell")

    def __init__(self, n: int) -> None:
        self.n = n
        self.bufs: list = []
        self.ms: list = []
        self.reads: list = []
        self.writes: list = []
        self.seq_cells: list = []
        self.nit_cells: list = []
        self.nit_bufs: list = []
        self.nit_dtypes: list = []
        self.nit_ndims: list = []
        self.until_cell = None


def _nit_shape(op: Scan, node: Apply, q: int, shapes: list):
    """Trailing shape of nit output ``q``, from the inner graph's ``infer_shape`` given the shape
    of every inner input (a sequence slice: the sequence's shape without its first axis; a state
    tap: the initial buffer's shape without its first axis, a state keeping its shape across
    steps; a non-sequence: its own), or None when it depends on inner values."""
    info = op.info
    inner = op.inner_outputs[info.n_states + q]
    if inner.ndim == 0:
        return ()
    feat = ShapeFeature()
    seq_shapes = shapes[1:1 + info.n_seqs]
    init_shapes = shapes[1 + info.n_seqs:1 + info.n_seqs + info.n_states]
    ns_shapes = shapes[1 + info.n_seqs + info.n_states:]
    given = [shp[1:] if shp is not None else None for shp in seq_shapes]
    for k, taps in enumerate(info.state_taps):
        shp = init_shapes[k]
        given.extend([shp[1:] if shp is not None else None] * len(taps))
    given.extend(ns_shapes)
    for ph, shp in zip(op.inner_inputs, given):
        if shp is not None and isinstance(ph.type, TensorType):
            feat.cache[ph] = tuple(shp)
    dims = list(feat.shape_of(inner))
    inner_ins = set(op.inner_inputs)
    # an op's infer_shape may read another inner variable's shape (a sample of size p.shape):
    # those become the shapes inferred above, until nothing inner is left
    for _ in range(8):
        repl = {}
        for v in ancestors(dims):
            nd = v.owner
            if nd is None or not isinstance(nd.op, (Shape, Shape_i)):
                continue
            x = nd.inputs[0]
            if not (set(graph_inputs([x])) & inner_ins):
                continue
            xs = feat.shape_of(x)
            repl[v] = xs[nd.op.i] if isinstance(nd.op, Shape_i) else (
                MakeVector("int64")(*xs) if xs else v)
        repl = {k: w for k, w in repl.items() if w is not k}
        if not repl:
            break
        dims = list(clone_replace(dims, repl, strict=False))
    if set(graph_inputs(dims)) & inner_ins:
        return None
    return dims
