"""Tensors: types, constructors and operations, named as in Theano (``import opcore.tensor as T``).

>>> import opcore, opcore.tensor as T
>>> x = T.dscalar('x')
>>> x.type is T.dscalar
True
>>> opcore.function([x], x ** 2)(3.0)
array(9.)
"""

from __future__ import annotations

from typing import Any, Sequence

import importlib

from opcore.config import config  # noqa: F401
from opcore.plugins import get_host as _get_host
# Theano's module theano.tensor.var is imported before the functions, as Theano's __init__ does:
# importing a submodule binds its name on the package, and the T.var function must win.
from opcore.tensor import var as _var_module  # noqa: F401,E402
from opcore.tensor.basic import *  # noqa: F401,F403
from opcore.tensor.basic import (Alloc, ARange, Cast, MakeVector, Shape, Shape_i,  # noqa: F401
                                 SpecifyShape, as_tensor_variable, cast, constant)
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise  # noqa: F401
from opcore.tensor.math import *  # noqa: F401,F403
from opcore.tensor.math import abs, all, any, max, min, pow, round, sum  # noqa: F401
from opcore.tensor.shape import *  # noqa: F401,F403
from opcore.tensor.subtensor import *  # noqa: F401,F403
from opcore.tensor.type import SHORTCUTS as _SHORTCUTS
from opcore.tensor.type import TensorType  # noqa: F401
from opcore.tensor.variable import TensorConstant, TensorVariable  # noqa: F401

# -- op families: sorting here; extra_ops, construction, special functions... on first use -----
# (sort stays eager: its function T.sort shares the submodule's name, and a later import of the
# submodule would rebind the package attribute to the module)
from opcore.tensor.sort import *  # noqa: F401,F403,E402

# T.squeeze is extra_ops' (a listed axis not known to be 1 is checked at run time), not the
# shape module's plain DimShuffle: drop the star-imported one so the lazy name resolves
globals().pop("squeeze")
from opcore.tensor.hints import DTypeLike, ShapeLike
#: Theano's T.grad, T.jacobian...: names of the layers above tensor, loaded on first use
_FROM_ABOVE = {"grad": "opcore.gradient", "Rop": "opcore.gradient", "Lop": "opcore.gradient",
               "verify_grad": "opcore.gradient", "numeric_grad": "opcore.gradient",
               "jacobian": "opcore.scan.jacobian", "hessian": "opcore.scan.jacobian"}
_LAZY_MODULES = ("nlinalg", "slinalg", "fft")  # T.nlinalg, ...: imported on first access
#: op families loaded at the first use of one of their names (module -> the names the package
#: exports from it; tests/tensor/test_lazy_names.py checks them against each module's __all__)
_FAMILIES = {
    "construct": ("AllocDiag", "Eye", "ExtractDiag", "SpecifyShapeDynamic", "Tri", "TriangularPart",
        "alloc_diag", "diag", "diagonal", "extract_diag", "eye", "identity_like", "mgrid", "ogrid",
        "patternbroadcast", "roll", "specify_shape", "stacklists", "tile", "tri", "tril", "triu"),
    "special": ("Chi2SF", "Choose", "abs_", "chi2sf", "choose", "logsumexp"),
    "basic_extras": ("advanced_inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor",
        "advanced_set_subtensor1", "advanced_subtensor", "advanced_subtensor1", "ceil_intdiv",
        "divmod", "extract_constant", "get_vector_length", "round_half_away_from_zero",
        "all_dtypes", "complex_dtypes", "complex_matrix_types", "complex_scalar_types",
        "complex_types", "complex_vector_types", "continuous_dtypes", "cov", "deg2rad",
        "discrete_dtypes", "flatnonzero", "float_dtypes", "float_matrix_types",
        "float_scalar_types", "float_types", "float_vector_types", "int_dtypes",
        "int_matrix_types", "int_scalar_types", "int_types", "int_vector_types", "integer_dtypes",
        "inverse_permutation", "largest", "permute_row_elements", "ptp", "rad2deg", "smallest",
        "split", "swapaxes", "uint_dtypes"),
    "extra_ops": ("bartlett", "bincount", "cumprod", "cumsum", "diff", "fill_diagonal",
        "fill_diagonal_offset", "ravel_multi_index", "repeat", "squeeze", "to_one_hot", "unique",
        "unravel_index"),
    "gradient_ops": ("consider_constant",),
    "xlogx": ("xlogy0",),
}
_FAMILY_OF = {name: module for module, names in _FAMILIES.items() for name in names}

globals().update(_SHORTCUTS)


