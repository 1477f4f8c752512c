"""Elementwise maps (Elemwise), axis shuffles (DimShuffle) and reductions (CAReduce)."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from opcore.graph.basic import Apply, Variable
from opcore.graph.null import grad_not_implemented
from opcore.graph.op import Op
from opcore.scalar.basic import Composite, ScalarOp
from opcore.tensor.type import TensorType
from opcore.tensor.hints import Axis, DTypeLike, InputShapes, OutputShapes, TensorLike

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorConstant, TensorVariable


def _T():
    import opcore.tensor as T

    return T


class Elemwise(Op):
    """Apply ``scalar_op`` to every element, with NumPy broadcasting.

    Inputs of lower rank are padded on the left with broadcastable dimensions.  A dimension is
    broadcast only when the type says it may be (its broadcastable flag), so a length mismatch at
    run time is an error instead of a silent broadcast.  ``inplace_pattern`` ({output: input})
    makes the op overwrite an input (set by the in-place rewrite only).
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op: ScalarOp, inplace_pattern: dict[int, int] | None = None,
                 name: str | None = None) -> None:
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern}
        self.name = name
        self.nfunc = getattr(scalar_op, "numpy", None)
        self._nout = len(scalar_op.outputs) if isinstance(scalar_op, Composite) else 1

    def __getstate__(self) -> dict[str, Any]:
        # nfunc is derived from scalar_op (and may be a lambda): rebuilt on unpickling
        state = dict(self.__dict__)
        state.pop("nfunc", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.nfunc = getattr(self.scalar_op, "numpy", None)

    def __str__(self) -> str:
        # Theano's spelling: Elemwise{add,no_inplace} as built by the user, Elemwise{add}[(0, 0)]
        # once a rewrite makes it in-place, Elemwise{Composite{...}} for fused loops
        if self.name:
            return self.name
        if self.inplace_pattern:
            return f"Elemwise{{{self.scalar_op}}}{list(self.inplace_pattern)}"
        if isinstance(self.scalar_op, Composite):
            return f"Elemwise{{{self.scalar_op}}}"
        return f"Elemwise{{{self.scalar_op},no_inplace}}"

    def make_node(self, *inputs: TensorLike) -> Apply:
        T = _T()
        nin = self.scalar_op.nin
        if len(inputs) != nin:
            raise TypeError(f"{self} takes {nin} inputs, got {len(inputs)}")
        tensors = _weak_constants_to([T.as_tensor_variable(i) for i in inputs])
        ndim = max(i.ndim for i in tensors)
        padded = []
        for v in tensors:
            if v.ndim < ndim:
                v = DimShuffle(v.broadcastable, ["x"] * (ndim - v.ndim) + list(range(v.ndim)))(v)
            padded.append(v)
        shape: list[int | None] = []
        for d in range(ndim):
            sizes = {v.type.shape[d] for v in padded}
            known = {s for s in sizes if s is not None and s != 1}
            if len(known) > 1:
                raise ValueError(
                    f"{self}: inputs cannot broadcast along dimension {d}: static lengths "
                    f"{sorted(known)} (input types {[str(v.type) for v in padded]})"
                )
            if known:
                shape.append(known.pop())
            elif all(s == 1 for s in sizes):
                shape.append(1)
            else:
                shape.append(None)
        if isinstance(self.scalar_op, Composite):
            out_dtypes = self.scalar_op.out_dtypes
        else:
            try:
                self.scalar_op.check_input_dtypes(*[v.dtype for v in padded])
            except TypeError as exc:
                raise TypeError(f"{self}({', '.join(map(str, padded))}): {exc}") from None
            out_dtypes = [self.scalar_op.output_dtype(*[v.dtype for v in padded])]
        for o, i in self.inplace_pattern:
            if padded[i].dtype != out_dtypes[o] or padded[i].type.shape != tuple(shape):
                raise TypeError(f"{self}: cannot work in place on input {i} ({padded[i].type})")
        return Apply(self, padded, [TensorType(dt, shape=shape)() for dt in out_dtypes])

    def make_py_thunk(self, node: Apply, storage_map: dict[Variable, list[Any]]
                      ) -> Callable[[], None]:
        """A specialised thunk: the common one- and two-input ufunc cases skip ``perform``'s
        generic checks (this path sets the Python VM's per-call overhead)."""
        so = self.scalar_op
        fn = getattr(so, "numpy", None)
        if (self.inplace_pattern or isinstance(so, Composite) or not isinstance(fn, np.ufunc)
                or len(node.outputs) != 1 or len(node.inputs) > 2):
            return Op.make_py_thunk(self, node, storage_map)
        out = storage_map[node.outputs[0]]
        dt = node.outputs[0].type.numpy_dtype
        slow = Op.make_py_thunk(self, node, storage_map)
        if len(node.inputs) == 1:
            i0 = storage_map[node.inputs[0]]

            def thunk():
                r = fn(i0[0])
                if type(r) is not np.ndarray or r.dtype is not dt:
                    return slow()
                out[0] = r
        else:
            i0, i1 = (storage_map[v] for v in node.inputs)

            def thunk():
                a = i0[0]
                b = i1[0]
                if type(a) is not np.ndarray or type(b) is not np.ndarray or a.shape != b.shape:
                    return slow()
                r = fn(a, b)
                if r.dtype is not dt:
                    return slow()
                out[0] = r
        return thunk

    def perform(self, node: Apply, inputs: list[Any], output_storage: list[list[Any]]) -> None:
        shape = _check_broadcast(self, node, inputs)
        so = self.scalar_op
        if isinstance(so, Composite):
            target = None
            if self.inplace_pattern and len(self.inplace_pattern) == 1:
                o, i = self.inplace_pattern[0]
                cand = inputs[i]
                if isinstance(cand, np.ndarray) and cand.shape == shape:
                    target = cand
            results = so.evaluate(inputs, out=target)
            if target is not None and results[0] is target:
                output_storage[0][0] = target
                return
        else:
            if self.inplace_pattern and so.numpy is not None and isinstance(so.numpy, np.ufunc):
                o, i = self.inplace_pattern[0]
                try:
                    so.numpy(*inputs, out=inputs[i])
                except TypeError:
                    # the ufunc's own loop gives another dtype than the op's output (NumPy's
                    # square of bool is int8): NumPy refuses before writing anything, so compute
                    # through numpy_impl below and store the result into the input
                    pass
                else:
                    output_storage[0][0] = inputs[i]
                    return
            results = [so.numpy_impl(list(inputs), node.outputs[0].type.dtype)]
        for cell, r, out in zip(output_storage, results, node.outputs):
            dt = out.type.numpy_dtype
            if not isinstance(r, np.ndarray):
                r = np.asarray(r, dtype=dt)
            elif r.dtype != dt:
                r = r.astype(dt)
            if r.shape != shape:
                r = np.broadcast_to(r, shape).copy()
            cell[0] = r
        for o, i in self.inplace_pattern:
            inp = inputs[i]
            inp[...] = output_storage[o][0]
            output_storage[o][0] = inp

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        T = _T()
        out = []
        for d in range(node.outputs[0].ndim):
            cand = [s[d] for v, s in zip(node.inputs, shapes) if not v.type.broadcastable[d]]
            out.append(cand[0] if cand else T.as_tensor_variable(np.int64(1)))
        return [tuple(out)] * len(node.outputs)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], output_grads: list[Variable]
            ) -> list[Variable]:
        T = _T()
        so = self.scalar_op
        if isinstance(so, Composite):
            raise NotImplementedError("differentiate before fusion: Composite has no gradient")
        gz = output_grads[0]
        grads = so.grad(T, inputs, outputs[0], gz)
        if grads is None:
            return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]
        res = []
        for i, (x, g) in enumerate(zip(inputs, grads)):
            if g is None:  # the scalar op defines no gradient for this input
                res.append(grad_not_implemented(self, i, x))
                continue
            if x.dtype not in ("float16", "float32", "float64", "complex64", "complex128"):
                res.append(T.zeros_like(x, dtype=T.config.floatX))
                continue
            g = T.as_tensor_variable(g)
            g = _sum_to_broadcast(T, g, x)
            if g.dtype != x.dtype:
                g = T.cast(g, x.dtype)
            res.append(g)
        return res

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        T = _T()
        out = self(*inputs)
        total = None
        for i, ep in enumerate(eval_points):
            if ep is None:
                continue
            gz = T.ones_like(out)
            # directional derivative: sum_i d out / d x_i * ep_i, elementwise
            partial = self.scalar_op.grad(T, list(inputs), out, gz)[i]
            term = partial * ep
            total = term if total is None else total + term
        return [total]


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _is_weak(v) -> bool:
    return bool(getattr(v.tag, "weak", False))


