"""More of Theano's ``theano.tensor`` vocabulary, built from existing ops: the dtype lists
(``float_dtypes``, ``integer_dtypes``, ...), the typed-shortcut tuples (``float_vector_types``...),
``ptp``, ``swapaxes``, ``flatnonzero``, ``largest``, ``smallest``, ``deg2rad``, ``rad2deg``,
``split``, ``inverse_permutation``, ``permute_row_elements`` and ``cov``.

All are compositions, so gradients and shapes come from the ops they use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Constant
from opcore.scalar.basic import upcast
from opcore.tensor.basic import (MakeVector, NotScalarConstantError, Shape, as_tensor_variable,
                                 cast, get_scalar_constant_value, zeros_like)
from opcore.tensor.math import abs as tabs
from opcore.tensor.math import dot, floor, max as tmax, mean, min as tmin, neq, sgn, switch
from opcore.tensor.math import sum as tsum
from opcore.tensor.construct import specify_shape
from opcore.tensor.extra_ops import squeeze
from opcore.tensor.shape import concatenate, flatten, stack
from opcore.tensor.sort import argsort, axis_grid_index
from opcore.tensor.subtensor import inc_subtensor, set_subtensor
from opcore.tensor.type import SHORTCUTS
from opcore.tensor.variable import TensorConstant, TensorVariable


# -- Theano's dtype lists (theano.tensor.basic) -------------------------------------------------
int_dtypes = ["int8", "int16", "int32", "int64"]
uint_dtypes = ["uint8", "uint16", "uint32", "uint64"]
float_dtypes = ["float16", "float32", "float64"]
complex_dtypes = ["complex64", "complex128"]
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ["bool"] + integer_dtypes
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes

# -- Theano's tuples of typed shortcuts ----------------------------------------------------------
int_types = tuple(SHORTCUTS[p + "scalar"] for p in "bwil")
float_types = tuple(SHORTCUTS[p + "scalar"] for p in "fd")
complex_types = tuple(SHORTCUTS[p + "scalar"] for p in "cz")
int_scalar_types, float_scalar_types, complex_scalar_types = int_types, float_types, complex_types
int_vector_types = tuple(SHORTCUTS[p + "vector"] for p in "bwil")
float_vector_types = tuple(SHORTCUTS[p + "vector"] for p in "fd")
complex_vector_types = tuple(SHORTCUTS[p + "vector"] for p in "cz")
int_matrix_types = tuple(SHORTCUTS[p + "matrix"] for p in "bwil")
float_matrix_types = tuple(SHORTCUTS[p + "matrix"] for p in "fd")
complex_matrix_types = tuple(SHORTCUTS[p + "matrix"] for p in "cz")


def ptp(a: Any, axis: Any = None) -> TensorVariable:
    """Range (``max - min``) along ``axis`` (``numpy.ptp``)."""
    a = as_tensor_variable(a)
    return tmax(a, axis) - tmin(a, axis)


def swapaxes(y: Any, axis1: int, axis2: int) -> TensorVariable:
    """``y`` with ``axis1`` and ``axis2`` exchanged (``numpy.swapaxes``)."""
    y = as_tensor_variable(y)
    order = list(range(y.ndim))
    a1, a2 = axis1 % y.ndim, axis2 % y.ndim
    order[a1], order[a2] = order[a2], order[a1]
    return y.dimshuffle(order)


def flatnonzero(a: Any) -> TensorVariable:
    """int64 indices of the non-zero entries of the flattened ``a`` (``numpy.flatnonzero``)."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("flatnonzero: the input must have at least one dimension")
    return flatten(a).nonzero()[0]


def largest(*args: Any) -> TensorVariable:
    """Elementwise maximum of the arguments (Theano's ``largest``)."""
    if len(args) == 2:
        a, b = (as_tensor_variable(x) for x in args)
        return switch(a > b, a, b)
    return tmax(stack([as_tensor_variable(x) for x in args]), axis=0)


def smallest(*args: Any) -> TensorVariable:
    """Elementwise minimum of the arguments (Theano's ``smallest``)."""
    if len(args) == 2:
        a, b = (as_tensor_variable(x) for x in args)
        return switch(a < b, a, b)
    return tmin(stack([as_tensor_variable(x) for x in args]), axis=0)


