"""Elementwise math functions, reductions and products."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Sequence

import builtins

import numpy as np

from opcore.config import config
from opcore.graph.basic import Apply, Variable
from opcore.graph.op import Op
from opcore.scalar import basic as S
from opcore.tensor.basic import as_tensor_variable, cast, constant, shape_i
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise, restore_reduced_dims
from opcore.tensor.type import TensorType
from opcore.tensor.basic import specify_broadcastable_as, zeros_like
from opcore.tensor.hints import Axis, DTypeLike, InputShapes, OutputShapes, TensorLike

if TYPE_CHECKING:
    from opcore.tensor.variable import TensorConstant, TensorVariable

# -- elementwise ----------------------------------------------------------------------------
ELEMWISE: dict[str, Elemwise] = {}


def _make(name, scalar_name=None):
    # named as Theano named its tensor functions' ops (T.mul's op.name is Elemwise{mul,no_inplace})
    op = Elemwise(S.ALL_OPS[scalar_name or name],
                  name=f"Elemwise{{{S.ALL_OPS[scalar_name or name]},no_inplace}}")
    ELEMWISE[name] = op

    def fn(*args):
        return op(*args)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {scalar_name or name} (NumPy broadcasting)."
    fn.op = op
    return fn


def _make_nary(name):
    """Theano's n-ary ``add(a, *other_terms)`` / ``mul(a, *other_terms)``: more than two terms
    fold left into binary nodes (``((a + b) + c)``, Theano's order), one term is itself."""
    binary = _make(name)

    def fn(a, *other_terms):
        out = as_tensor_variable(a)
        for t in other_terms:
            out = binary(out, t)
        return out

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} of one or more terms (NumPy broadcasting; the output "
                  "dtype is the upcast of all terms).")
    fn.op = binary.op
    return fn


add = _make_nary("add")
sub = _make("sub")
mul = _make_nary("mul")
true_div = _make("true_div")
int_div = _make("int_div")
mod = _make("mod")
pow = _make("pow")
maximum = _make("maximum")
minimum = _make("minimum")
neg = _make("neg")
abs = _make("abs")
sgn = _make("sgn")
sqr = _make("sqr")
sqrt = _make("sqrt")
inv = _make("inv")
exp = _make("exp")
exp2 = _make("exp2")
expm1 = _make("expm1")
log = _make("log")
log2 = _make("log2")
log10 = _make("log10")
log1p = _make("log1p")
sin = _make("sin")
cos = _make("cos")
tan = _make("tan")
arcsin = _make("arcsin")
arccos = _make("arccos")
arctan = _make("arctan")
arctan2 = _make("arctan2")
sinh = _make("sinh")
cosh = _make("cosh")
tanh = _make("tanh")
sigmoid = _make("sigmoid")
softplus = _make("softplus")
log1mexp = _make("log1mexp")
erf = _make("erf")
arccosh = _make("arccosh")
arcsinh = _make("arcsinh")
arctanh = _make("arctanh")
erfc = _make("erfc")
erfcx = _make("erfcx")
erfinv = _make("erfinv")
erfcinv = _make("erfcinv")
gammaln = _make("gammaln")
gamma = _make("gamma")
psi = _make("psi")
tri_gamma = _make("tri_gamma")
j0 = _make("j0")
j1 = _make("j1")
i0 = _make("i0")
i1 = _make("i1")
gammainc = _make("gammainc")
gammaincc = _make("gammaincc")
jv = _make("jv")
iv = _make("iv")


def gammau(k: int, x: TensorLike) -> TensorVariable:
    """Upper incomplete gamma function (not regularized): ``gammaincc(k, x) * gamma(k)``."""
    return gammaincc(k, x) * gamma(k)


def gammal(k: int, x: TensorLike) -> TensorVariable:
    """Lower incomplete gamma function (not regularized): ``gammainc(k, x) * gamma(k)``."""
    return gammainc(k, x) * gamma(k)
