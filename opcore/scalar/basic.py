"""Scalar operations with a NumPy rule, a C-family expression template and a gradient rule.

Each op carries everything a backend needs to evaluate it, side by side:

* ``numpy``: the NumPy function applied elementwise (the reference implementation);
* ``c_expr``: a C-family expression template over ``{0}``, ``{1}``... shared by the C, CUDA and
  OpenCL backends (``{odtype}`` is the output C type); ``None`` when the backend must fall back;
  ops whose C depends on the dtypes render through ``c_render`` (which may call the
  ``OPCORE_*`` helpers of :mod:`opcore.cbuild.render` and raise through ``OPCORE_ERR(bit)``,
  the bit's error given by ``c_errors``);
* ``grad(T, inputs, output, gz)``: the local derivative, written with the tensor functions
  namespace ``T`` passed in by ``Elemwise`` (so this module needs no tensor import).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from opcore.optional import require
from opcore.config import config

__all__ = ["ScalarOp", "Composite", "upcast", "ALL_OPS", "get_scalar_op", "c_literal"]

_FLOATS = ("float16", "float32", "float64")
_COMPLEX = ("complex64", "complex128")


@functools.lru_cache(maxsize=4096)
def _upcast(dtypes: tuple) -> str:
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


def upcast(*dtypes: str) -> str:
    """The NumPy result dtype of ``dtypes`` (cached: graph building calls it per node)."""
    try:
        return _upcast(dtypes)
    except TypeError:  # unhashable dtype objects
        return np.result_type(*[np.dtype(d) for d in dtypes]).name


def _float_of(dtype: str) -> str:
    """The float dtype an op like exp() gives for an input of ``dtype``."""
    if dtype in _FLOATS or dtype in _COMPLEX:
        return dtype
    if dtype in ("bool", "int8", "uint8"):
        return "float32" if _floatx() == "float32" else "float64"
    if dtype in ("int16", "uint16"):
        return "float32" if _floatx() == "float32" else "float64"
    return "float64"


def _floatx() -> str:

    return config.floatX


class ScalarOp:
    """One elementwise operation.  Instances are singletons compared by name."""

    def __init__(self, name, nin, numpy, c_expr=None, out="same", grad=None, commutative=False,
                 associative=False, identity=None, nfunc_name=None, py_op=None,
                 c_errors=None):
        self.name = name
        self.nin = nin
        self.numpy = numpy
        self.c_expr = c_expr
        self.out = out
        self._grad = grad
        self.commutative = commutative
        self.associative = associative
        self.identity = identity
        self.nfunc_name = nfunc_name or name
        self.py_op = py_op
        #: ``{bit: (Python exception name, message)}``: the errors the C template raises through
        #: ``OPCORE_ERR(bit)`` (checked after the loop, as NumPy raises after its loop)
        self.c_errors = dict(c_errors or {})

    def output_dtype(self, *dtypes: str) -> str:
        if self.out == "same":
            return upcast(*dtypes)
        if self.out == "bool":
            return "bool"
        if self.out == "float":
            return _float_of(upcast(*dtypes))
        if self.out == "int":
            d = upcast(*dtypes)
            return d if d not in _FLOATS else "int64"
        if callable(self.out):
            return self.out(*dtypes)
        return self.out

    def check_input_dtypes(self, *dtypes: str) -> None:
        """Raise NumPy's ``TypeError`` when NumPy's ufunc rejects these input dtypes (``-b``
        and ``b - b`` on bool, ``~`` on floats, ``sign`` of bool): the graph is refused when
        built."""
        _check_numpy_accepts(self, tuple(dtypes))

    def compute_dtypes(self, in_dtypes: tuple, out_dtype: str) -> tuple:
        """The dtypes the inputs are cast to before the operation (NumPy's rule: the output
        type for arithmetic, the common type for comparisons; switch's condition unchanged)."""
        if self.name in _CMP:
            common = upcast(*in_dtypes)
            return (common,) * len(in_dtypes)
        if self.name in ("isnan", "isinf"):
            return tuple(d if d in _FLOATS else "float64" for d in in_dtypes)
        if self.name == "switch":
            return (in_dtypes[0], out_dtype, out_dtype)
        if self.name == "second":
            return (in_dtypes[0], out_dtype)
        return (out_dtype,) * len(in_dtypes)

    def numpy_impl(self, args: list, out_dtype: str):
        """NumPy evaluation with the inputs cast to ``compute_dtypes`` first, so an int8 ``exp``
        computes in the float output type (NumPy alone would use float16)."""
        fn = self.numpy
        if self.out == "float" and any(getattr(a, "dtype", None) not in (None, np.dtype(out_dtype))
                                       for a in args):
            if isinstance(fn, np.ufunc):
                return fn(*args, dtype=out_dtype)
            return fn(*[np.asarray(a).astype(out_dtype) for a in args])
        return fn(*args)

    def c_render(self, args: list, in_dtypes: tuple, out_dtype: str, ctype) -> str | None:
        """A C expression of this op over C values ``args`` (of ``in_dtypes``) giving a value of
        ``out_dtype``; ``ctype`` maps a dtype name to its C type.  None: no C for these dtypes
        (the backend runs NumPy instead).  The inputs are cast to :meth:`compute_dtypes` before
        the arithmetic, signed integers wrap as in NumPy, and NaN propagates as in NumPy."""
        if self.c_expr is None:
            return None
        try:
            cds = self.compute_dtypes(tuple(in_dtypes), out_dtype)
            vals = [a if d == c else f"(({ctype(c)})({a}))"
                    for a, d, c in zip(args, in_dtypes, cds)]
            special = _C_SPECIAL.get(self.name)
            if special is not None:
                return special(vals, list(in_dtypes), cds, out_dtype, ctype, list(args))
            return self.c_expr.format(*vals, odtype=ctype(out_dtype))
        except KeyError:  # a dtype the dialect has no C type for
            return None

    def grad(self, T, inputs, output, gz):
        if self._grad is None:
            return None
        return self._grad(T, inputs, output, gz)

    def __eq__(self, other):
        return isinstance(other, ScalarOp) and type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash(("ScalarOp", self.name))

    def __str__(self):
        return self.name

    __repr__ = __str__

    def __reduce__(self):
        return (get_scalar_op, (self.name,))


ALL_OPS: dict[str, ScalarOp] = {}


def get_scalar_op(name: str) -> ScalarOp:
    return ALL_OPS[name]


def _def(name, nin, numpy, c_expr=None, out="same", grad=None, **kw) -> ScalarOp:
    op = ScalarOp(name, nin, numpy, c_expr, out, grad, **kw)
    ALL_OPS[name] = op
    globals()[name] = op
    __all__.append(name)
    return op


def _zero_grads(T, inputs, output, gz):
    return [T.zeros_like(i, dtype=i.dtype if i.dtype in _FLOATS else _floatx()) for i in inputs]


def _copy(x):
    return np.array(x, copy=True)


def _erf_ref(x):
    return _erf(x)


def _scipy_special(name):
    """``scipy.special.<name>`` as the op's NumPy function; SciPy is imported on the first call
    (``opcore.optional.require``: a clear ImportError naming scipy when it is missing)."""
    def fn(*args):
        return getattr(require("scipy.special", f"the {name} op"), name)(*args)

    fn.__name__ = name
    return fn


def _trigamma(x):
    return require("scipy.special", "the tri_gamma op").polygamma(1, x)


def _safe_floor_div(a, b):
    return np.floor_divide(a, b)


# -- arithmetic ------------------------------------------------------------------------------
_def("add", 2, np.add, "({0} + {1})", commutative=True, associative=True, identity=0,
     grad=lambda T, i, o, g: [g, g], py_op="+")
_def("sub", 2, np.subtract, "({0} - {1})", grad=lambda T, i, o, g: [g, -g], py_op="-")
_def("mul", 2, np.multiply, "({0} * {1})", commutative=True, associative=True, identity=1,
     grad=lambda T, i, o, g: [g * i[1], g * i[0]], py_op="*")
_def("true_div", 2, np.true_divide, "(({odtype}){0} / ({odtype}){1})", out="float",
     grad=lambda T, i, o, g: [g / i[1], -g * i[0] / (i[1] * i[1])], py_op="/")
_def("int_div", 2, _safe_floor_div, "floor_divide({0}, {1})", out="same", grad=_zero_grads, py_op="//")
_def("mod", 2, np.mod, "remainder({0}, {1})",
     grad=lambda T, i, o, g: [g, -g * T.floor(i[0] / i[1])], py_op="%")
_NEGATIVE_POWER = 1  # the OPCORE_ERR bit of an integer raised to a negative integer power
_def("pow", 2, np.power, "pow({0}, {1})",
     grad=lambda T, i, o, g: [g * i[1] * i[0] ** (i[1] - 1), g * o * T.log(i[0])], py_op="**",
     c_errors={_NEGATIVE_POWER: ("ValueError",
                                 "Integers to negative integer powers are not allowed.")})
_def("maximum", 2, np.maximum, "(({0}) > ({1}) ? ({0}) : ({1}))", commutative=True,
     associative=True,
     grad=lambda T, i, o, g: [g * T.eq(o, i[0]), g * T.neq(o, i[0])])
_def("minimum", 2, np.minimum, "(({0}) < ({1}) ? ({0}) : ({1}))", commutative=True,
     associative=True,
     grad=lambda T, i, o, g: [g * T.eq(o, i[0]), g * T.neq(o, i[0])])
_def("neg", 1, np.negative, "(-{0})", grad=lambda T, i, o, g: [-g], py_op="-")
# |z| of a complex number is real (NumPy's and Theano's rule)
_def("abs", 1, np.abs, "fabs({0})", grad=lambda T, i, o, g: [g * T.sgn(i[0])],
     out=lambda d: {"complex64": "float32", "complex128": "float64"}.get(d, d))
_def("sgn", 1, np.sign, "(({0}) > 0 ? 1 : (({0}) < 0 ? -1 : 0))", grad=_zero_grads)
_def("sqr", 1, np.square, "({0} * {0})", grad=lambda T, i, o, g: [g * 2 * i[0]])
_def("sqrt", 1, np.sqrt, "sqrt({0})", out="float", grad=lambda T, i, o, g: [g * 0.5 / o])
_def("inv", 1, np.reciprocal, "(1.0 / {0})", out="float", grad=lambda T, i, o, g: [-g * o * o])
_def("exp", 1, np.exp, "exp({0})", out="float", grad=lambda T, i, o, g: [g * o])
_def("exp2", 1, np.exp2, "exp2({0})", out="float", grad=lambda T, i, o, g: [g * o * np.log(2.0)])
_def("expm1", 1, np.expm1, "expm1({0})", out="float", grad=lambda T, i, o, g: [g * (o + 1)])
_def("log", 1, np.log, "log({0})", out="float", grad=lambda T, i, o, g: [g / i[0]])
_def("log2", 1, np.log2, "log2({0})", out="float",
     grad=lambda T, i, o, g: [g / (i[0] * np.log(2.0))])
_def("log10", 1, np.log10, "log10({0})", out="float",
     grad=lambda T, i, o, g: [g / (i[0] * np.log(10.0))])
_def("log1p", 1, np.log1p, "log1p({0})", out="float", grad=lambda T, i, o, g: [g / (1 + i[0])])
_def("sin", 1, np.sin, "sin({0})", out="float", grad=lambda T, i, o, g: [g * T.cos(i[0])])
_def("cos", 1, np.cos, "cos({0})", out="float", grad=lambda T, i, o, g: [-g * T.sin(i[0])])
_def("tan", 1, np.tan, "tan({0})", out="float", grad=lambda T, i, o, g: [g * (1 + o * o)])
_def("arcsin", 1, np.arcsin, "asin({0})", out="float",
     grad=lambda T, i, o, g: [g / T.sqrt(1 - i[0] * i[0])])
_def("arccos", 1, np.arccos, "acos({0})", out="float",
     grad=lambda T, i, o, g: [-g / T.sqrt(1 - i[0] * i[0])])
_def("arctan", 1, np.arctan, "atan({0})", out="float",
     grad=lambda T, i, o, g: [g / (1 + i[0] * i[0])])
_def("sinh", 1, np.sinh, "sinh({0})", out="float", grad=lambda T, i, o, g: [g * T.cosh(i[0])])
_def("cosh", 1, np.cosh, "cosh({0})", out="float", grad=lambda T, i, o, g: [g * T.sinh(i[0])])
_def("tanh", 1, np.tanh, "tanh({0})", out="float", grad=lambda T, i, o, g: [g * (1 - o * o)])
_def("arctan2", 2, np.arctan2, "atan2({0}, {1})", out="float",
     grad=lambda T, i, o, g: [g * i[1] / (i[0] ** 2 + i[1] ** 2),
                              -g * i[0] / (i[0] ** 2 + i[1] ** 2)])


def _sigmoid(x):
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        out = np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))
    return out.astype(_float_of(x.dtype.name), copy=False)


