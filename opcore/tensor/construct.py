"""Array construction and shape utilities from Theano's ``tensor.basic``: ``eye``,
``identity_like``, ``tri``, ``tril``, ``triu``, ``diag``/``diagonal``/``extract_diag``/
``alloc_diag``, ``tile``, ``roll``, ``stacklists``, ``mgrid``/``ogrid``, ``patternbroadcast``,
``specify_shape``.

Theano 1.0 differences kept: ``eye``/``tri`` default to ``config.floatX`` (NumPy: float64);
``mgrid``/``ogrid`` return a list of tensors (NumPy: one stacked array) and take integer slices
only.  Extensions over Theano, as NumPy does: ``tril``/``triu`` accept stacks of matrices (the last
two axes), ``diagonal`` any ``axis1``/``axis2`` with gradients for any rank.
"""

from __future__ import annotations

from typing import Any, Sequence, cast

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, Constant, Variable
from opcore.graph.null import disconnected_type, grad_undefined_for
from opcore.graph.op import Op
from opcore.tensor.basic import (SpecifyShape, addbroadcast, alloc, arange, as_tensor_variable,
                                 get_scalar_constant_value, NotScalarConstantError, unbroadcast,
                                 zeros_like)
from opcore.tensor.math import clip, maximum, minimum
from opcore.tensor.shape import concatenate, flatten, reshape, stack
from opcore.tensor.subtensor import set_subtensor
from opcore.tensor.type import TensorType
from opcore.tensor.variable import TensorConstant, TensorVariable
from opcore.tensor.hints import InputShapes, OutputShapes

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _int_scalar(op: Any, v: Any, what: str) -> Variable:
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in _INTS:
        raise TypeError(f"{op}: {what} must be an integer scalar, got {v} ({v.type})")
    return v


def _static_int(v: Variable) -> int | None:
    try:
        return int(get_scalar_constant_value(v))
    except NotScalarConstantError:
        return None