def _weak_constants_to(inputs):
    """NumPy 2's weak-scalar promotion (NEP 50) for constants made from Python numbers.

    A weak constant takes the dtype the typed (strong) inputs give it: ``uint8_vector - 1`` is
    ``uint8``, ``float32_vector * 0.5`` is ``float32``, ``int32_scalar * 0.5`` is ``float64``.
    When every input is weak, the inputs of the highest kind (bool < int < float < complex) play
    the typed part, as Python's own arithmetic does (``2 * 0.5`` is a float; ``2 ** 10`` stays
    ``int64``).  A literal that the typed dtype cannot hold (``uint8_vector + 300``) never wraps: the
    result widens to the smallest dtype that holds both (Theano's answer; NumPy 2 raises
    ``OverflowError`` there).
    """
    weak = [_is_weak(v) for v in inputs]
    if not any(weak):
        return inputs
    if all(weak):
        top = max(_KIND_RANK.get(v.type.numpy_dtype.kind, 3) for v in inputs)
        strong_ids = {id(v) for v in inputs if _KIND_RANK.get(v.type.numpy_dtype.kind, 3) == top}
        if len(strong_ids) == len({id(v) for v in inputs}):
            return inputs
    else:
        strong_ids = {id(v) for v, w in zip(inputs, weak) if not w}
    T = _T()
    strong_dt = np.result_type(*[v.type.numpy_dtype for v in inputs if id(v) in strong_ids])
    out = []
    for v in inputs:
        if id(v) not in strong_ids:
            val = v.data
            target = _weak_target(strong_dt, val)
            if target != val.dtype:
                v = T.constant(val.astype(target))
                v.tag.weak = True
        out.append(v)
    return out