def _softplus(x):
    x = np.asarray(x)
    out = np.logaddexp(0, x)
    return out.astype(_float_of(x.dtype.name), copy=False)


def _log1mexp(x):
    # log(1 - exp(x)) for x <= 0, accurate on both sides of log(0.5)
    x = np.asarray(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x > -0.6931471805599453, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))
    return out.astype(_float_of(x.dtype.name), copy=False)


_def("sigmoid", 1, _sigmoid,
     "(({0}) >= 0 ? 1.0 / (1.0 + exp(-({0}))) : exp({0}) / (1.0 + exp({0})))", out="float",
     grad=lambda T, i, o, g: [g * o * (1 - o)])
_def("softplus", 1, _softplus,
     "(({0}) > 30 ? ({0}) : (({0}) < -30 ? exp({0}) : log1p(exp({0}))))", out="float",
     grad=lambda T, i, o, g: [g * T.sigmoid(i[0])])
_def("log1mexp", 1, _log1mexp,
     "(({0}) > -0.6931471805599453 ? log(-expm1({0})) : log1p(-exp({0})))", out="float",
     grad=lambda T, i, o, g: [-g * T.exp(i[0]) / -T.expm1(i[0])])
_def("erf", 1, _erf_ref, "erf({0})", out="float",
     grad=lambda T, i, o, g: [g * 2.0 / np.sqrt(np.pi) * T.exp(-i[0] * i[0])])
