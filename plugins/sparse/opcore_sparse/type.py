"""SparseType (CSR/CSC over scipy.sparse) and the sparse variables users build graphs with."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from opcore.compile.sharedvalue import SharedVariable
from opcore.graph.basic import Constant, Variable
from opcore.graph.type import Type

FORMATS = ("csr", "csc")
DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128")
_MATRIX_CLASS = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}


class SparseType(Type):
    """The type of a 2-d ``scipy.sparse`` matrix in ``format`` ('csr' or 'csc') of ``dtype``.

    Values are kept with sorted indices (a value with unsorted indices is sorted into a copy).

    >>> import scipy.sparse as sp
    >>> t = SparseType('csr', 'float64')
    >>> t.filter(sp.eye(2, format='csr')).format
    'csr'
    """

    ndim = 2

    def __init__(self, format: str, dtype: str) -> None:
        if format not in FORMATS:
            raise TypeError(f"SparseType: format must be one of {FORMATS}, got {format!r}")
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"SparseType: unknown dtype {dtype!r}") from None
        if dtype not in DTYPES:
            raise TypeError(f"SparseType: unsupported dtype {dtype!r}; valid: {', '.join(DTYPES)}")
        self.format = format
        self.dtype = dtype
        # not `numpy_dtype`: the function input filter takes that as "a plain ndarray type"
        self._np_dtype = np.dtype(dtype)

    # -- values ----------------------------------------------------------------------------
    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Return ``data`` as a valid value; TypeError naming what is wrong otherwise."""
        if not sp.issparse(data):
            hint = f" (convert it with scipy.sparse.{self.format}_matrix(x))" if isinstance(
                data, np.ndarray) else ""
            raise TypeError(f"{self}: expected a scipy.sparse {self.format} matrix, got "
                            f"{type(data).__module__}.{type(data).__name__}{hint}")
        if len(data.shape) != 2:
            raise TypeError(f"{self}: expected a 2-d sparse matrix, got {len(data.shape)}-d "
                            f"with shape {data.shape}")
        if data.format != self.format:
            raise TypeError(f"{self}: expected a {self.format} matrix, got a {data.format} "
                            f"matrix; convert it with .to{self.format}() or use a "
                            f"{data.format}_matrix variable")
        if data.dtype != self._np_dtype:
            if strict:
                raise TypeError(f"{self}: expected dtype {self.dtype}, got {data.dtype}")
            if not (allow_downcast or np.can_cast(data.dtype, self._np_dtype, "safe")):
                raise TypeError(f"{self}: cannot safely cast a sparse matrix of dtype {data.dtype} "
                                f"to {self.dtype}; cast it (x.astype('{self.dtype}')) or pass "
                                "allow_input_downcast=True")
            data = data.astype(self.dtype)
        if not isinstance(data, _MATRIX_CLASS[self.format]):
            data = _MATRIX_CLASS[self.format](data)  # sparse arrays -> the matrix class
        if not data.has_sorted_indices:
            data = data.sorted_indices()
        return data

    def is_valid_value(self, data: Any) -> bool:
        return (sp.issparse(data) and data.format == self.format
                and data.dtype == self._np_dtype and len(data.shape) == 2)

    def values_eq(self, a, b) -> bool:
        return (sp.issparse(a) and sp.issparse(b) and a.shape == b.shape
                and (a != b).nnz == 0)

    def values_eq_approx(self, a, b, rtol: float | None = None, atol: float | None = None) -> bool:
        """Same shape and elementwise close (a sparse value may be compared with a dense one)."""
        if a.shape != b.shape:
            return False
        da = a.toarray() if sp.issparse(a) else np.asarray(a)
        db = b.toarray() if sp.issparse(b) else np.asarray(b)
        tol = 1e-4 if self._np_dtype.itemsize <= 4 else 1e-7
        return bool(np.allclose(da, db, rtol=rtol or tol, atol=atol or tol, equal_nan=True))

    def zeros_like(self, var):
        from opcore_sparse.basic import sp_zeros_like

        return sp_zeros_like(var)

    # -- identity --------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        return (type(other) is SparseType and other.format == self.format
                and other.dtype == self.dtype)

    def __hash__(self) -> int:
        return hash((SparseType, self.format, self.dtype))

    def __str__(self) -> str:
        return f"Sparse[{self.dtype}, {self.format}]"

    __repr__ = __str__

    def __reduce__(self):
        return (SparseType, (self.format, self.dtype))

    def clone(self, format: str | None = None, dtype: str | None = None, **kwargs):
        return SparseType(format or self.format, dtype or self.dtype)

    def make_variable(self, name: str | None = None) -> "SparseVariable":
        return SparseVariable(self, None, None, name)

    def make_constant(self, value, name: str | None = None) -> "SparseConstant":
        return SparseConstant(self, self.filter(value), name)