def _weak_target(strong_dt: np.dtype, val: np.ndarray) -> np.dtype:
    """The dtype a weak constant ``val`` takes next to typed operands of dtype ``strong_dt``."""
    try:
        target = np.result_type(strong_dt, val.item())
    except (OverflowError, TypeError, ValueError):
        target = np.result_type(strong_dt, val.dtype)
    if target.kind in "iub" and val.dtype.kind in "iu":
        info = np.iinfo(target) if target.kind != "b" else None
        if info is None or not (info.min <= int(val.min()) and int(val.max()) <= info.max):
            # the literal does not fit: widen instead of wrapping around
            target = np.result_type(strong_dt, _smallest_int_dtype(int(val.min()), int(val.max()),
                                                                   strong_dt.kind == "u"))
    return target


def _smallest_int_dtype(lo: int, hi: int, unsigned_ok: bool) -> np.dtype:
    """The smallest integer dtype holding ``lo..hi`` (unsigned only next to unsigned operands)."""
    names = (("uint8", "uint16", "uint32", "uint64") if unsigned_ok and lo >= 0 else ()) + (
        "int8", "int16", "int32", "int64")
    for name in names:
        info = np.iinfo(name)
        if info.min <= lo and hi <= info.max:
            return np.dtype(name)
    return np.dtype("uint64")