# -- special functions (Theano's names); SciPy is imported when one first runs -------------------
_def("arccosh", 1, np.arccosh, "acosh({0})", out="float",
     grad=lambda T, i, o, g: [g / T.sqrt(i[0] * i[0] - 1)])
_def("arcsinh", 1, np.arcsinh, "asinh({0})", out="float",
     grad=lambda T, i, o, g: [g / T.sqrt(i[0] * i[0] + 1)])
_def("arctanh", 1, np.arctanh, "atanh({0})", out="float",
     grad=lambda T, i, o, g: [g / (1 - i[0] * i[0])])
_SQRT_PI = float(np.sqrt(np.pi))
_def("erfc", 1, _scipy_special("erfc"), "erfc({0})", out="float",
     grad=lambda T, i, o, g: [-g * (2.0 / _SQRT_PI) * T.exp(-i[0] * i[0])])
_def("erfcx", 1, _scipy_special("erfcx"), None, out="float",
     grad=lambda T, i, o, g: [g * (2 * i[0] * o - 2.0 / _SQRT_PI)])
_def("erfinv", 1, _scipy_special("erfinv"), None, out="float",
     grad=lambda T, i, o, g: [g * (_SQRT_PI / 2) * T.exp(o * o)])
_def("erfcinv", 1, _scipy_special("erfcinv"), None, out="float",
     grad=lambda T, i, o, g: [-g * (_SQRT_PI / 2) * T.exp(o * o)])