def _api():
    from opcore_sparse import api

    return api


class _SparseMethods:
    """Operators shared by sparse variables, constants and shared variables."""

    __slots__ = ()

    @property
    def format(self) -> str:
        return self.type.format

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return 2

    @property
    def shape(self):
        return _api().sp_shape(self)

    @property
    def T(self):
        return _api().transpose(self)

    def transpose(self):
        return _api().transpose(self)

    def __add__(self, other): return _api().add(self, other)
    def __radd__(self, other): return _api().add(other, self)
    def __sub__(self, other): return _api().sub(self, other)
    def __rsub__(self, other): return _api().sub(other, self)
    def __mul__(self, other): return _api().mul(self, other)
    def __rmul__(self, other): return _api().mul(other, self)
    def __neg__(self): return _api().neg(self)
    def __matmul__(self, other): return _api().dot(self, other)
    def __rmatmul__(self, other): return _api().dot(other, self)

    def dot(self, other):
        return _api().dot(self, other)

    def toarray(self):
        return _api().dense_from_sparse(self)

    def sum(self, axis=None, sparse_grad=False):
        return _api().sp_sum(self, axis, sparse_grad)

    def __bool__(self):
        raise TypeError(f"symbolic sparse variable {self} has no truth value")


class SparseVariable(_SparseMethods, Variable):
    """A symbolic sparse matrix: ``+``, ``-``, ``*`` (elementwise), ``@``/``dot``, ``.T``."""

    __slots__ = ()


class SparseConstant(_SparseMethods, Constant):
    """A sparse matrix fixed in the graph."""

    __slots__ = ()

    def signature(self):
        d = self.data
        return (self.type, d.shape, d.data.tobytes(), d.indices.tobytes(), d.indptr.tobytes())


class SparseSharedVariable(_SparseMethods, SharedVariable):
    """A shared sparse matrix (``opcore.shared(scipy.sparse.csr_matrix(...))``)."""

    __slots__ = ()
    __hash__ = SharedVariable.__hash__

    def __eq__(self, other):
        return self is other


def sparse_shared_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                              format=None, **kwargs):
    """The ``shared`` constructor for scipy.sparse CSR/CSC values (others raise TypeError)."""
    if not sp.issparse(value) or kwargs:
        raise TypeError("not a sparse matrix")
    if value.format not in FORMATS:
        raise TypeError(f"shared: sparse format {value.format!r} is not supported; use .tocsr() "
                        "or .tocsc()")
    t = SparseType(format or value.format, value.dtype.name)
    return SparseSharedVariable(t, value, name=name, strict=strict,
                                allow_downcast=allow_downcast, borrow=borrow)


def as_sparse_variable(x: Any, name: str | None = None) -> Variable:
    """``x`` as a sparse variable: sparse variables pass through, scipy matrices become constants.

    >>> import scipy.sparse as sp
    >>> as_sparse_variable(sp.eye(3, format='csc')).type
    Sparse[float64, csc]
    """
    if isinstance(x, Variable):
        if isinstance(x.type, SparseType):
            return x
        raise TypeError(f"as_sparse_variable: {x} has type {x.type}, not a sparse type; use "
                        "csr_from_dense/csc_from_dense to convert a dense tensor")
    if sp.issparse(x):
        if x.format not in FORMATS:
            x = x.tocsr()
        return SparseType(x.format, x.dtype.name).make_constant(x, name)
    raise TypeError(f"as_sparse_variable: cannot make a sparse variable from "
                    f"{type(x).__name__}; give a scipy.sparse matrix or a sparse variable")


def is_sparse(x: Any) -> bool:
    """True for a symbolic variable of a :class:`SparseType`."""
    return isinstance(x, Variable) and isinstance(x.type, SparseType)


def matrix(format: str, name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A symbolic sparse matrix (dtype defaults to ``config.floatX``)."""
    if dtype is None:
        from opcore.config import config

        dtype = config.floatX
    return SparseType(format, dtype)(name)


def csr_matrix(name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A symbolic CSR matrix: ``x = sparse.csr_matrix('x', dtype='float64')``."""
    return matrix("csr", name, dtype)


def csc_matrix(name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A symbolic CSC matrix: ``x = sparse.csc_matrix('x', dtype='float64')``."""
    return matrix("csc", name, dtype)