class Eye(Op):
    """``numpy.eye(n, m, k)`` of ``dtype`` (default ``config.floatX``); not differentiable."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str | None = None) -> None:
        self.dtype = dtype or config.floatX

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        n, m, k = (_int_scalar(self, v, w) for v, w in ((n, "n"), (m, "m"), (k, "k")))
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape=(_static_int(n),
                                                                      _static_int(m)))()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        n, m, k = (int(v) for v in inputs)
        out[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [(node.inputs[0].astype("int64"), node.inputs[1].astype("int64"))]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False], [False], [False]]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        # integer sizes: the output does not vary continuously with them
        return [disconnected_type() for _ in inputs]


class Tri(Eye):
    """``numpy.tri(N, M, k)``: ones at and below diagonal ``k``, of ``dtype``."""

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        n, m, k = (int(v) for v in inputs)
        out[0][0] = np.tri(n, m, k, dtype=self.dtype)


def eye(n: Any, m: Any = None, k: Any = 0, dtype: str | None = None) -> TensorVariable:
    """Identity-like matrix with ones on diagonal ``k`` (``numpy.eye``; dtype default floatX).

    >>> import opcore.tensor as T
    >>> T.eye(2, dtype='int8').eval().tolist()
    [[1, 0], [0, 1]]
    """
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x: Any) -> TensorVariable:
    """``eye`` shaped and typed like the matrix ``x``."""
    x = as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], 0, dtype=x.dtype)


def tri(N: Any, M: Any = None, k: Any = 0, dtype: str | None = None) -> TensorVariable:
    """Ones at and below diagonal ``k``, zeros above (``numpy.tri``; dtype default floatX)."""
    return Tri(dtype)(N, N if M is None else M, k)


class TriangularPart(Op):
    """``numpy.tril`` (``lower=True``) or ``numpy.triu`` of the last two axes, diagonal ``k``."""

    __props__ = ("lower", "k")

    def __init__(self, lower: bool, k: int = 0) -> None:
        self.lower = bool(lower)
        self.k = int(k)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"{self}: {x} must have at least 2 dimensions, got {x.ndim}")
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        fn = np.tril if self.lower else np.triu
        out[0][0] = fn(inputs[0], self.k)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return shapes

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [self(gz[0])]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if eval_points[0] is None else self(eval_points[0])]


def _tri_part(m: Any, k: Any, lower: bool):
    m = as_tensor_variable(m)
    kv = int(k) if isinstance(k, (int, np.integer)) else _static_int(as_tensor_variable(k))
    if kv is not None:
        return TriangularPart(lower, kv)(m)
    # a symbolic k: Theano's product with a 0/1 mask
    if lower:
        return m * tri(m.shape[-2], m.shape[-1], k, dtype=m.dtype)
    return m * (1 - tri(m.shape[-2], m.shape[-1], k - 1, dtype=m.dtype))


def tril(m: Any, k: Any = 0) -> TensorVariable:
    """Lower triangle of ``m`` (zeros above diagonal ``k``); ``numpy.tril``."""
    return _tri_part(m, k, True)


def triu(m: Any, k: Any = 0) -> TensorVariable:
    """Upper triangle of ``m`` (zeros below diagonal ``k``); ``numpy.triu``."""
    return _tri_part(m, k, False)


def _diag_len(d1: Any, d2: Any, offset: int) -> Any:
    if offset > 0:
        return clip(d2 - offset, 0, d1)
    if offset < 0:
        return clip(d1 + offset, 0, d2)
    return minimum(d1, d2)


class ExtractDiag(Op):
    """``numpy.diagonal(x, offset, axis1, axis2)``: the diagonal becomes the last axis (a copy;
    ``view=True`` returns NumPy's read-only view)."""

    __props__ = ("offset", "axis1", "axis2", "view")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1, view: bool = False) -> None:
        self.offset, self.axis1, self.axis2, self.view = int(offset), int(axis1), int(axis2), view
        if self.view:
            self.view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"{self}: {x} must have at least 2 dimensions, got {x.ndim}")
        a1, a2 = self.axis1 % x.ndim, self.axis2 % x.ndim
        if a1 == a2:
            raise ValueError(f"{self}: axis1 and axis2 must differ")
        shape = [s for d, s in enumerate(x.type.shape) if d not in (a1, a2)] + [None]
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        d = inputs[0].diagonal(self.offset, self.axis1, self.axis2)
        out[0][0] = d if self.view else d.copy()

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        (xs,) = shapes
        nd = len(xs)
        a1, a2 = self.axis1 % nd, self.axis2 % nd
        rest = [s for d, s in enumerate(xs) if d not in (a1, a2)]
        return [tuple(rest) + (_diag_len(xs[a1], xs[a2], self.offset),)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        (x,), g = inputs, gz[0]
        nd = x.ndim
        a1, a2 = self.axis1 % nd, self.axis2 % nd
        rest = [d for d in range(nd) if d not in (a1, a2)]
        order = [a1, a2] + rest
        back = [order.index(d) for d in range(nd)]
        n = _diag_len(x.shape[a1], x.shape[a2], self.offset)
        i = arange(n) + max(0, -self.offset)
        j = arange(n) + max(0, self.offset)
        xt = zeros_like(x, dtype=g.dtype).dimshuffle(order)
        gt = g.dimshuffle([g.ndim - 1] + list(range(g.ndim - 1)))
        return [set_subtensor(xt[i, j], gt).dimshuffle(back)]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if eval_points[0] is None else self(eval_points[0])]


class AllocDiag(Op):
    """Array whose diagonal ``offset`` (on ``axis1``/``axis2``) holds the last axis of ``x``
    (``numpy.diag`` for a vector; ``x`` of shape ``(..., n)`` gives ``n + |offset|`` squares)."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> None:
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim < 1:
            raise ValueError(f"{self}: {x} must have at least 1 dimension")
        nd = x.ndim + 1
        if self.axis1 % nd == self.axis2 % nd:
            raise ValueError(f"{self}: axis1 and axis2 must differ")
        return Apply(self, [x], [TensorType(x.dtype, shape=(None,) * nd)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        (x,) = inputs
        nd = x.ndim + 1
        a1, a2 = sorted((self.axis1 % nd, self.axis2 % nd))
        n = x.shape[-1] + abs(self.offset)
        res = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
        idx = np.arange(x.shape[-1])
        res[..., idx + max(0, -self.offset), idx + max(0, self.offset)] = x
        rest = list(range(nd - 2))
        order = rest[:a1] + [nd - 2] + rest[a1:a2 - 1] + [nd - 1] + rest[a2 - 1:]
        out[0][0] = res.transpose(order) if order != list(range(nd)) else res

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        (xs,) = shapes
        nd = len(xs) + 1
        a1, a2 = sorted((self.axis1 % nd, self.axis2 % nd))
        n = cast("TensorVariable", xs[-1]) + abs(self.offset)
        res: list[Variable] = list(xs[:-1])
        res.insert(a1, n)
        res.insert(a2, n)
        return [tuple(res)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [ExtractDiag(self.offset, self.axis1, self.axis2)(gz[0])]

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        return [None if eval_points[0] is None else self(eval_points[0])]


extract_diag = ExtractDiag()
alloc_diag = AllocDiag()


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> TensorVariable:
    """``numpy.diagonal``: the diagonal of ``a`` along ``axis1``/``axis2`` as the last axis."""
    return ExtractDiag(offset, axis1, axis2)(a)


def diag(v: Any, k: int = 0) -> TensorVariable:
    """A vector's diagonal matrix, or the ``k``-th diagonal of a matrix (``numpy.diag``)."""
    v = as_tensor_variable(v)
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim >= 2:
        return diagonal(v, offset=k)
    raise ValueError(f"diag: {v} must have at least 1 dimension")