def _scaled(a: Any, factor: float):
    a = as_tensor_variable(a)
    dt = a.dtype if a.dtype in ("float16", "float32") else "float64"
    return a * np.asarray(factor, dtype=dt)


def deg2rad(a: Any) -> TensorVariable:
    """Degrees to radians (``numpy.deg2rad``; float32 stays float32)."""
    return _scaled(a, np.pi / 180.0)


def rad2deg(a: Any) -> TensorVariable:
    """Radians to degrees (``numpy.rad2deg``; float32 stays float32)."""
    return _scaled(a, 180.0 / np.pi)


# -- Theano's spellings of indexing ----------------------------------------------------------------
def advanced_subtensor1(x: Any, ilist: Any) -> TensorVariable:
    """``x[ilist]`` for an integer vector ``ilist`` (Theano's ``advanced_subtensor1``)."""
    return as_tensor_variable(x)[as_tensor_variable(ilist)]


def advanced_inc_subtensor1(x: Any, y: Any, ilist: Any) -> TensorVariable:
    """``x`` with ``y`` added at rows ``ilist`` (repeated indices accumulate)."""
    return inc_subtensor(as_tensor_variable(x)[as_tensor_variable(ilist)], y)


def advanced_set_subtensor1(x: Any, y: Any, ilist: Any) -> TensorVariable:
    """``x`` with rows ``ilist`` set to ``y``."""
    return set_subtensor(as_tensor_variable(x)[as_tensor_variable(ilist)], y)


def advanced_subtensor(x: Any, *args: Any) -> TensorVariable:
    """``x[args]`` with advanced (integer array) indices (Theano's ``advanced_subtensor``)."""
    return as_tensor_variable(x)[tuple(args)]


def advanced_inc_subtensor(x: Any, y: Any, *args: Any) -> TensorVariable:
    """``x`` with ``y`` added at ``x[args]``."""
    return inc_subtensor(as_tensor_variable(x)[tuple(args)], y)


def advanced_set_subtensor(x: Any, y: Any, *args: Any) -> TensorVariable:
    """``x`` with ``x[args]`` set to ``y``."""
    return set_subtensor(as_tensor_variable(x)[tuple(args)], y)


# -- small arithmetic helpers ---------------------------------------------------------------------
def ceil_intdiv(a: Any, b: Any) -> TensorVariable:
    """``ceil(a / b)`` for integers, without floats (Theano's ``ceil_intdiv``)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    return a // b + cast(neq(a % b, 0), upcast(a.dtype, b.dtype))


def divmod(x: Any, y: Any) -> tuple:  # noqa: A001  (Theano's name)
    """``(x // y, x % y)`` (Python's and Theano's ``divmod``)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return x // y, x % y


def round_half_away_from_zero(a: Any) -> TensorVariable:
    """Round to the nearest integer, halves away from zero (C's ``round``; NumPy rounds them
    to even)."""
    a = as_tensor_variable(a)
    return sgn(a) * floor(tabs(a) + 0.5)


def get_vector_length(v: Any) -> int:
    """The static length of the vector ``v``; ``ValueError`` when it is not known."""
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"get_vector_length: {v} must be a vector, got {v.ndim} dimension(s)")
    if v.type.shape[0] is not None:
        return int(v.type.shape[0])
    if isinstance(v, Constant):
        return len(v.data)
    if v.owner is not None and isinstance(v.owner.op, MakeVector):
        return len(v.owner.inputs)
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return v.owner.inputs[0].ndim
    raise ValueError(f"get_vector_length: the length of {v} is not known before run time")


def extract_constant(x: Any, elemwise: bool = True, only_process_constants: bool = False
                     ) -> Any:
    """The value of ``x`` as a constant when it is a constant scalar (through casts and
    dimshuffles), else ``x`` itself (Theano's ``extract_constant``)."""
    try:
        return as_tensor_variable(get_scalar_constant_value(
            x, only_process_constants=only_process_constants))
    except NotScalarConstantError:
        return x


