"""Sparse ops: construction and inspection, conversions, transpose, add/mul, sums, structured ops.

Every op's ``perform`` works on ``scipy.sparse`` values and returns CSR/CSC matrices with sorted
indices.  "Structured" means the op only touches the stored entries (the sparsity pattern is kept)
and its gradient with respect to a sparse input lives on that same pattern.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

import opcore.tensor as T
from opcore.graph.basic import Apply, Variable
from opcore.graph.null import disconnected_type
from opcore.graph.op import Op
from opcore_sparse.type import _MATRIX_CLASS, SparseType, as_sparse_variable, is_sparse

_OTHER = {"csr": "csc", "csc": "csr"}
_INT32_MAX = np.iinfo(np.int32).max


class SparseOp(Op):
    """Base of the sparse ops: equal when of the same class with equal ``__props__`` (also for
    ops without props, so copies and unpickled ops are interchangeable)."""

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        return hash((type(self), self._props()))


# -- helpers ----------------------------------------------------------------------------------
def canonical(m: Any, format: str, dtype: Any) -> Any:
    """``m`` as a ``format`` matrix of ``dtype`` with sorted indices (copied when changed)."""
    if not sp.issparse(m):
        m = sp.csr_matrix(np.asarray(m))
    if m.format != format:
        m = m.asformat(format)
    if not isinstance(m, _MATRIX_CLASS[format]):
        m = _MATRIX_CLASS[format](m)
    if m.dtype != dtype:
        m = m.astype(dtype)
    if not m.has_sorted_indices:
        m = m.sorted_indices()
    return m


def major_index(m: Any) -> np.ndarray:
    """For each stored entry, its row (CSR) or column (CSC): the index ``indptr`` compresses."""
    return np.repeat(np.arange(len(m.indptr) - 1, dtype=m.indices.dtype), np.diff(m.indptr))


def rows_cols(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every stored entry, in storage order."""
    major = major_index(m)
    return (major, m.indices) if m.format == "csr" else (m.indices, major)


def with_data(m: Any, data: np.ndarray) -> Any:
    """A matrix with ``m``'s pattern (arrays copied) and new stored values ``data``."""
    return _MATRIX_CLASS[m.format]((data, m.indices.copy(), m.indptr.copy()), shape=m.shape)


def as_dense(x: Any, name: str = "input") -> Variable:
    try:
        return T.as_tensor_variable(x)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None


def check_dtypes(op: Any, *vars: Variable) -> str:
    dtypes = {v.type.dtype for v in vars}
    if len(dtypes) != 1:
        described = ", ".join(f"{v} ({v.type})" for v in vars)
        raise TypeError(f"{op}: inputs have different dtypes ({described}); cast them to one "
                        "dtype first (sparse ops do not upcast implicitly)")
    return dtypes.pop()


def check_shapes(op: Any, a_shape: tuple, b_shape: tuple) -> None:
    if tuple(a_shape) != tuple(b_shape):
        raise ValueError(f"{op}: shape mismatch: {tuple(a_shape)} vs {tuple(b_shape)}")


def _scalar_like(value: Any, like: Variable) -> Variable:
    """Python numbers become constants of ``like``'s dtype (so ``x * 2`` keeps float32)."""
    if isinstance(value, Variable):
        return as_dense(value)
    if isinstance(value, (int, float, np.number)) and np.ndim(value) == 0:
        return T.constant(np.asarray(value, dtype=like.type.dtype))
    return as_dense(value)


def dense_matrix_type(dtype: str) -> T.TensorType:
    return T.TensorType(dtype, shape=(None, None))