def stacklists(arg: Any) -> TensorVariable | TensorConstant:
    """A tensor from nested lists of tensors of the same shape (stacked, outermost first).

    >>> import opcore.tensor as T
    >>> a, b = T.dscalars('a', 'b')
    >>> T.stacklists([[a, b], [b, a]]).eval({a: 1.0, b: 2.0}).tolist()
    [[1.0, 2.0], [2.0, 1.0]]
    """
    if isinstance(arg, (tuple, list)):
        return stack([stacklists(a) for a in arg])
    return as_tensor_variable(arg)


def tile(x: Any, reps: Any, ndim: int | None = None) -> TensorVariable:
    """``numpy.tile``: ``x`` repeated ``reps[d]`` times along each axis (built from
    ``alloc`` and ``reshape``, so gradients and shapes come for free).

    ``reps``: a list of ints or integer scalars, or a symbolic integer vector of known length;
    ``ndim``: the output rank (default ``max(x.ndim, len(reps))``).
    """
    x = as_tensor_variable(x)
    if isinstance(reps, (int, np.integer)):
        reps = [reps]
    if isinstance(reps, Variable):
        if reps.ndim == 0:
            reps = [reps]
        elif reps.ndim == 1:
            n = reps.type.shape[0]
            if n is None:
                if ndim is None:
                    raise ValueError("tile: the length of reps is unknown; pass ndim=")
                n = ndim
            vec = cast("TensorVariable", reps)  # a symbolic vector (ndim == 1)
            reps = [vec[i] for i in range(n)]
        else:
            raise ValueError(f"tile: reps {reps} must be a vector or a list")
    reps = list(reps)
    for r in reps:
        rv = as_tensor_variable(r)
        if rv.ndim != 0 or rv.dtype not in _INTS:
            raise ValueError(f"tile: every entry of reps must be an integer scalar, got {r!r}")
    out_nd = ndim if ndim is not None else max(x.ndim, len(reps))
    if out_nd < max(x.ndim, len(reps)):
        raise ValueError(f"tile: ndim={ndim} is smaller than x.ndim={x.ndim} or len(reps)="
                         f"{len(reps)}")
    reps = [1] * (out_nd - len(reps)) + reps
    x = x.dimshuffle(["x"] * (out_nd - x.ndim) + list(range(x.ndim)))
    if all(isinstance(r, (int, np.integer)) and r == 1 for r in reps):
        return x
    # (r0, s0, r1, s1, ...) -> (r0*s0, r1*s1, ...)
    pattern = []
    for d in range(out_nd):
        pattern += ["x", d]
    shape = []
    for d in range(out_nd):
        shape += [reps[d], x.shape[d]]
    big = alloc(x.dimshuffle(pattern), *shape)
    return reshape(big, [reps[d] * x.shape[d] for d in range(out_nd)], ndim=out_nd)


def roll(x: Any, shift: Any, axis: int | None = None) -> TensorVariable | TensorConstant:
    """``numpy.roll``: shift the entries of ``x`` by ``shift`` (may be symbolic) along
    ``axis`` (``None``: the flattened array, reshaped back)."""
    x = as_tensor_variable(x)
    if axis is None:
        if x.ndim == 1:
            axis = 0
        else:
            return reshape(roll(flatten(x), shift, 0), x.shape, ndim=x.ndim)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"roll: axis {axis} is out of bounds for {x} ({x.ndim} dimensions)")
    axis %= x.ndim
    n = x.shape[axis]
    s = as_tensor_variable(shift) % maximum(n, 1)
    head = [slice(None)] * x.ndim
    tail = [slice(None)] * x.ndim
    head[axis] = slice(n - s, None)
    tail[axis] = slice(None, n - s)
    return concatenate([x[tuple(head)], x[tuple(tail)]], axis=axis)