def _sum_to_broadcast(T, g, x):
    """Sum ``g`` over the dimensions that ``x`` broadcast along, to get ``x``'s shape."""
    if g.ndim > x.ndim:
        g = T.sum(g, axis=tuple(range(g.ndim - x.ndim)))
    axes = [d for d, (bx, bg) in enumerate(zip(x.broadcastable, g.broadcastable)) if bx and not bg]
    if axes:
        g = T.sum(g, axis=tuple(axes), keepdims=True)
    return g


def _check_broadcast(op, node, inputs):
    shapes = [np.shape(a) for a in inputs]
    first = shapes[0]
    if all(s == first for s in shapes):
        return first
    ndim = len(first)
    out = []
    for d in range(ndim):
        size = 1
        for v, s in zip(node.inputs, shapes):
            n = s[d]
            if n != 1:
                if size != 1 and n != size:
                    raise ValueError(
                        f"{op}: input shapes {shapes} do not broadcast along dimension {d}"
                    )
                size = n
        for i, (v, s) in enumerate(zip(node.inputs, shapes)):
            if s[d] == 1 and size != 1 and not v.type.broadcastable[d]:
                raise ValueError(
                    f"{op}: input {i} ({v}) has length 1 in dimension {d} at run time but its type "
                    f"{v.type} does not declare that dimension broadcastable (input shapes {shapes}); "
                    "use a row/col type, T.addbroadcast, or dimshuffle('x', ...)"
                )
        out.append(size)
    return tuple(out)


class DimShuffle(Op):
    """Reorder, drop (broadcastable only) or insert ('x') dimensions; returns a view."""

    __props__ = ("input_broadcastable", "new_order", "inplace")
    view_map = {0: [0]}

    def __init__(self, input_broadcastable: Sequence[bool], new_order: Sequence[int | str],
                 inplace: bool = True) -> None:
        self.input_broadcastable = tuple(input_broadcastable)
        self.new_order = tuple(new_order)
        self.inplace = inplace
        nd = len(self.input_broadcastable)
        kept = [d for d in self.new_order if d != "x"]
        for d in kept:
            if not isinstance(d, (int, np.integer)) or not 0 <= d < nd:
                raise ValueError(f"DimShuffle: {d!r} is not a dimension of a {nd}-d input")
        if len(set(kept)) != len(kept):
            raise ValueError(f"DimShuffle: {self.new_order} repeats a dimension")
        self.drop = [d for d in range(nd) if d not in kept]
        for d in self.drop:
            if not self.input_broadcastable[d]:
                raise ValueError(
                    f"DimShuffle {self.new_order}: cannot drop dimension {d}, it is not broadcastable"
                )
        self.shuffle = typing.cast("list[int]", kept)  # each checked above to be an int
        self.augment = [i for i, d in enumerate(self.new_order) if d == "x"]

    def __str__(self) -> str:
        # Theano's spelling: a view is InplaceDimShuffle{1,0}, a copy DimShuffle{x,0}
        kind = "InplaceDimShuffle" if self.inplace else "DimShuffle"
        return f"{kind}{{{','.join(map(str, self.new_order))}}}"

    def make_node(self, x: TensorLike) -> Apply:
        xt: TensorVariable | TensorConstant = _T().as_tensor_variable(x)
        if xt.type.broadcastable != self.input_broadcastable:
            if len(xt.broadcastable) != len(self.input_broadcastable):
                raise TypeError(f"{self}: expected a {len(self.input_broadcastable)}-d input, "
                                f"got {xt} ({xt.type})")
        shape = [1 if d == "x" else xt.type.shape[d] for d in self.new_order]
        return Apply(self, [xt], [TensorType(xt.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], output_storage: list[list[Any]]) -> None:
        (x,) = inputs
        for d in self.drop:
            if x.shape[d] != 1:
                raise ValueError(f"{self}: dimension {d} should have length 1, got shape {x.shape}")
        res = np.transpose(x, self.shuffle + self.drop)
        res = res.reshape([x.shape[d] if d != "x" else 1 for d in self.new_order]) if (
            self.drop or self.augment) else res
        output_storage[0][0] = res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        T = _T()
        (s,) = shapes
        return [tuple(T.as_tensor_variable(np.int64(1)) if isinstance(d, str) else s[d]
                      for d in self.new_order)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], output_grads: list[Variable]
            ) -> list[Variable]:
        T = _T()
        (x,) = inputs
        (gz,) = output_grads
        gz = T.as_tensor_variable(gz)
        grad_order: list[str | int] = ["x"] * x.ndim
        for i, d in enumerate(self.new_order):
            if not isinstance(d, str):  # the only string in new_order is "x"
                grad_order[d] = i
        # sum over the inserted axes, then reorder back
        if self.augment:
            gz = T.sum(gz, axis=tuple(self.augment), keepdims=True)
            gz = DimShuffle(gz.broadcastable, [i for i in range(gz.ndim) if i not in self.augment])(gz)
            remap: dict[int, int] = {}
            j = 0
            for i, d in enumerate(self.new_order):
                if d != "x":
                    remap[i] = j
                    j += 1
            grad_order = ["x" if isinstance(g, str) else remap[g] for g in grad_order]
        out = DimShuffle(gz.broadcastable, grad_order)(gz)
        if out.dtype != x.dtype and x.dtype.startswith("float"):
            out = T.cast(out, x.dtype)
        return [out]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


