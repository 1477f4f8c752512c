"""Indexing: basic slicing, integer and advanced (array) indexing, and set/inc of a region.

One op covers every NumPy index: ``idx_spec`` records the structure (which entries are slices,
integers, arrays or ``None``) and the symbolic parts (slice bounds, integers, index arrays) are
the op's inputs after ``x``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.op import Op, ShapeUnknown
from opcore.tensor.basic import (NotScalarConstantError, as_tensor_variable,
                                 get_scalar_constant_value, zeros_like)
from opcore.tensor.type import TensorType
from opcore.graph.null import disconnected_type
from opcore.tensor import math as M
from opcore.tensor.basic import cast, constant, shape as _shape, shape_i
from opcore.tensor.elemwise import _sum_to_broadcast
from opcore.tensor.math import nonzero_values_indices
from opcore.tensor.hints import Axis, InputShapes, OutputShapes, TensorLike

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorConstant, TensorVariable

_INT = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _parse(x, idx):
    """Split a Python index into (spec, symbolic inputs)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    spec: list[tuple[str | bool | int, ...]] = []  # ("none",), ("slice", has_start, ...), ...
    ins: list[Variable] = []
    # expand Ellipsis
    n_real = sum(1 for e in idx if e is not None and e is not Ellipsis
                 and not (_is_bool_array(e)))
    n_real += sum(_bool_ndim(e) for e in idx if _is_bool_array(e))
    if any(e is Ellipsis for e in idx):
        pos = [i for i, e in enumerate(idx) if e is Ellipsis]
        if len(pos) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        p = pos[0]
        idx = idx[:p] + (slice(None),) * (x.ndim - n_real) + idx[p + 1:]
    if n_real > x.ndim:
        raise IndexError(f"too many indices for {x} ({x.ndim}-d): {len(idx)} given")
    for e in idx:
        if e is None:
            spec.append(("none",))
        elif isinstance(e, slice):
            parts: list[bool] = []
            for p in (e.start, e.stop, e.step):
                if p is None:
                    parts.append(False)
                else:
                    v = as_tensor_variable(p)
                    if v.ndim != 0 or v.dtype not in _INT:
                        raise TypeError(f"slice bounds must be integer scalars, got {p} ({v.type})")
                    ins.append(v)
                    parts.append(True)
            spec.append(("slice",) + tuple(parts))
        else:
            if _is_bool_array(e):

                for part in nonzero_values_indices(e):
                    ins.append(part)
                    spec.append(("adv", 1))
                continue
            v = as_tensor_variable(e)
            if v.dtype == "bool":
                raise TypeError("boolean symbolic index: use T.nonzero(mask) or a switch")
            if v.dtype not in _INT:
                raise TypeError(f"index {e} must be an integer, got dtype {v.dtype}")
            ins.append(v)
            spec.append(("int",) if v.ndim == 0 else ("adv", v.ndim))
    return tuple(spec), ins


def _is_bool_array(e):
    return (isinstance(e, np.ndarray) and e.dtype == bool) or (
        isinstance(e, Variable) and getattr(e.type, "dtype", None) == "bool" and e.ndim > 0)


def _bool_ndim(e):
    return e.ndim


def _out_shape(spec, ins, xshape):
    """Static output shape (None where unknown) following NumPy's rules."""
    it = iter(ins)
    basic = []  # list of (kind, static) in order, for non-advanced dims
    adv_pos = []
    adv_shapes = []
    d = 0
    # ("dim", length or None), ("adv0", ()) for an int index, ("adv", static shape of the array)
    out_parts: list[tuple[str, Any]] = []
    for s in spec:
        if s[0] == "none":
            out_parts.append(("dim", 1))
        elif s[0] == "slice":
            vals: list[int | str | None] = []  # "?": a bound known only at run time
            for has in s[1:]:
                if has:
                    v = next(it)
                    try:
                        vals.append(int(get_scalar_constant_value(v)))
                    except NotScalarConstantError:
                        vals.append("?")
                else:
                    vals.append(None)
            n = xshape[d]
            if n is not None and "?" not in vals:
                out_parts.append(("dim", len(range(*slice(*vals).indices(n)))))
            elif vals == [None, None, None]:
                out_parts.append(("dim", n))
            else:
                out_parts.append(("dim", None))
            d += 1
        elif s[0] == "int":
            next(it)
            out_parts.append(("adv0", ()))
            d += 1
        else:
            v = next(it)
            out_parts.append(("adv", v.type.shape))
            d += 1
    rest = [("dim", n) for n in xshape[d:]]
    parts = out_parts + rest
    has_adv = any(p[0] == "adv" for p in parts)
    if not has_adv:
        return [p[1] for p in parts if p[0] == "dim"]
    advs = [i for i, p in enumerate(parts) if p[0] in ("adv", "adv0")]
    shapes = [p[1] for p in parts if p[0] in ("adv", "adv0")]
    nd = max(len(s) for s in shapes)
    bshape = []
    for k in range(nd):
        dims = [s[len(s) - nd + k] for s in shapes if len(s) - nd + k >= 0]
        known = {x for x in dims if x is not None and x != 1}
        bshape.append(known.pop() if len(known) == 1 else (1 if all(x == 1 for x in dims) else None))
    contiguous = advs == list(range(advs[0], advs[-1] + 1))
    dims = [p[1] for p in parts if p[0] == "dim"]
    if contiguous:
        first = sum(1 for p in parts[:advs[0]] if p[0] == "dim")
        return dims[:first] + bshape + dims[first:]
    return bshape + dims