class _NdGrid:
    """``mgrid[0:3, 0:4]``: dense (``mgrid``) or open (``ogrid``) coordinate grids as a list of
    int64 tensors (Theano's ``mgrid``/``ogrid``; bounds may be symbolic scalars)."""

    def __init__(self, sparse: bool = False) -> None:
        self.sparse = sparse

    def __getitem__(self, key: Any) -> list:
        if not isinstance(key, tuple):
            key = (key,)
        for k in key:
            if not isinstance(k, slice):
                raise TypeError("mgrid/ogrid take slices such as mgrid[0:3, 0:4]")
        ranges = [arange(0 if k.start is None else k.start, k.stop, 1 if k.step is None
                         else k.step) for k in key]
        nd = len(ranges)
        shaped = [r.dimshuffle([0 if e == d else "x" for e in range(nd)])
                  for d, r in enumerate(ranges)]
        if self.sparse:
            return shaped
        full = [r.shape[0] for r in ranges]
        return [alloc(s, *full) for s in shaped]


mgrid = _NdGrid()
ogrid = _NdGrid(sparse=True)


def patternbroadcast(x: Any, broadcastable: Sequence[bool]) -> TensorVariable:
    """``x`` with exactly the given broadcastable pattern (dimensions made broadcastable are
    checked to have length 1 at run time)."""
    x = as_tensor_variable(x)
    if len(broadcastable) != x.ndim:
        raise ValueError(f"patternbroadcast: {x} has {x.ndim} dimensions, the pattern "
                         f"{tuple(broadcastable)} {len(broadcastable)}")
    add = [d for d, b in enumerate(broadcastable) if b and not x.broadcastable[d]]
    drop = [d for d, b in enumerate(broadcastable) if not b and x.broadcastable[d]]
    if add:
        x = addbroadcast(x, *add)
    if drop:
        x = unbroadcast(x, *drop)
    return x


class SpecifyShapeDynamic(Op):
    """Identity that checks at run time that ``x.shape == shape`` (a symbolic shape); its
    ``infer_shape`` answers ``shape``, so later shape queries need not run ``x``."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: Any, *dims: Any) -> Apply:
        x = as_tensor_variable(x)
        if len(dims) != x.ndim:
            raise ValueError(f"specify_shape: {x} has {x.ndim} dimensions, the shape "
                             f"{len(dims)} entries")
        checked = [_int_scalar("specify_shape", d, f"shape[{i}]") for i, d in enumerate(dims)]
        static = [_static_int(d) if isinstance(d, Constant) else None for d in checked]
        shape = [s if s is not None else xs for s, xs in zip(static, x.type.shape)]
        return Apply(self, [x, *checked], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, *dims = inputs
        want = tuple(int(d) for d in dims)
        if x.shape != want:
            raise ValueError(f"specify_shape: expected shape {want}, got {x.shape}")
        out[0][0] = x

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        return [tuple(node.inputs[1:])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        return [gz[0]] + [grad_undefined_for(self, i + 1, d, "a shape") for i, d in
                          enumerate(inputs[1:])]


def specify_shape(x: Any, shape: Any) -> TensorVariable:
    """``x``, asserted at run time to have ``shape`` (ints, ``None`` for any length, or
    symbolic integer scalars / an integer vector of known length).  Raises ``ValueError`` when a
    rank or length disagrees."""
    x = as_tensor_variable(x)
    if isinstance(shape, Variable):
        if shape.ndim != 1 or shape.type.shape[0] is None:
            raise ValueError(f"specify_shape: a symbolic shape needs a known length; got {shape}")
        vec = cast("TensorVariable", shape)  # a symbolic vector of known length
        shape = [vec[i] for i in range(shape.type.shape[0])]
    shape = list(shape)
    if len(shape) != x.ndim:
        raise ValueError(f"specify_shape: {x} has {x.ndim} dimensions, the shape {len(shape)}")
    static: list[int | None] = []
    dynamic = False
    for s in shape:
        if s is None or isinstance(s, (int, np.integer)):
            static.append(None if s is None else int(s))
        elif isinstance(s, Constant):
            static.append(_static_int(s))
        else:
            dynamic = True
    if not dynamic:
        return SpecifyShape(static)(x)
    dims = [x.shape[d] if s is None else s for d, s in enumerate(shape)]
    return SpecifyShapeDynamic()(x, *dims)


__all__ = [
    "AllocDiag", "Eye", "ExtractDiag", "SpecifyShapeDynamic", "Tri", "TriangularPart",
    "alloc_diag", "diag", "diagonal", "extract_diag", "eye", "identity_like", "mgrid", "ogrid",
    "patternbroadcast", "roll", "specify_shape", "stacklists", "tile", "tri", "tril", "triu",
]