def split(x: Any, splits_size: Any, n_splits: int, axis: int = 0) -> list:
    """``n_splits`` consecutive pieces of ``x`` along ``axis``, of lengths ``splits_size`` (a
    list of ints or an integer vector; Theano's ``split``).  The lengths must add up to the
    axis length (``ValueError`` at run time otherwise)."""
    x = as_tensor_variable(x)
    sizes = as_tensor_variable(splits_size)
    if sizes.ndim != 1 or sizes.dtype not in integer_dtypes:
        raise TypeError(f"split: splits_size {splits_size!r} must be an integer vector")
    if int(n_splits) < 1:
        raise ValueError(f"split: n_splits must be positive, got {n_splits}")
    axis %= x.ndim
    # the lengths must cover the axis exactly: checked at run time (ValueError)
    checked = specify_shape(x, [tsum(sizes, dtype="int64") if d == axis else None
                                for d in range(x.ndim)])
    out = []
    start = as_tensor_variable(np.int64(0))
    for k in range(int(n_splits)):
        stop = start + cast(sizes[k], "int64")
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(start, stop)
        out.append(checked[tuple(idx)])
        start = stop
    return out


def inverse_permutation(perm: Any) -> TensorVariable | TensorConstant:
    """The inverse of the permutation(s) ``perm`` along its last axis (Theano's
    ``inverse_permutation``): ``out[perm[i]] = i``; dtype of ``perm``."""
    perm = as_tensor_variable(perm)
    if perm.dtype not in integer_dtypes:
        raise TypeError(f"inverse_permutation: {perm} must have an integer dtype")
    return cast(argsort(perm, axis=-1), perm.dtype)


def permute_row_elements(x: Any, y: Any, inverse: bool = False) -> TensorVariable:
    """Each row of ``x`` (last axis) permuted by the matching row of the integer ``y``
    (Theano's ``permute_row_elements``): ``out[..., j] = x[..., y[..., j]]``, or with
    ``inverse`` ``out[..., y[..., j]] = x[..., j]``.  ``x`` and ``y`` broadcast."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if y.dtype not in integer_dtypes:
        raise TypeError(f"permute_row_elements: y {y} must have an integer dtype")
    nd = max(x.ndim, y.ndim)
    x = x.dimshuffle(["x"] * (nd - x.ndim) + list(range(x.ndim)))
    y = y.dimshuffle(["x"] * (nd - y.ndim) + list(range(y.ndim)))
    # broadcast both to the common shape
    full = zeros_like(x) + zeros_like(y, dtype=x.dtype)
    x = x + full
    y = y + cast(zeros_like(full), y.dtype)
    idx = axis_grid_index(x, y, nd - 1)
    if inverse:
        return set_subtensor(zeros_like(x)[idx], x)
    return x[idx]


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        fweights: Any = None, aweights: Any = None) -> TensorVariable:
    """Covariance matrix of the variables in ``m`` (rows, or columns with ``rowvar=False``),
    ``numpy.cov`` without weights (``fweights``/``aweights`` raise ``NotImplementedError``)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights/aweights are not supported")
    m = as_tensor_variable(m)
    if m.ndim == 1:
        m = m.dimshuffle("x", 0)
    elif not rowvar:
        m = m.T
    if y is not None:
        y = as_tensor_variable(y)
        y = y.dimshuffle("x", 0) if y.ndim == 1 else (y if rowvar else y.T)
        m = concatenate([m, y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = cast(m.shape[1], m.dtype if m.dtype.startswith("float") else "float64")
    c = m - mean(m, axis=1, keepdims=True)
    # Theano squeezes the broadcastable axes: one variable gives a 0-d variance, as NumPy
    return squeeze(dot(c, c.T) / (n - ddof))


__all__ = [
    "advanced_inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor",
    "advanced_set_subtensor1", "advanced_subtensor", "advanced_subtensor1", "ceil_intdiv",
    "divmod", "extract_constant", "get_vector_length", "round_half_away_from_zero",
    "all_dtypes", "complex_dtypes", "complex_matrix_types", "complex_scalar_types",
    "complex_types", "complex_vector_types", "continuous_dtypes", "cov", "deg2rad",
    "discrete_dtypes", "flatnonzero", "float_dtypes", "float_matrix_types",
    "float_scalar_types", "float_types", "float_vector_types", "int_dtypes", "int_matrix_types",
    "int_scalar_types", "int_types", "int_vector_types", "integer_dtypes",
    "inverse_permutation", "largest", "permute_row_elements", "ptp", "rad2deg", "smallest",
    "split", "swapaxes", "uint_dtypes",
]