_def("gammaln", 1, _scipy_special("gammaln"), "lgamma({0})", out="float",
     grad=lambda T, i, o, g: [g * T.psi(i[0])])
_def("gamma", 1, _scipy_special("gamma"), "tgamma({0})", out="float",
     grad=lambda T, i, o, g: [g * o * T.psi(i[0])])
_def("psi", 1, _scipy_special("psi"), None, out="float",
     grad=lambda T, i, o, g: [g * T.tri_gamma(i[0])])
_def("tri_gamma", 1, _trigamma, None, out="float")
_def("j0", 1, _scipy_special("j0"), None, out="float",
     grad=lambda T, i, o, g: [-g * T.j1(i[0])])
_def("j1", 1, _scipy_special("j1"), None, out="float",
     grad=lambda T, i, o, g: [g * (T.j0(i[0]) - o / i[0])])
_def("i0", 1, _scipy_special("i0"), None, out="float",
     grad=lambda T, i, o, g: [g * T.i1(i[0])])
_def("i1", 1, _scipy_special("i1"), None, out="float",
     grad=lambda T, i, o, g: [g * (T.i0(i[0]) - o / i[0])])
# Bessel functions of real order v (first kind, modified first kind); d/dx only, as Theano
_def("jv", 2, _scipy_special("jv"), None, out="float",
     grad=lambda T, i, o, g: [None, g * (T.jv(i[0] - 1, i[1]) - T.jv(i[0] + 1, i[1])) / 2])
_def("iv", 2, _scipy_special("iv"), None, out="float",
     grad=lambda T, i, o, g: [None, g * (T.iv(i[0] - 1, i[1]) + T.iv(i[0] + 1, i[1])) / 2])
# regularized incomplete gamma functions of (k, x); d/dx only, as Theano
_def("gammainc", 2, _scipy_special("gammainc"), None, out="float",
     grad=lambda T, i, o, g: [None,
                              g * T.exp((i[0] - 1) * T.log(i[1]) - i[1] - T.gammaln(i[0]))])
_def("gammaincc", 2, _scipy_special("gammaincc"), None, out="float",
     grad=lambda T, i, o, g: [None,
                              -g * T.exp((i[0] - 1) * T.log(i[1]) - i[1] - T.gammaln(i[0]))])
# -- complex numbers (Theano's real/imag/conj/angle/complex; gradients in Theano's convention) ---
_REAL_OF = {"complex64": "float32", "complex128": "float64"}


def _complex_out(a: str, b: str) -> str:
    return "complex64" if _float_of(upcast(a, b)) in ("float16", "float32") else "complex128"


def _complex(a, b):
    dt = np.result_type(np.asarray(a), np.asarray(b), np.complex64)
    out = np.empty(np.broadcast_shapes(np.shape(a), np.shape(b)), dtype=dt)
    out.real, out.imag = a, b
    return out


_def("real", 1, np.real, None, out=lambda d: _REAL_OF.get(d, d),
     grad=lambda T, i, o, g: [T.complex(g, T.zeros_like(g)) if i[0].dtype in _REAL_OF else g])
_def("imag", 1, np.imag, None, out=lambda d: _REAL_OF.get(d, d),
     grad=lambda T, i, o, g: [T.complex(T.zeros_like(g), g) if i[0].dtype in _REAL_OF
                              else T.zeros_like(g)])
_def("conj", 1, np.conj, None, grad=lambda T, i, o, g: [T.conj(g)])
_def("angle", 1, np.angle, None, out=lambda d: _REAL_OF.get(d, _float_of(d)))
_def("complex", 2, _complex, None, out=_complex_out,
     grad=lambda T, i, o, g: [T.real(g), T.imag(g)])
_def("floor", 1, np.floor, "floor({0})", grad=_zero_grads)
_def("ceil", 1, np.ceil, "ceil({0})", grad=_zero_grads)
_def("round_half_to_even", 1, np.round, "nearbyint({0})", grad=_zero_grads)
_def("trunc", 1, np.trunc, "trunc({0})", grad=_zero_grads)
_def("second", 2, lambda a, b: np.array(np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b)))),
     "({1})", out=lambda a, b: np.dtype(b).name,
     grad=lambda T, i, o, g: [T.zeros_like(i[0], dtype=i[0].dtype if i[0].dtype in _FLOATS
                                          else _floatx()), g])