floor = _make("floor")
ceil = _make("ceil")
round_half_to_even = _make("round_half_to_even")
trunc = _make("trunc")
lt = _make("lt")
gt = _make("gt")
le = _make("le")
ge = _make("ge")
eq = _make("eq")
neq = _make("neq")
and_ = _make("and_")
or_ = _make("or_")
xor = _make("xor")
invert = _make("invert")
isnan = _make("isnan")
isinf = _make("isinf")
_switch = _make("switch")
_clip = _make("clip")

# Theano / NumPy spellings
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
less, greater, less_equal, greater_equal, equal, not_equal = lt, gt, le, ge, eq, neq
reciprocal = inv
square = sqr
sign = sgn
power = pow
divide = true_div
floor_div = int_div
round = round_half_to_even
exponential = exp


def switch(cond: TensorLike, ift: TensorLike, iff: TensorLike) -> TensorVariable:
    """``where``: elementwise choice; both branches are computed (see ifelse for lazy)."""
    return _switch(cond, ift, iff)


where = switch


def clip(x: TensorLike, min: TensorLike, max: TensorLike) -> TensorVariable:
    return _clip(x, min, max)


def iround(x: TensorLike) -> TensorVariable | TensorConstant:
    return cast(round(x), "int64")


_real = _make("real")
imag = _make("imag")
conj = _make("conj")
angle = _make("angle")
complex = _make("complex")


def real(x: TensorLike) -> TensorVariable | TensorConstant:
    """The real part (``x`` itself for a real tensor; float32/float64 for complex64/128)."""
    x = as_tensor_variable(x)
    return _real(x) if x.dtype.startswith("complex") else x


def complex_from_polar(abs: TensorLike, angle: TensorLike) -> TensorVariable:  # noqa: A002
    """``abs * exp(1j * angle)`` as a complex tensor."""
    return complex(abs * cos(angle), abs * sin(angle))


def isclose(a: TensorLike, b: TensorLike, rtol: float = 1e-5, atol: float = 1e-8) -> TensorVariable:
    return le(abs(sub(a, b)), add(atol, mul(rtol, abs(b))))


def allclose(a: TensorLike, b: TensorLike, rtol: float = 1e-5, atol: float = 1e-8
            ) -> TensorVariable:
    return all(isclose(a, b, rtol, atol))


# -- reductions -----------------------------------------------------------------------------
def _norm_axis(x, axis):
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if a < 0:
            a += x.ndim
        if not 0 <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"axis {a} is out of range for {x} with {x.ndim} dimensions")
        out.append(a)
    return tuple(sorted(set(out)))


def _reduce(kind, x, axis, keepdims, dtype=None, acc_dtype=None):
    x = as_tensor_variable(x)
    axis = _norm_axis(x, axis)
    if axis is not None and len(axis) == x.ndim:
        axis = None
    if x.ndim == 0:
        r = x if dtype is None or dtype == x.dtype else cast(x, dtype)
        if kind in ("all", "any"):
            r = neq(x, 0)
        return r
    r = CAReduce(kind, axis, dtype, acc_dtype)(x)
    return restore_reduced_dims(r, x.ndim, axis) if keepdims else r


def _sum_dtype(x):
    if x.dtype in ("bool", "int8", "int16", "int32"):
        return "int64"
    if x.dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return x.dtype