def restore_reduced_dims(r: Variable, ndim: int, axis: Sequence[int] | None) -> TensorVariable:
    """``r``, reduced over ``axis`` (None: all) of an ``ndim``-d tensor, with those dimensions
    put back as broadcastable length-1 dimensions (``keepdims=True``)."""
    axes = range(ndim) if axis is None else axis
    pattern: list[int | str] = []
    j = 0
    for d in range(ndim):
        if d in axes:
            pattern.append("x")
        else:
            pattern.append(j)
            j += 1
    return DimShuffle(r.broadcastable, pattern)(r)


class CAReduce(Op):
    """Reduce along ``axis`` (a tuple, or None for all) with a binary scalar op or a NumPy rule.

    ``kind`` is one of sum, prod, max, min, all, any.
    """

    __props__ = ("kind", "axis", "acc_dtype", "dtype")
    _numpy: dict[str, Callable[..., Any]] = {
        "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all,
        "any": np.any}

    def __init__(self, kind: str, axis: Sequence[int] | None = None, dtype: str | None = None,
                 acc_dtype: str | None = None) -> None:
        self.kind = kind
        self.axis = None if axis is None else tuple(sorted(axis))
        self.dtype = dtype
        self.acc_dtype = acc_dtype
        self.name = kind.capitalize() if kind != "sum" else "Sum"

    def __str__(self) -> str:
        ax = "" if self.axis is None else f"{{axis={list(self.axis)}}}"
        return f"{self.name}{ax}"

    def node_str(self, node: Apply) -> str:
        """Theano's names, which show the accumulator: ``Sum{axis=[0], acc_dtype=float64}``,
        ``Prod{acc_dtype=int64}``; ``All{0, 1}``/``Any`` list the axes only."""
        if self.kind in ("sum", "prod"):
            acc = self.accumulator_dtype(node.inputs[0].type.dtype, node.outputs[0].type.dtype)
            ax = "" if self.axis is None else f"axis=[{', '.join(map(str, self.axis))}], "
            return f"{self.name}{{{ax}acc_dtype={acc}}}"
        if self.kind in ("all", "any") and self.axis is not None:
            return f"{self.name}{{{', '.join(map(str, self.axis))}}}"
        return str(self)

    def make_node(self, x: TensorLike) -> Apply:
        xt: TensorVariable | TensorConstant = _T().as_tensor_variable(x)
        axis = self.axis
        if axis is not None:
            for a in axis:
                if not 0 <= a < xt.ndim:
                    raise ValueError(f"{self}: axis {a} is out of range for {xt} ({xt.ndim}-d)")
        axes = range(xt.ndim) if axis is None else axis
        shape = [s for d, s in enumerate(xt.type.shape) if d not in axes]
        dt = self.dtype or xt.dtype
        if self.kind in ("all", "any"):
            dt = "bool"
        return Apply(self, [xt], [TensorType(dt, shape=shape)()])

    def accumulator_dtype(self, in_dtype: str, out_dtype: str) -> str:
        """The dtype sums and products accumulate in: ``acc_dtype`` when given, else float64 for
        float16/float32 data (as Theano's ``acc_dtype``: a float32 sum of millions of values
        keeps float64 accuracy), else the output dtype."""
        if self.acc_dtype:
            return self.acc_dtype
        if self.kind in ("sum", "prod") and (in_dtype in ("float16", "float32")
                                             or out_dtype in ("float16", "float32")):
            return "float64"
        return out_dtype

    def perform(self, node: Apply, inputs: list[Any], output_storage: list[list[Any]]) -> None:
        (x,) = inputs
        out_dt = node.outputs[0].type.numpy_dtype
        fn = self._numpy[self.kind]
        if self.kind in ("sum", "prod"):
            acc = self.accumulator_dtype(node.inputs[0].type.dtype, out_dt.name)
            if not x.flags.aligned:
                # NumPy would buffer a misaligned operand, grouping a float sum's additions in
                # runs of 8192 (its bits would depend on the data's address); sum an aligned
                # copy, as the C backend (which copies misaligned inputs on entry) does
                x = np.array(x, order="K")
            r = fn(x, axis=self.axis, dtype=acc)
        else:
            if x.size == 0 and self.kind in ("max", "min") and (self.axis is None or any(
                    x.shape[a] == 0 for a in self.axis)):
                raise ValueError(f"{self}: cannot reduce an empty array of shape {x.shape}")
            r = fn(x, axis=self.axis)
        output_storage[0][0] = np.asarray(r, dtype=out_dt)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        (s,) = shapes
        axes = range(len(s)) if self.axis is None else self.axis
        return [tuple(v for d, v in enumerate(s) if d not in axes)]

    def _keep_dims(self, T, g, x):
        axes = range(x.ndim) if self.axis is None else self.axis
        pattern: list[int | str] = []
        j = 0
        for d in range(x.ndim):
            if d in axes:
                pattern.append("x")
            else:
                pattern.append(j)
                j += 1
        return DimShuffle(g.broadcastable, pattern)(g)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], output_grads: list[Variable]
            ) -> list[Variable]:
        T = _T()
        (x,) = inputs
        (gz,) = output_grads
        if x.dtype not in ("float16", "float32", "float64"):
            return [T.zeros_like(x, dtype=T.config.floatX)]
        gz = restore_reduced_dims(T.as_tensor_variable(gz), x.ndim, self.axis)
        if self.kind == "sum":
            g = T.alloc_like(gz, x)
        elif self.kind == "prod":
            prod = restore_reduced_dims(outputs[0], x.ndim, self.axis)
            g = gz * prod / x
        elif self.kind in ("max", "min"):
            best = restore_reduced_dims(outputs[0], x.ndim, self.axis)
            g = gz * T.eq(x, best)
        else:
            return [T.zeros_like(x)]
        if g.dtype != x.dtype:
            g = T.cast(g, x.dtype)
        return [g]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        if self.kind == "sum":
            return [self(eval_points[0])]
        raise NotImplementedError(f"{self} has no R_op")