# -- construction and inspection --------------------------------------------------------------
class CSM(SparseOp):
    """Build a CSR/CSC matrix from ``(data, indices, indptr, shape)``.

    The gradient with respect to ``data`` is the output gradient read at the stored positions.
    """

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in _OTHER:
            raise ValueError(f"CSM: format must be 'csr' or 'csc', got {format!r}")
        self.format = format

    def make_node(self, data, indices, indptr, shape):
        data = as_dense(data, "CSM data")
        indices, indptr, shape = (as_dense(v, f"CSM {n}") for v, n in
                                  ((indices, "indices"), (indptr, "indptr"), (shape, "shape")))
        if data.ndim != 1:
            raise TypeError(f"CSM: data must be a vector, got {data.type}")
        for v, n in ((indices, "indices"), (indptr, "indptr"), (shape, "shape")):
            if v.ndim != 1 or not v.dtype.startswith(("int", "uint")):
                raise TypeError(f"CSM: {n} must be an integer vector, got {v.type}")
        return Apply(self, [data, indices, indptr, shape], [SparseType(self.format, data.dtype)()])

    def perform(self, node, inputs, outputs):
        data, indices, indptr, shape = inputs
        if len(shape) != 2:
            raise ValueError(f"{self}: shape must have 2 entries, got {list(shape)}")
        n_major = int(shape[0] if self.format == "csr" else shape[1])
        if len(indptr) != n_major + 1:
            raise ValueError(f"{self}: indptr has {len(indptr)} entries, expected {n_major + 1} "
                             f"for shape {tuple(int(s) for s in shape)}")
        if len(indices) != len(data):
            raise ValueError(f"{self}: {len(data)} values but {len(indices)} indices")
        m = _MATRIX_CLASS[self.format]((data.copy(), indices.copy(), indptr.copy()),
                                       shape=(int(shape[0]), int(shape[1])))
        try:
            m.check_format(full_check=True)
        except ValueError as exc:
            raise ValueError(f"{self}: invalid sparse structure: {exc}") from None
        if not m.has_sorted_indices:
            m.sort_indices()  # our own copy
        outputs[0][0] = m

    def grad(self, inputs, output_grads):
        data, indices, indptr, shape = inputs
        g_data = DataAtPattern(self.format)(output_grads[0], indices, indptr, shape)
        return [g_data, disconnected_type(), disconnected_type(), disconnected_type()]

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]

    def infer_shape(self, node, shapes):
        return [(node.inputs[3][0], node.inputs[3][1])]


class DataAtPattern(SparseOp):
    """The values of ``g`` (sparse or dense) at the stored positions ``(indices, indptr)``."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        self.format = format

    def make_node(self, g, indices, indptr, shape):
        g = g if is_sparse(g) else as_dense(g, "DataAtPattern g")
        ins = [g] + [as_dense(v) for v in (indices, indptr, shape)]
        return Apply(self, ins, [T.TensorType(g.type.dtype, shape=(None,))()])

    def perform(self, node, inputs, outputs):
        g, indices, indptr, shape = inputs
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        rows, cols = (major, indices) if self.format == "csr" else (indices, major)
        check_shapes(self, g.shape, tuple(int(s) for s in shape))
        if sp.issparse(g):
            vals = np.asarray(g.tocsr()[rows, cols]).ravel()
        else:
            vals = g[rows, cols]
        outputs[0][0] = np.asarray(vals, dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, output_grads):
        g, indices, indptr, shape = inputs
        back = CSM(self.format)(output_grads[0], indices, indptr, shape)
        if not is_sparse(g):
            back = DenseFromSparse()(back)
        return [back] + [disconnected_type()] * 3

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]

    def infer_shape(self, node, shapes):
        return [(shapes[1][0],)]


class CSMProperties(SparseOp):
    """``(data, indices, indptr, shape)`` of a sparse matrix; the gradient rebuilds a matrix."""

    __props__ = ()
    view_map = {0: [0], 1: [0], 2: [0]}

    def make_node(self, x):
        x = as_sparse_variable(x)
        outs = [T.TensorType(x.type.dtype, shape=(None,))(), T.ivector(), T.ivector(),
                T.lvector()]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        if x.indptr[-1] > _INT32_MAX or max(x.shape) > _INT32_MAX:
            raise ValueError(f"{self}: a matrix of shape {x.shape} with {x.indptr[-1]} stored "
                             "entries does not fit the int32 indices this op returns")
        outputs[0][0] = x.data
        outputs[1][0] = np.asarray(x.indices, dtype="int32")
        outputs[2][0] = np.asarray(x.indptr, dtype="int32")
        outputs[3][0] = np.asarray(x.shape, dtype="int64")

    def grad(self, inputs, output_grads):
        (x,) = inputs
        _, indices, indptr, shape = self(x)
        g = output_grads[0]
        return [CSM(x.type.format)(g, indices, indptr, shape)]

    def connection_pattern(self, node):
        return [[True, False, False, False]]

    def infer_shape(self, node, shapes):
        x = node.inputs[0]
        n_major = shapes[0][0] if x.type.format == "csr" else shapes[0][1]
        nnz = node.outputs[1].shape[0]
        return [(nnz,), (nnz,), (n_major + 1,), (2,)]


csm_properties = CSMProperties()


def csm_data(x):
    return csm_properties(x)[0]


def csm_indices(x):
    return csm_properties(x)[1]


def csm_indptr(x):
    return csm_properties(x)[2]


def csm_shape(x):
    return csm_properties(x)[3]


CSR = CSM("csr")
CSC = CSM("csc")


class SparseShape(SparseOp):
    """The shape ``[rows, cols]`` of a sparse matrix as an int64 vector."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [as_sparse_variable(x)], [T.lvector()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def grad(self, inputs, output_grads):
        return [disconnected_type()]

    def connection_pattern(self, node):
        return [[False]]

    def infer_shape(self, node, shapes):
        return [(2,)]