_def("identity", 1, _copy, "({0})", grad=lambda T, i, o, g: [g])
identity: ScalarOp  # made by _def at import; declared for type checkers

# -- comparisons and logic (no gradient flows) -----------------------------------------------
_def("lt", 2, np.less, "({0} < {1})", out="bool", grad=_zero_grads, py_op="<")
_def("gt", 2, np.greater, "({0} > {1})", out="bool", grad=_zero_grads, py_op=">")
_def("le", 2, np.less_equal, "({0} <= {1})", out="bool", grad=_zero_grads, py_op="<=")
_def("ge", 2, np.greater_equal, "({0} >= {1})", out="bool", grad=_zero_grads, py_op=">=")
_def("eq", 2, np.equal, "({0} == {1})", out="bool", grad=_zero_grads, commutative=True)
_def("neq", 2, np.not_equal, "({0} != {1})", out="bool", grad=_zero_grads, commutative=True)
_def("and_", 2, np.bitwise_and, "({0} & {1})", grad=_zero_grads, commutative=True, py_op="&")
_def("or_", 2, np.bitwise_or, "({0} | {1})", grad=_zero_grads, commutative=True, py_op="|")
_def("xor", 2, np.bitwise_xor, "({0} ^ {1})", grad=_zero_grads, commutative=True, py_op="^")
_def("invert", 1, np.invert, None, grad=_zero_grads, py_op="~")
_def("isnan", 1, np.isnan, "(isnan({0}) != 0)", out="bool", grad=_zero_grads)
_def("isinf", 1, np.isinf, "(isinf({0}) != 0)", out="bool", grad=_zero_grads)


def _switch_dtype(c, a, b):
    return upcast(a, b)


_def("switch", 3, np.where, "(({0}) ? ({1}) : ({2}))", out=lambda c, a, b: upcast(a, b),
     grad=lambda T, i, o, g: [T.zeros_like(i[0], dtype=_floatx()),
                              T.switch(i[0], g, T.zeros_like(g)),
                              T.switch(i[0], T.zeros_like(g), g)])


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


_def("clip", 3, _clip, "(({0}) < ({1}) ? ({1}) : (({0}) > ({2}) ? ({2}) : ({0})))",
     out=lambda x, lo, hi: upcast(x, lo, hi),
     grad=lambda T, i, o, g: [g * T.and_(T.ge(i[0], i[1]), T.le(i[0], i[2])),
                              g * T.lt(i[0], i[1]), g * T.gt(i[0], i[2])])


_CMP = ("lt", "gt", "le", "ge", "eq", "neq")
#: ops a fused loop's name spells infix, as Theano's Composite names do
_INFIX = ("add", "sub", "mul", "true_div", "int_div", "mod", "pow")
_SIGNED = ("int8", "int16", "int32", "int64")
_UNSIGNED = ("uint8", "uint16", "uint32", "uint64")


@functools.lru_cache(maxsize=4096)
def _check_numpy_accepts(op: ScalarOp, dtypes: tuple) -> None:
    fn = op.numpy
    if not isinstance(fn, np.ufunc) or len(dtypes) != fn.nin:
        return
    try:
        with np.errstate(all="ignore"):
            fn(*[np.zeros(1, dtype=d) for d in dtypes])
    except TypeError as exc:
        raise TypeError(f"{op.name} of {', '.join(dtypes)}: {exc}") from None


def _wrap(expr_fmt: str, vals: list, dtype: str, ctype) -> str:
    """Integer arithmetic in an unsigned type of at least 32 bits, cast back to ``dtype``: it
    wraps on overflow as NumPy does (signed overflow, and ``int`` promotion of 16-bit operands,
    are undefined in C)."""
    u = ctype("uint64" if dtype in ("int64", "uint64") else "uint32")
    return f"(({ctype(dtype)})({expr_fmt.format(*[f'(({u})({v}))' for v in vals])}))"


def _c_minmax(cmp: str):
    def render(vals, in_dts, cds, out, ctype, raw=None):
        a, b = vals
        if out in _FLOATS:  # NumPy: a NaN in either input is the result (| keeps it branch-free)
            return f"(((({a}) {cmp} ({b})) | (({a}) != ({a}))) ? ({a}) : ({b}))"
        return f"((({a}) {cmp} ({b})) ? ({a}) : ({b}))"
    return render


def _c_sgn(vals, in_dts, cds, out, ctype, raw=None):
    (a,) = vals
    if out in _FLOATS:  # NaN (and a zero) give themselves back: two selects, vectorized;
        # "+ 0" after the selects (not inside one, which -ftrapping-math keeps GCC from
        # if-converting) turns -0.0 into NumPy's 0.0 and keeps 1, -1 and NaN, at no cost
        return f"((({a}) > 0 ? 1 : (({a}) < 0 ? -1 : ({a}))) + 0)"
    if out in _UNSIGNED:
        return f"(({a}) > 0 ? 1 : 0)"
    return f"(({a}) > 0 ? 1 : (({a}) < 0 ? -1 : 0))"