def sum(x: TensorLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False,
        acc_dtype: DTypeLike = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return _reduce("sum", x, axis, keepdims, dtype or _sum_dtype(x), acc_dtype)


def prod(x: TensorLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False,
         acc_dtype: DTypeLike = None, no_zeros_in_input: bool = False) -> TensorVariable:
    x = as_tensor_variable(x)
    return _reduce("prod", x, axis, keepdims, dtype or _sum_dtype(x), acc_dtype)


def max(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    return _reduce("max", x, axis, keepdims)


def min(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    return _reduce("min", x, axis, keepdims)


def all(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    return _reduce("all", x, axis, keepdims)


def any(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    return _reduce("any", x, axis, keepdims)


def _count(x, axis):
    if axis is None:
        axis = range(x.ndim)
    n = None
    for a in axis:
        s = shape_i(x, a)
        n = s if n is None else n * s
    return n if n is not None else constant(np.int64(1))


def mean(x: TensorLike, axis: Axis = None, dtype: DTypeLike = None, keepdims: bool = False,
         acc_dtype: DTypeLike = None) -> TensorVariable | TensorConstant:
    x = as_tensor_variable(x)
    ax = _norm_axis(x, axis)
    out_dt = dtype or (x.dtype if x.dtype.startswith(("float", "complex")) else "float64")
    # float16: sum and divide in float32 (the element count overflows float16 above 65504),
    # then cast back, as Theano does
    work_dt = "float32" if out_dt == "float16" else out_dt
    s = sum(x, ax, dtype=work_dt, keepdims=keepdims, acc_dtype=acc_dtype)
    r = true_div(s, cast(_count(x, ax), work_dt))
    return r if work_dt == out_dt else cast(r, out_dt)


def var(x: TensorLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    x = as_tensor_variable(x)
    ax = _norm_axis(x, axis)
    m = mean(x, ax, keepdims=True)
    d = sub(x, m)
    out_dt = d.dtype
    n = cast(_count(x, ax), out_dt)
    if corrected and not ddof:
        ddof = 1
    return true_div(sum(mul(d, d), ax, keepdims=keepdims), sub(n, ddof) if ddof else n)


def std(x: TensorLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    return sqrt(var(x, axis, ddof, keepdims, corrected))


class Argmax(Op):
    """Index of the max (or min) along one axis, or over the flattened array."""

    __props__ = ("axis", "kind")

    def __init__(self, axis: int | None, kind: str = "max") -> None:
        self.axis = axis
        self.kind = kind

    def __str__(self) -> str:
        return f"Arg{self.kind}{{axis={self.axis}}}"

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        shape = () if self.axis is None else [s for d, s in enumerate(x.type.shape) if d != self.axis]
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        (x,) = inputs
        if x.size == 0:
            raise ValueError(f"{self}: cannot reduce an empty array of shape {x.shape}")
        fn = np.argmax if self.kind == "max" else np.argmin
        out[0][0] = np.asarray(fn(x, axis=self.axis), dtype="int64")

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        if self.axis is None:
            return [()]
        return [tuple(s for d, s in enumerate(shapes[0]) if d != self.axis)]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        return [zeros_like(inputs[0])]


def argmax(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    x = as_tensor_variable(x)
    ax = _norm_axis(x, axis)
    if ax is not None and len(ax) > 1:
        raise ValueError("argmax: only one axis is supported")
    a = None if ax is None else ax[0]
    r = Argmax(a, "max")(x)
    return restore_reduced_dims(r, x.ndim, ax) if keepdims else r


def argmin(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> TensorVariable:
    x = as_tensor_variable(x)
    ax = _norm_axis(x, axis)
    if ax is not None and len(ax) > 1:
        raise ValueError("argmin: only one axis is supported")
    a = None if ax is None else ax[0]
    r = Argmax(a, "min")(x)
    return restore_reduced_dims(r, x.ndim, ax) if keepdims else r


def max_and_argmax(x: TensorLike, axis: Axis = None) -> tuple[TensorVariable, TensorVariable]:
    return max(x, axis), argmax(x, axis)


class Nonzero(Op):
    """``numpy.nonzero``: one int64 index vector per dimension of the input."""

    __props__ = ()

    def make_node(self, x: TensorLike) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError("nonzero: the input must have at least one dimension")
        return Apply(self, [x], [TensorType("int64", shape=(None,))() for _ in range(x.ndim)])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        for cell, idx in zip(out, np.nonzero(inputs[0])):
            cell[0] = idx.astype("int64")

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:

        return [zeros_like(inputs[0], dtype=config.floatX)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False] * len(node.outputs)]

    def __eq__(self, other: object) -> bool:
        return type(other) is Nonzero

    def __hash__(self) -> int:
        return hash(Nonzero)


def nonzero(x: TensorLike, return_matrix: bool = False) -> tuple[Variable, ...]:
    """The indices of the non-zero entries of ``x``, one vector per dimension."""
    outs = Nonzero()(x)
    outs = outs if isinstance(outs, list) else [outs]
    return tuple(outs)


def nonzero_values_indices(mask: TensorLike) -> list[Variable]:
    """Index vectors selecting ``mask``'s True entries (constants for a NumPy mask)."""
    if isinstance(mask, np.ndarray):
        return [constant(i.astype("int64")) for i in np.nonzero(mask)]
    return list(nonzero(mask))


def nonzero_values(x: TensorLike) -> TensorVariable | TensorConstant:
    x = as_tensor_variable(x)
    from opcore.tensor.shape import flatten
    from opcore.tensor.subtensor import subtensor_getitem

    flat = flatten(x)
    return subtensor_getitem(flat, nonzero(flat)[0])


# -- products -------------------------------------------------------------------------------
class Dot(Op):
    """Matrix/vector product of 1-d and 2-d tensors (``numpy.dot``)."""

    __props__ = ()

    def make_node(self, x: TensorLike, y: TensorLike) -> Apply:
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise TypeError(f"Dot: inputs must be 1-d or 2-d, got {x.type} and {y.type}")
        dt = S.upcast(x.dtype, y.dtype)
        kx = x.type.shape[-1]
        ky = y.type.shape[0]
        if kx is not None and ky is not None and kx != ky:
            raise ValueError(f"Dot: shapes {x.type.shape} and {y.type.shape} are not aligned")
        shape = list(x.type.shape[:-1]) + list(y.type.shape[1:])
        shape = [None if s == 1 else s for s in shape] if False else shape
        return Apply(self, [x, y], [TensorType(dt, shape=shape)()])

    def perform(self, node: Apply, inputs: list[Any], out: list[list[Any]]) -> None:
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"Dot: shapes {x.shape} and {y.shape} are not aligned "
                             f"({x.shape[-1]} != {y.shape[0]})")
        out[0][0] = np.asarray(np.dot(x, y), dtype=node.outputs[0].type.numpy_dtype)

    def infer_shape(self, node: Apply, shapes: InputShapes) -> OutputShapes:
        sx, sy = shapes
        return [tuple(sx[:-1]) + tuple(sy[1:])]

    def L_op(self, inputs: list[Variable], outputs: list[Variable], gz: list[Variable]
            ) -> list[Variable]:
        x, y = inputs
        (g0,) = gz
        g = typing.cast("TensorVariable", g0)
        if x.ndim == 1 and y.ndim == 1:
            gx, gy = g * y, g * x
        elif x.ndim == 1:  # (k) . (k, n) -> (n)
            gx, gy = dot(y, g), outer(x, g)
        elif y.ndim == 1:  # (m, k) . (k) -> (m)
            gx, gy = outer(g, y), dot(g, x)
        else:
            gx, gy = dot(g, y.T), dot(x.T, g)
        out = []
        for v, gv in ((x, gx), (y, gy)):
            if gv.broadcastable != v.broadcastable:

                gv = specify_broadcastable_as(gv, v.type) if gv.type.is_super(v.type) else gv
            out.append(cast(gv, v.dtype) if gv.dtype != v.dtype and v.dtype.startswith("float") else gv)
        return out

    def R_op(self, inputs: list[Variable], eval_points: list[Variable | None]
            ) -> list[Variable | None]:
        x, y = inputs
        ex, ey = eval_points
        terms = []
        if ex is not None:
            terms.append(dot(ex, y))
        if ey is not None:
            terms.append(dot(x, ey))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def __eq__(self, other: object) -> bool:
        return type(other) is Dot

    def __hash__(self) -> int:
        return hash(Dot)


_dot = Dot()


def dot(a: TensorLike, b: TensorLike) -> TensorVariable:
    """``numpy.dot`` semantics for any ranks (scalars multiply; n-d uses tensordot)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [builtins.max(0, b.ndim - 2)]])


def matmul(a: TensorLike, b: TensorLike) -> TensorVariable:
    return dot(a, b)


def outer(x: TensorLike, y: TensorLike) -> TensorVariable:
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        from opcore.tensor.shape import flatten

        x = flatten(x)
    if y.ndim != 1:
        from opcore.tensor.shape import flatten

        y = flatten(y)
    return mul(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def tensordot(a: TensorLike, b: TensorLike,
              axes: int | Sequence[Sequence[int]] = 2) -> TensorVariable:
    """``numpy.tensordot`` built from transpose, reshape and a 2-d dot."""
    from opcore.tensor.shape import reshape

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(a.ndim - axes, a.ndim)), list(range(axes))]
    ax_a = [x % a.ndim for x in np.atleast_1d(axes[0]).tolist()]
    ax_b = [x % b.ndim for x in np.atleast_1d(axes[1]).tolist()]
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes {axes} pair up different numbers of dimensions")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    at = a.dimshuffle(*(free_a + ax_a))
    bt = b.dimshuffle(*(ax_b + free_b))
    k: TensorVariable | TensorConstant | int | None = None
    for d in ax_a:
        s = shape_i(a, d)
        k = s if k is None else k * s
    k = k if k is not None else 1
    m = None
    for d in free_a:
        s = shape_i(a, d)
        m = s if m is None else m * s
    n = None
    for d in free_b:
        s = shape_i(b, d)
        n = s if n is None else n * s
    a2 = reshape(at, [m if m is not None else 1, k])
    b2 = reshape(bt, [k, n if n is not None else 1])
    r = _dot(a2, b2)
    out_shape = [shape_i(a, d) for d in free_a] + [shape_i(b, d) for d in free_b]
    return reshape(r, out_shape, ndim=len(out_shape))


def batched_dot(a: TensorLike, b: TensorLike) -> TensorVariable:
    """Theano's ``batched_dot``: ``np.dot(a[i], b[i])`` for each index ``i`` of the first (batch)
    axis.  ``a`` and ``b`` have 1 to 3 dimensions: (B, n) x (B, n) -> (B,), (B, n) x (B, n, m)
    -> (B, m), (B, n, k) x (B, k) -> (B, n), (B, n, k) x (B, k, m) -> (B, n, m); a 1-d operand
    scales the other per batch.  Raises TypeError for 0-d operands or more than 3 dimensions
    (Theano's batched_tensordot case)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: both operands need a batch axis, got {a.type} and "
                        f"{b.type}")
    if a.ndim > 3 or b.ndim > 3:
        raise TypeError(f"batched_dot: operands of at most 3 dimensions, got {a.type} and "
                        f"{b.type}")
    if a.ndim == 1:
        return mul(a.dimshuffle(0, *["x"] * (b.ndim - 1)), b)
    if b.ndim == 1:
        return mul(a, b.dimshuffle(0, *["x"] * (a.ndim - 1)))
    # a: (B, [n,] k) and b: (B, k[, m]) -> multiply on a shared axis layout (B, n, k, m), sum k
    a4 = a.dimshuffle(0, 1, 2, "x") if a.ndim == 3 else a.dimshuffle(0, "x", 1, "x")
    b4 = b.dimshuffle(0, "x", 1, 2) if b.ndim == 3 else b.dimshuffle(0, "x", 1, "x")
    out = sum(mul(a4, b4), axis=2)
    keep = [0] + ([1] if a.ndim == 3 else []) + ([2] if b.ndim == 3 else [])
    return out.dimshuffle(*keep)


__all__ = [n for n in dir() if not n.startswith("_")]