def _ctor(ndim_shape, kind):
    def make(name=None, dtype=None, shape=None):
        dt = dtype or config.floatX
        if shape is not None:
            return TensorType(dt, shape=shape)(name)
        return TensorType(dt, ndim_shape)(name)

    make.__name__ = kind
    make.__doc__ = f"A symbolic {kind} (dtype defaults to config.floatX)."
    return make


scalar = _ctor((), "scalar")
vector = _ctor((False,), "vector")
row = _ctor((True, False), "row")
col = _ctor((False, True), "col")
matrix = _ctor((False, False), "matrix")
tensor3 = _ctor((False,) * 3, "tensor3")
tensor4 = _ctor((False,) * 4, "tensor4")
tensor5 = _ctor((False,) * 5, "tensor5")
tensor6 = _ctor((False,) * 6, "tensor6")
tensor7 = _ctor((False,) * 7, "tensor7")


def tensor(dtype: str | None = None, broadcastable: Sequence[bool] | None = None,
           name: str | None = None, shape: Sequence[int | None] | None = None) -> TensorVariable:
    """``T.tensor(dtype, broadcastable)`` or ``T.tensor(dtype=..., shape=...)``."""
    if isinstance(dtype, str) and broadcastable is None and shape is None:
        raise TypeError("tensor() needs broadcastable= or shape=")
    return TensorType(dtype or config.floatX, broadcastable, shape)(name)


def _plural_names(names):
    """Theano's plural forms: ``('abc')`` (one variable per character, as Theano does),
    ``('a', 'b')``, ``(3,)`` (three unnamed) and, beyond Theano, ``('a, b')``."""
    if len(names) == 1 and isinstance(names[0], int):
        return [None] * names[0]
    if len(names) == 1 and isinstance(names[0], str):
        if "," in names[0]:
            return [n.strip() for n in names[0].split(",")]
        return list(names[0])
    if len(names) == 1 and isinstance(names[0], (list, tuple)):
        return list(names[0])
    return list(names)


def _plural(make, names):
    """One variable per name; Theano returns the variable itself for a one-letter name."""
    ns = _plural_names(names)
    if len(names) == 1 and isinstance(names[0], str) and len(names[0]) == 1:
        return make(ns[0])
    return [make(n) for n in ns]


def scalars(*names: str | int | Sequence[str],
            dtype: str | None = None) -> TensorVariable | list[TensorVariable]:
    return _plural(lambda n: scalar(n, dtype), names)


def vectors(*names: str | int | Sequence[str],
            dtype: str | None = None) -> TensorVariable | list[TensorVariable]:
    return _plural(lambda n: vector(n, dtype), names)


def matrices(*names: str | int | Sequence[str],
             dtype: str | None = None) -> TensorVariable | list[TensorVariable]:
    return _plural(lambda n: matrix(n, dtype), names)


def _shortcut_plural(suffix):
    def make(*names):
        return _plural(_SHORTCUTS[suffix], names)

    return make


for _p in "bwilfdcz":
    globals()[_p + "scalars"] = _shortcut_plural(_p + "scalar")
    globals()[_p + "vectors"] = _shortcut_plural(_p + "vector")
    globals()[_p + "matrices"] = _shortcut_plural(_p + "matrix")


#: submodules reachable as attributes before they are imported, as in Theano (T.xlogx is a
#: callable module, as Theano's)
_SUBMODULES = ("opt", "inplace", "utils", "shared_randomstreams", "random", "sharedvar",
               "extra_ops", "construct", "special", "basic_extras", "gradient_ops", "xlogx",
               "index_ops")


def __getattr__(name: str) -> Any:
    module = _FAMILY_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module("opcore.tensor." + module), name)
        globals()[name] = value
        return value
    if name in _FROM_ABOVE:
        value = getattr(importlib.import_module(_FROM_ABOVE[name]), name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(f"opcore.tensor.{name}")
    # opcore.tensor.nnet and opcore.tensor.signal are contributed by a plugin (opcore-nnet),
    # found on first access.
    if name in ("nnet", "signal"):
        return _get_host().namespaces.resolve("opcore.tensor." + name)
    if name in _SUBMODULES:  # Theano's T.opt, T.shared_randomstreams... without an import
        return importlib.import_module("opcore.tensor." + name)
    raise AttributeError(f"module 'opcore.tensor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FAMILY_OF) | set(_FROM_ABOVE) | set(_SUBMODULES))


#: ``from opcore.tensor import *``: every public name, the lazy families' included (the star
#: import loads them), and the family submodules an eager import used to bind
__all__ = sorted({n for n in globals() if not n.startswith("_")} | set(_FAMILY_OF)
                 | {"extra_ops", "construct", "special", "basic_extras", "gradient_ops", "xlogx",
                    "index_ops", "random", "sharedvar"})