def _c_clip(vals, in_dts, cds, out, ctype, raw=None):
    """NumPy's ``minimum(maximum(x, lo), hi)``: NaN in x, lo or hi gives NaN, and ``hi`` wins
    when ``lo > hi``.  The per-element part is two selects (x86 ``max``/``min``, vectorized;
    a NaN x falls through both); everything else depends on the bounds only, so for scalar
    bounds the compiler hoists it out of the loop: the lower bound is ``min(lo, hi)``, and a NaN
    bound makes the subtracted term NaN (else ``x - 0.0``, which keeps ``-0.0``)."""
    x, lo, hi = vals
    low = f"(({lo}) > ({hi}) ? ({hi}) : ({lo}))"
    body = f"(({x}) < {low} ? {low} : (({x}) > ({hi}) ? ({hi}) : ({x})))"
    if out in _FLOATS:
        ct = ctype(out)
        nan_bound = (f"(((({lo}) == ({lo})) & (({hi}) == ({hi}))) ? (({ct})0) : "
                     f"(({ct})NPY_NAN))")
        return f"({body} - {nan_bound})"
    return body


def _c_abs(vals, in_dts, cds, out, ctype, raw=None):
    (a,) = vals
    if out in _FLOATS:
        return f"fabs({a})"
    if out in _SIGNED:  # abs(INT_MIN) is INT_MIN, as in NumPy
        return f"(({a}) < 0 ? {_wrap('(-{0})', [a], out, ctype)} : ({a}))"
    return a


def _c_int_identity(template: str):
    """floor/ceil/trunc/round: the identity on integers (never through double)."""
    def render(vals, in_dts, cds, out, ctype, raw=None):
        if out in _FLOATS:
            return template.format(*vals)
        return vals[0]
    return render


def _c_arith(fmt: str, bool_fmt: str | None = None):
    def render(vals, in_dts, cds, out, ctype, raw=None):
        if out in _SIGNED or out in _UNSIGNED:
            return _wrap(fmt, vals, out, ctype)
        if out == "bool" and bool_fmt is not None:  # NumPy: bool + is or, bool * is and
            return bool_fmt.format(*vals)
        return fmt.format(*vals)
    return render


def _c_pow(vals, in_dts, cds, out, ctype, raw=None):
    """Floats: ``pow``.  Integers: NumPy's power, wrapping (``OPCORE_IPOW`` modulo 2**64, cast
    to the type); a negative signed exponent raises NumPy's ValueError after the loop."""
    a, b = vals
    if out in _FLOATS:
        return f"pow({a}, {b})"
    if out not in _SIGNED and out not in _UNSIGNED:
        return None
    ct = ctype(out)
    p = f"(({ct})OPCORE_IPOW((npy_uint64)({a}), (npy_uint64)({b})))"
    if out in _UNSIGNED:
        return p
    return f"(({b}) < 0 ? (({ct})OPCORE_ERR({_NEGATIVE_POWER})) : {p})"


#: the helper suffix of NumPy's float floor division / remainder per float dtype
_F_SUFFIX = {"float32": "F32", "float64": "F64"}


def _c_int_div(vals, in_dts, cds, out, ctype, raw=None):
    """NumPy's floor division of integers: x // 0 is 0, INT_MIN // -1 wraps to INT_MIN, the
    quotient rounds toward minus infinity.  Floats: NumPy's ``npy_divmod`` rule
    (``OPCORE_FLOOR_DIVIDE_*``: snapped quotient, x // 0 is x / 0, signed zeros)."""
    a, b = vals
    if out in _F_SUFFIX:
        return f"OPCORE_FLOOR_DIVIDE_{_F_SUFFIX[out]}({a}, {b})"
    if out in _UNSIGNED:
        return f"(({b}) == 0 ? 0 : ({a}) / ({b}))"
    if out not in _SIGNED:
        return None
    neg = _wrap("(0 - {0})", [a], out, ctype)
    return (f"(({b}) == 0 ? 0 : (({b}) == -1 ? {neg} : (({a}) / ({b}) - "
            f"((({a}) % ({b}) != 0) & ((({a}) < 0) != (({b}) < 0))))))")


def _c_mod(vals, in_dts, cds, out, ctype, raw=None):
    """NumPy's remainder: the sign of the divisor; integers: x % 0 is 0; floats: NumPy's
    ``npy_divmod`` rule (``OPCORE_REMAINDER_*``: x % 0 is NaN, a zero signed as the divisor)."""
    a, b = vals
    if out in _F_SUFFIX:
        return f"OPCORE_REMAINDER_{_F_SUFFIX[out]}({a}, {b})"
    if out in _UNSIGNED:
        return f"(({b}) == 0 ? 0 : ({a}) % ({b}))"
    if out not in _SIGNED:
        return None
    r = f"(({a}) % ({b}))"
    return (f"((({b}) == 0 || ({b}) == -1) ? 0 : (({r} != 0 && (({r} < 0) != (({b}) < 0))) ? "
            f"{r} + ({b}) : {r}))")