def _build_index(spec, vals):
    it = iter(vals)
    idx: list[Any] = []  # None, slices, ints and index arrays, as NumPy takes them
    for s in spec:
        if s[0] == "none":
            idx.append(None)
        elif s[0] == "slice":
            idx.append(slice(*[int(next(it)) if has else None for has in s[1:]]))
        elif s[0] == "int":
            idx.append(int(next(it)))
        else:
            idx.append(next(it))
    return tuple(idx)


def _is_advanced(spec):
    return any(s[0] == "adv" for s in spec)


class Subtensor(Op):
    """``x[idx]``: a view for basic indexing, a copy for advanced indexing."""

    __props__ = ("idx_spec",)

    def __init__(self, idx_spec: Sequence[Any]) -> None:
        self.idx_spec = tuple(idx_spec)
        if not _is_advanced(self.idx_spec):
            self.view_map = {0: [0]}

    def __str__(self) -> str:
        parts = []
        for s in self.idx_spec:
            if s[0] == "slice":
                parts.append(":".join("*" if h else "" for h in s[1:]).rstrip(":") or ":")
            elif s[0] == "int":
                parts.append("int")
            elif s[0] == "none":
                parts.append("newaxis")
            else:
                parts.append("array")
        name = "AdvancedSubtensor" if _is_advanced(self.idx_spec) else "Subtensor"
        return f"{name}{{{', '.join(parts)}}}"

    def make_node(self, x: TensorLike, *index_inputs: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        ins = [as_tensor_variable(v) for v in index_inputs]
        shape = _out_shape(self.idx_spec, ins, x.type.shape)
        return Apply(self, [x] + ins, [TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, *vals = inputs
        idx = _build_index(self.idx_spec, vals)
        try:
            r = x[idx]
        except IndexError as exc:
            raise IndexError(f"{self}: index {idx} is out of bounds for shape {x.shape}: {exc}") from None
        out[0][0] = r if isinstance(r, np.ndarray) else np.asarray(r)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:

        x, *ins = node.inputs
        static = node.outputs[0].type.shape
        if all(s is not None for s in static):
            return [tuple(constant(np.int64(s)) for s in static)]
        if _is_advanced(self.idx_spec):

            raise ShapeUnknown(self)
        it = iter(ins)
        out: list[Variable] = []
        d = 0
        for s in self.idx_spec:
            if s[0] == "none":
                out.append(constant(np.int64(1)))
            elif s[0] == "int":
                next(it)
                d += 1
            else:
                start, stop, step = [next(it) if h else None for h in s[1:]]
                out.append(_slice_len(M, shapes[0][d], start, stop, step))
                d += 1
        out.extend(shapes[0][d:])
        return [tuple(out)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        x, *ins = inputs
        gx = IncSubtensor(self.idx_spec, set_instead_of_inc=False)(zeros_like(x), gz[0], *ins)
        return [gx] + [disconnected_type() for _ in ins]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def _slice_len(M, n, start, stop, step):
    """Symbolic len(range(*slice(start, stop, step).indices(n)))."""

    if start is None and stop is None and step is None:
        return n
    zero = constant(np.int64(0))
    one = constant(np.int64(1))
    step_v = one if step is None else cast(step, "int64")
    neg = M.lt(step_v, 0)

    def clamp(v, default_pos, default_neg):
        if v is None:
            return M.switch(neg, default_neg, default_pos)
        v = cast(v, "int64")
        v = M.switch(M.lt(v, 0), v + n, v)
        lo = M.switch(neg, -1, 0)
        hi = M.switch(neg, n - 1, n)
        return M.minimum(M.maximum(v, lo), hi)

    b = clamp(start, zero, n - 1)
    e = clamp(stop, n, constant(np.int64(-1)))
    length = M.switch(neg, M.int_div(b - e - step_v - 1, -step_v),
                      M.int_div(e - b + step_v - 1, step_v))
    return M.maximum(length, zero)


class IncSubtensor(Op):
    """``x`` with ``x[idx] += y`` (or ``= y``); repeated advanced indices accumulate."""

    __props__ = ("idx_spec", "set_instead_of_inc", "inplace")

    def __init__(self, idx_spec: Sequence[Any], set_instead_of_inc: bool = False,
                 inplace: bool = False) -> None:
        self.idx_spec = tuple(idx_spec)
        self.set_instead_of_inc = set_instead_of_inc
        self.inplace = inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def __str__(self) -> str:
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{len(self.idx_spec)}}}" + ("[inplace]" if self.inplace else "")

    def make_node(self, x: TensorLike, y: TensorLike, *index_inputs: TensorLike) -> Apply:
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        ins = [as_tensor_variable(v) for v in index_inputs]
        sub_shape = _out_shape(self.idx_spec, ins, x.type.shape)
        if y.ndim > len(sub_shape):
            raise ValueError(
                f"{self}: the value {y} ({y.ndim}-d) has more dimensions than x[idx] ({len(sub_shape)}-d)"
            )
        return Apply(self, [x, y] + ins, [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, y, *vals = inputs
        idx = _build_index(self.idx_spec, vals)
        res = x if self.inplace else x.copy()
        try:
            if self.set_instead_of_inc:
                res[idx] = y
            elif _is_advanced(self.idx_spec):
                np.add.at(res, idx, y)
            else:
                res[idx] += y
        except (IndexError, ValueError) as exc:
            raise type(exc)(f"{self}: x shape {x.shape}, value shape {np.shape(y)}, index {idx}: {exc}") from None
        out[0][0] = res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [shapes[0]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        import opcore.tensor as T

        x, y, *ins = inputs
        (g,) = gz
        if self.set_instead_of_inc:
            gx = IncSubtensor(self.idx_spec, set_instead_of_inc=True)(g, zeros_like(y), *ins)
        else:
            gx = g
        gy = Subtensor(self.idx_spec)(g, *ins)
        gy = _sum_to_broadcast(T, gy, y)
        if gy.ndim > y.ndim:
            gy = T.sum(gy, axis=tuple(range(gy.ndim - y.ndim)))
        return [gx, gy] + [disconnected_type() for _ in ins]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [True]] + [[False] for _ in node.inputs[2:]]


def _as_index(idx):
    # a list holding a slice is a tuple of indices (Theano's rule, and NumPy's before 1.23)
    if isinstance(idx, list) and any(isinstance(i, slice) for i in idx):
        return tuple(idx)
    return idx if isinstance(idx, tuple) else (idx,)


def subtensor_getitem(x: TensorLike, idx: Any) -> TensorVariable | TensorConstant:
    """``x[idx]`` for a symbolic ``x`` (what ``TensorVariable.__getitem__`` calls)."""
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise IndexError(f"cannot index the 0-d variable {x}")
    idx = _as_index(idx)
    if all(isinstance(i, slice) and i == slice(None) for i in idx):
        return x
    spec, ins = _parse(x, idx)
    return Subtensor(spec)(x, *ins)


def _target(x):
    if x.owner is None or not isinstance(x.owner.op, Subtensor):
        raise TypeError(
            f"set_subtensor/inc_subtensor need x[index] (an indexed variable) as first argument, got {x}"
        )
    base, *ins = x.owner.inputs
    return x.owner.op.idx_spec, base, ins


def set_subtensor(x: TensorLike, y: TensorLike, inplace: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> TensorVariable:
    """The tensor that ``x.owner``'s input would be after ``input[idx] = y``."""
    spec, base, ins = _target(x)
    y = as_tensor_variable(y)
    if y.dtype != base.dtype:

        y = cast(y, base.dtype)
    return IncSubtensor(spec, set_instead_of_inc=True)(base, y, *ins)


def inc_subtensor(x: TensorLike, y: TensorLike, inplace: bool = False,
                  set_instead_of_inc: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> TensorVariable:
    """The tensor that ``x.owner``'s input would be after ``input[idx] += y``."""
    spec, base, ins = _target(x)
    y = as_tensor_variable(y)
    if y.dtype != base.dtype:

        y = cast(y, base.dtype)
    return IncSubtensor(spec, set_instead_of_inc=set_instead_of_inc)(base, y, *ins)


def take(a: TensorLike, indices: TensorLike, axis: int | None = None
         ) -> TensorVariable | TensorConstant:
    a = as_tensor_variable(a)
    if axis is None:
        from opcore.tensor.shape import flatten

        return subtensor_getitem(flatten(a), as_tensor_variable(indices))
    idx: list[slice | Variable] = [slice(None)] * a.ndim
    idx[axis] = as_tensor_variable(indices)
    return subtensor_getitem(a, tuple(idx))


__all__ = ["Subtensor", "IncSubtensor", "subtensor_getitem", "set_subtensor", "inc_subtensor", "take"]