sp_shape = SparseShape()


# -- conversions ------------------------------------------------------------------------------
class DenseFromSparse(SparseOp):
    """Sparse -> dense ndarray.  With ``sparse_grad`` (the default, as in Theano) the gradient
    is structured: the dense output gradient read on the input's pattern."""

    __props__ = ("sparse_grad",)

    def __init__(self, sparse_grad: bool = True) -> None:
        self.sparse_grad = sparse_grad

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [dense_matrix_type(x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0].toarray()

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if self.sparse_grad:
            return [mul(sp_ones_like(x), gz)]
        return [SparseFromDense(x.type.format)(gz)]

    def infer_shape(self, node, shapes):
        return [shapes[0]]


class SparseFromDense(SparseOp):
    """Dense matrix -> CSR/CSC (zeros are not stored)."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in _OTHER:
            raise ValueError(f"SparseFromDense: format must be 'csr' or 'csc', got {format!r}")
        self.format = format

    def make_node(self, x):
        x = as_dense(x, str(self))
        if x.ndim != 2:
            raise TypeError(f"{self}: expected a matrix, got {x.type} with {x.ndim} dimension(s)")
        return Apply(self, [x], [SparseType(self.format, x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = _MATRIX_CLASS[self.format](inputs[0])

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [DenseFromSparse()(gz) if is_sparse(gz) else gz]

    def infer_shape(self, node, shapes):
        return [shapes[0]]


dense_from_sparse = DenseFromSparse()
csr_from_dense = SparseFromDense("csr")
csc_from_dense = SparseFromDense("csc")


class Transpose(SparseOp):
    """Transpose: a CSR matrix becomes a CSC matrix with the same arrays, and back."""

    __props__ = ()
    view_map = {0: [0]}  # the result shares the input's arrays

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [SparseType(_OTHER[x.type.format], x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = canonical(inputs[0].transpose(), node.outputs[0].type.format,
                                  node.outputs[0].type.dtype)

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [transpose(gz) if is_sparse(gz) else gz.T]

    def infer_shape(self, node, shapes):
        return [shapes[0][::-1]]


transpose = Transpose()


# -- elementwise ------------------------------------------------------------------------------
class Add(SparseOp):
    """``x + y``: sparse + sparse -> sparse (same format); sparse + dense -> dense."""

    __props__ = ()

    def make_node(self, x, y):
        x = as_sparse_variable(x)
        y = y if is_sparse(y) else as_dense(y, str(self))
        check_dtypes(self, x, y)
        if is_sparse(y):
            if y.type.format != x.type.format:
                raise TypeError(f"{self}: format mismatch: {x} is {x.type.format}, {y} is "
                                f"{y.type.format}; convert one (e.g. transpose twice or "
                                "csr_from_dense) so both have the same format")
            out = SparseType(x.type.format, x.type.dtype)()
        else:
            if y.ndim != 2:
                raise TypeError(f"{self}: the dense operand must be a matrix, got {y.type}")
            out = dense_matrix_type(x.type.dtype)()
        return Apply(self, [x, y], [out])

    def perform(self, node, inputs, outputs):
        x, y = inputs
        check_shapes(self, x.shape, y.shape)
        out_t = node.outputs[0].type
        if sp.issparse(y):
            outputs[0][0] = canonical(x + y, out_t.format, out_t.dtype)
        else:
            outputs[0][0] = np.asarray(x + y, dtype=out_t.dtype)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if is_sparse(y):
            return [gz, gz]
        return [mul(sp_ones_like(x), gz), dense_from_sparse(gz) if is_sparse(gz) else gz]

    def infer_shape(self, node, shapes):
        return [shapes[0]]


_add = Add()


def add(x, y):
    """Elementwise sum; at least one operand must be sparse (sparse+dense gives a dense result)."""
    if not is_sparse(x):
        x, y = y, x
    if not is_sparse(x) and sp.issparse(x):
        x = as_sparse_variable(x)
    if not is_sparse(x):
        raise TypeError("sparse.add: neither operand is sparse; use opcore.tensor.add")
    if not is_sparse(y) and sp.issparse(y):
        y = as_sparse_variable(y)
    if not is_sparse(y):
        y = _scalar_like(y, x)
    return _add(x, y)


def neg(x):
    """``-x`` for a sparse matrix (structured)."""
    return StructuredUnary("neg")(x)


def sub(x, y):
    """``x - y`` with at least one sparse operand."""
    if is_sparse(y) or sp.issparse(y):
        return add(x, neg(as_sparse_variable(y)))
    return add(x, -_scalar_like(y, as_sparse_variable(x)))


class Mul(SparseOp):
    """Elementwise ``x * y`` with sparse ``x``: sparse y -> sparse product (same format); dense
    y (a matrix of the same shape or a scalar) -> sparse result on ``x``'s pattern."""

    __props__ = ()

    def make_node(self, x, y):
        x = as_sparse_variable(x)
        y = y if is_sparse(y) else as_dense(y, str(self))
        check_dtypes(self, x, y)
        if is_sparse(y) and y.type.format != x.type.format:
            raise TypeError(f"{self}: format mismatch: {x} is {x.type.format}, {y} is "
                            f"{y.type.format}; give both operands the same format")
        if not is_sparse(y) and y.ndim not in (0, 2):
            raise TypeError(f"{self}: the dense operand must be a scalar or a matrix, got {y.type}")
        return Apply(self, [x, y], [SparseType(x.type.format, x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        x, y = inputs
        out_t = node.outputs[0].type
        if sp.issparse(y):
            check_shapes(self, x.shape, y.shape)
            outputs[0][0] = canonical(x.multiply(y), out_t.format, out_t.dtype)
        elif np.ndim(y) == 0:
            outputs[0][0] = with_data(x, (x.data * y).astype(out_t.dtype, copy=False))
        else:
            check_shapes(self, x.shape, y.shape)
            rows, cols = rows_cols(x)
            outputs[0][0] = with_data(x, (x.data * y[rows, cols]).astype(out_t.dtype, copy=False))

    def grad(self, inputs, output_grads):
        x, y = inputs
        gz = as_sparse_grad(output_grads[0], x)
        if is_sparse(y):
            return [mul(gz, y), mul(gz, x)]
        if y.ndim == 0:
            return [mul(gz, y), sp_sum(mul(gz, x))]
        return [mul(gz, y), dense_from_sparse(mul(gz, x))]

    def infer_shape(self, node, shapes):
        return [shapes[0]]


_mul = Mul()


def mul(x, y):
    """Elementwise product with at least one sparse operand; the result is sparse."""
    if not (is_sparse(x) or sp.issparse(x)):
        x, y = y, x
    x = as_sparse_variable(x)
    if not is_sparse(y) and sp.issparse(y):
        y = as_sparse_variable(y)
    if not is_sparse(y):
        y = _scalar_like(y, x)
    return _mul(x, y)


def as_sparse_grad(gz: Variable, like: Variable) -> Variable:
    """An output gradient as a sparse variable on ``like``'s pattern (dense ones are sampled)."""
    if is_sparse(gz):
        return gz
    return _mul(sp_ones_like(like), as_dense(gz))


class SpSum(SparseOp):
    """Sum of a sparse matrix over ``axis`` (None, 0 or 1), a dense result.

    ``sparse_grad=True`` gives a structured (sparse) gradient on the input's pattern; the
    default is the dense gradient of the sum.
    """

    __props__ = ("axis", "sparse_grad")

    def __init__(self, axis: int | None = None, sparse_grad: bool = False) -> None:
        if axis not in (None, 0, 1):
            raise ValueError(f"sp_sum: axis must be None, 0 or 1, got {axis!r}")
        self.axis = axis
        self.sparse_grad = bool(sparse_grad)

    def make_node(self, x):
        x = as_sparse_variable(x)
        ndim = 0 if self.axis is None else 1
        return Apply(self, [x], [T.TensorType(x.type.dtype, shape=(None,) * ndim)()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        dtype = node.outputs[0].type.dtype
        if self.axis is None:
            outputs[0][0] = np.asarray(x.data.sum(), dtype=dtype)
        else:
            outputs[0][0] = np.asarray(x.sum(axis=self.axis), dtype=dtype).ravel()

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if self.sparse_grad:
            ones = sp_ones_like(x)
            if self.axis is None:
                return [mul(ones, gz)]
            return [col_scale(ones, gz) if self.axis == 0 else row_scale(ones, gz)]
        shape = sp_shape(x)
        if self.axis == 0:
            gz = gz.dimshuffle("x", 0)
        elif self.axis == 1:
            gz = gz.dimshuffle(0, "x")
        return [T.alloc(gz, shape[0], shape[1])]

    def infer_shape(self, node, shapes):
        if self.axis is None:
            return [()]
        return [(shapes[0][1 - self.axis],)]


def sp_sum(x, axis: int | None = None, sparse_grad: bool = False):
    """Sum over all entries (``axis=None``), columns (``axis=0``) or rows (``axis=1``)."""
    return SpSum(axis, sparse_grad)(x)


# -- structured elementwise -------------------------------------------------------------------
_UNARY = {
    "sigmoid": (lambda d, s: 1.0 / (1.0 + np.exp(-d)), False),
    "exp": (lambda d, s: np.exp(d), False),
    "log": (lambda d, s: np.log(d), False),
    "neg": (lambda d, s: -d, False),
    "ones": (lambda d, s: np.ones_like(d), False),
    "zeros": (lambda d, s: np.zeros_like(d), False),
    "pow": (lambda d, s: d ** s, True),
    "minimum": (lambda d, s: np.minimum(d, s), True),
    "maximum": (lambda d, s: np.maximum(d, s), True),
    "add": (lambda d, s: d + s, True),
}


class StructuredUnary(SparseOp):
    """Apply ``fn`` to the stored values only (the pattern is kept), with an optional scalar
    second operand (``pow``, ``minimum``, ``maximum``, ``add``)."""

    __props__ = ("fn",)

    def __init__(self, fn: str) -> None:
        if fn not in _UNARY:
            raise ValueError(f"StructuredUnary: unknown function {fn!r}; known: {sorted(_UNARY)}")
        self.fn = fn

    def make_node(self, x, s=None):
        x = as_sparse_variable(x)
        takes_scalar = _UNARY[self.fn][1]
        if takes_scalar != (s is not None):
            raise TypeError(f"{self}: {'needs' if takes_scalar else 'takes no'} scalar operand")
        if self.fn in ("sigmoid", "exp", "log") and not x.type.dtype.startswith("float"):
            raise TypeError(f"{self}: needs a float sparse matrix, got {x.type}")
        ins = [x]
        if takes_scalar:
            s = _scalar_like(s, x)
            if s.ndim != 0:
                raise TypeError(f"{self}: the second operand must be a scalar, got {s.type}")
            check_dtypes(self, x, s)
            ins.append(s)
        return Apply(self, ins, [SparseType(x.type.format, x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        x = inputs[0]
        s = inputs[1] if len(inputs) > 1 else None
        data = np.asarray(_UNARY[self.fn][0](x.data, s), dtype=x.dtype)
        outputs[0][0] = with_data(x, data)

    def grad(self, inputs, output_grads):
        x = inputs[0]
        if self.fn in ("ones", "zeros"):
            return [disconnected_type()]
        data, indices, indptr, shape = csm_properties(x)
        g = DataAtPattern(x.type.format)(output_grads[0], indices, indptr, shape)
        s = inputs[1] if len(inputs) > 1 else None
        fn = self.fn
        if fn == "sigmoid":
            sig = 1.0 / (1.0 + T.exp(-data))
            dx, ds = sig * (1 - sig), None
        elif fn == "exp":
            dx, ds = T.exp(data), None
        elif fn == "log":
            dx, ds = 1.0 / data, None
        elif fn == "neg":
            dx, ds = -T.ones_like(data), None
        elif fn == "pow":
            dx, ds = s * data ** (s - 1), data ** s * T.log(data)
        elif fn == "minimum":
            dx = T.cast(T.lt(data, s), x.type.dtype)
            ds = 1 - dx
        elif fn == "maximum":
            dx = T.cast(T.gt(data, s), x.type.dtype)
            ds = 1 - dx
        else:  # add
            dx, ds = T.ones_like(data), T.ones_like(data)
        gx = CSM(x.type.format)(T.cast(g * dx, x.type.dtype), indices, indptr, shape)
        if s is None:
            return [gx]
        return [gx, T.cast(T.sum(g * ds), s.type.dtype)]

    def connection_pattern(self, node):
        if self.fn in ("ones", "zeros"):
            return [[False]]
        return [[True]] * len(node.inputs)

    def infer_shape(self, node, shapes):
        return [shapes[0]]


def structured_sigmoid(x):
    """Logistic sigmoid of the stored values."""
    return StructuredUnary("sigmoid")(x)


def structured_exp(x):
    """``exp`` of the stored values (implicit zeros stay zero, unlike a dense ``exp``)."""
    return StructuredUnary("exp")(x)


def structured_log(x):
    """``log`` of the stored values."""
    return StructuredUnary("log")(x)


def structured_pow(x, y):
    """Stored values to the scalar power ``y``."""
    return StructuredUnary("pow")(x, y)


def structured_minimum(x, y):
    """``minimum(value, y)`` for each stored value and a scalar ``y``."""
    return StructuredUnary("minimum")(x, y)


def structured_maximum(x, y):
    """``maximum(value, y)`` for each stored value and a scalar ``y``."""
    return StructuredUnary("maximum")(x, y)


def structured_add(x, y):
    """Add the scalar ``y`` to each stored value."""
    return StructuredUnary("add")(x, y)


def sp_ones_like(x):
    """A sparse matrix with ``x``'s pattern and every stored value 1."""
    return StructuredUnary("ones")(x)


def sp_zeros_like(x):
    """A sparse matrix with ``x``'s pattern and every stored value 0."""
    return StructuredUnary("zeros")(x)


class RowColScale(SparseOp):
    """Scale rows (``axis=0``: ``x * s[:, None]``) or columns (``axis=1``: ``x * s[None, :]``)."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def make_node(self, x, s):
        x = as_sparse_variable(x)
        s = as_dense(s, str(self))
        if s.ndim != 1:
            raise TypeError(f"{self}: the scale must be a vector, got {s.type}")
        check_dtypes(self, x, s)
        return Apply(self, [x, s], [SparseType(x.type.format, x.type.dtype)()])

    def perform(self, node, inputs, outputs):
        x, s = inputs
        if len(s) != x.shape[self.axis]:
            which = "rows" if self.axis == 0 else "columns"
            raise ValueError(f"{self}: the scale has {len(s)} entries, the matrix "
                             f"{x.shape[self.axis]} {which} (shape {x.shape})")
        rows, cols = rows_cols(x)
        outputs[0][0] = with_data(x, x.data * s[rows if self.axis == 0 else cols])

    def grad(self, inputs, output_grads):
        x, s = inputs
        gz = mul(sp_ones_like(x), output_grads[0])
        return [self(gz, s), sp_sum(mul(x, gz), axis=1 - self.axis)]

    def infer_shape(self, node, shapes):
        return [shapes[0]]


def row_scale(x, s):
    """``x`` with row ``i`` multiplied by ``s[i]`` (sparse result)."""
    return RowColScale(0)(x, s)


def col_scale(x, s):
    """``x`` with column ``j`` multiplied by ``s[j]`` (sparse result)."""
    return RowColScale(1)(x, s)