def _c_float_only(f64: str, f32: str):
    """A template per float output type (``{0}`` is the argument)."""
    def render(vals, in_dts, cds, out, ctype, raw=None):
        return (f64 if out == "float64" else f32).format(*vals)
    return render


# SciPy's (Cephes) values where C's libm differs, per output type: gammaln(-inf) is -inf
# (lgamma: +inf), and in float64 it is +inf where 1/x overflows (Cephes divides by x first);
# erfc is 0 beyond x * x > log(DBL_MAX) (Cephes' underflow test; libm: denormals); gamma of
# large negative x is a signed 0 below pi / DBL_MAX (Cephes: pi / (an overflowed product)).
# SciPy computes float32 in double, so float32 only needs the -inf rule.
_LGAMMA32 = "(({0}) == -NPY_INFINITY ? ({0}) : lgamma({0}))"
_LGAMMA64 = ("(({0}) == -NPY_INFINITY ? ({0}) : (isinf(1.0 / ({0})) ? NPY_INFINITY : "
             "lgamma({0})))")
_ERFC64 = "((({0}) > 0) & (({0}) * ({0}) > 709.782712893384) ? 0.0 : erfc({0}))"
_GAMMA64 = "(fabs(tgamma({0})) < 1.7475689218952297e-308 ? tgamma({0}) * 0 : tgamma({0}))"


_MIRROR = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "neq": "neq"}
_C_CMP = {"lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "neq": "!="}


def _c_compare(name: str):
    def render(vals, in_dts, cds, out, ctype, raw=None):
        a_dt, b_dt = in_dts
        if a_dt in _UNSIGNED and b_dt in _SIGNED and cds[0] not in _SIGNED:
            # compare with the signed value first
            return _c_compare(_MIRROR[name])(vals[::-1], [b_dt, a_dt], cds, out, ctype,
                                             raw[::-1])
        if a_dt in _SIGNED and b_dt in _UNSIGNED and cds[0] not in _SIGNED:
            # int64 vs uint64: NumPy compares exactly, not through float64
            a, b = (f"(({ctype(d)})({v}))" for v, d in zip(raw, ("int64", "uint64")))
            neg = {"lt": "1", "le": "1", "neq": "1", "gt": "0", "ge": "0", "eq": "0"}[name]
            return f"(({a}) < 0 ? {neg} : (((npy_uint64)({a})) {_C_CMP[name]} ({b})))"
        return f"(({vals[0]}) {_C_CMP[name]} ({vals[1]}))"
    return render


_C_SPECIAL = {
    "maximum": _c_minmax(">"), "minimum": _c_minmax("<"), "sgn": _c_sgn, "clip": _c_clip,
    "abs": _c_abs, "pow": _c_pow, "int_div": _c_int_div, "mod": _c_mod,
    "gammaln": _c_float_only(_LGAMMA64, _LGAMMA32), "erfc": _c_float_only(_ERFC64, "erfc({0})"),
    "gamma": _c_float_only(_GAMMA64, "tgamma({0})"),
    "floor": _c_int_identity("floor({0})"), "ceil": _c_int_identity("ceil({0})"),
    "trunc": _c_int_identity("trunc({0})"),
    "round_half_to_even": _c_int_identity("nearbyint({0})"),
    "add": _c_arith("({0} + {1})", "(({0}) || ({1}))"), "sub": _c_arith("({0} - {1})"),
    "mul": _c_arith("({0} * {1})", "(({0}) && ({1}))"), "neg": _c_arith("(-{0})"),
    "sqr": _c_arith("({0} * {0})", "({0})"),
    **{name: _c_compare(name) for name in _CMP},
}


def c_literal(value, dtype: str, ctype) -> str:
    """A C literal of a Python/NumPy scalar of ``dtype`` (NaN, infinities and the extreme
    integers included)."""
    ct = ctype(dtype)
    if dtype in _FLOATS:
        v = float(value)
        if v != v:
            return f"(({ct})NPY_NAN)"
        if v in (float("inf"), float("-inf")):
            return f"(({ct})({'-' if v < 0 else ''}NPY_INFINITY))"
        return f"(({ct})({v!r}))"
    v = int(value)
    if v < 0:  # -(v+1) - 1 never spells a literal too large for long long
        return f"(({ct})(-{-(v + 1)}LL - 1))"
    return f"(({ct})({v}ULL))"


class Composite:
    """A fused expression: a DAG of scalar ops over ``nin`` inputs, computed in one pass.

    ``steps`` is a tuple of ``(scalar_op, args, dtype)`` where each arg is ``("i", k)`` (input k),
    ``("s", k)`` (step k) or ``("c", value, dtype)`` (a scalar constant); ``outputs`` lists the
    steps whose values are returned.  Backends generate one loop from it.
    """

    def __init__(self, nin, in_dtypes, steps, outputs):
        self.nin = nin
        self.in_dtypes = tuple(in_dtypes)
        self.steps = tuple((op, tuple(args), dt) for op, args, dt in steps)
        self.outputs = tuple(outputs)
        self.name = "Composite{" + ", ".join(self._expr(k) for k in self.outputs) + "}"

    @property
    def out_dtypes(self):
        return tuple(self.steps[k][2] for k in self.outputs)

    def _expr(self, k, depth=0):
        op, args, _ = self.steps[k]
        if depth > 3:
            return "..."
        parts = []
        for a in args:
            if a[0] == "i":
                parts.append(f"i{a[1]}")
            elif a[0] == "c":
                parts.append(repr(a[1]))
            else:
                parts.append(self._expr(a[1], depth + 1))
        if op.name in _INFIX and len(parts) == 2:  # Theano's names: Composite{((i0 * i1) + i2)}
            return f"({parts[0]} {op.py_op} {parts[1]})"
        if op.name == "neg":
            return f"(-{parts[0]})"
        return f"{op.name}({', '.join(parts)})"

    def c_exprs(self, in_names, cast):
        """C expressions for each output; ``cast(value_expr, dtype)`` renders a cast."""
        exprs = []
        for op, args, dt in self.steps:
            vals = []
            for a in args:
                if a[0] == "i":
                    vals.append(in_names[a[1]])
                elif a[0] == "c":
                    vals.append(cast(repr(float(a[1])) if "float" in a[2] else str(int(a[1])), a[2]))
                else:
                    vals.append(f"s{a[1]}")
            exprs.append((op, vals, dt))
        return exprs

    def c_steps(self, in_names, ctype):
        """Per step: ``(scalar_op, C argument values, argument dtypes, output dtype)``, constants
        as C literals (:func:`c_literal`)."""
        out = []
        for op, args, dt in self.steps:
            vals, dts = [], []
            for a in args:
                if a[0] == "i":
                    vals.append(in_names[a[1]])
                    dts.append(self.in_dtypes[a[1]])
                elif a[0] == "c":
                    vals.append(c_literal(a[1], a[2], ctype))
                    dts.append(a[2])
                else:
                    vals.append(f"s{a[1]}")
                    dts.append(self.steps[a[1]][2])
            out.append((op, vals, tuple(dts), dt))
        return out

    def __eq__(self, other):
        return isinstance(other, Composite) and (self.nin, self.in_dtypes, self.steps, self.outputs) == (
            other.nin, other.in_dtypes, other.steps, other.outputs)

    def __hash__(self):
        return hash((self.nin, self.in_dtypes, self.steps, self.outputs))

    def __str__(self):
        return self.name

    __repr__ = __str__

    @property
    def c_expr(self):
        return "composite"

    def _last_uses(self):
        """For each step, the index of the last step that reads it (``-1``: an output)."""
        cached = self.__dict__.get("_last_use")
        if cached is None:
            cached = [len(self.steps)] * len(self.steps)
            for j, (_, args, _) in enumerate(self.steps):
                for a in args:
                    if a[0] == "s":
                        cached[a[1]] = j
            for k in self.outputs:
                cached[k] = -1
            self.__dict__["_last_use"] = cached
        return cached

    def evaluate(self, inputs, out=None):
        """NumPy evaluation.  Temporaries no later step reads are overwritten in place, and with
        ``out`` (one output, its step last) the final ufunc writes straight into ``out``."""
        vals: list = []
        last_use = self._last_uses()
        final = len(self.steps) - 1
        direct = out is not None and self.outputs == (final,)
        for j, (op, args, dt) in enumerate(self.steps):
            argv = []
            reuse = None
            for a in args:
                if a[0] == "i":
                    argv.append(inputs[a[1]])
                elif a[0] == "c":
                    argv.append(np.asarray(a[1], dtype=a[2]))
                else:
                    v = vals[a[1]]
                    argv.append(v)
                    if (reuse is None and last_use[a[1]] == j and isinstance(v, np.ndarray)
                            and v.dtype.name == dt and v.flags.writeable):
                        reuse = v
            fn = op.numpy
            target = out if (direct and j == final) else reuse
            r = None
            if op.out == "float" and any(getattr(v, "dtype", None) not in (None, np.dtype(dt))
                                         for v in argv):
                target = None  # computed in the output type below (numpy_impl)
            if target is not None and isinstance(fn, np.ufunc) and fn.nout == 1:
                try:
                    r = fn(*argv, out=target)
                except (TypeError, ValueError):  # casting or shape the target cannot take
                    r = None
                else:
                    if r.shape != np.broadcast_shapes(*[np.shape(x) for x in argv]):
                        r = fn(*argv)
            if r is None:
                r = op.numpy_impl(argv, dt)
            if getattr(r, "dtype", None) is not None and r.dtype.name != dt:
                r = r.astype(dt)
            vals.append(r)
        return [vals[k] for k in self.outputs]


def _erf(x):
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional for the core

        return np.vectorize(math.erf, otypes=[_float_of(np.asarray(x).dtype.name)])(x)
    return erf(x)
