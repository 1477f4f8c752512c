"""Products with sparse operands: structured_dot, dot, sampling_dot, and the array-level kernel op
that carries the C implementation (Theano's C protocol: ``c_code``, ``c_support_code``, ...)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.null import disconnected_type
from opcore_sparse import ckernels
from opcore_sparse.basic import (CSM, DataAtPattern, SparseOp, as_dense, as_sparse_grad,
                                 canonical, check_dtypes, csm_properties, mul, rows_cols,
                                 sp_ones_like, transpose, with_data)
from opcore_sparse.type import _MATRIX_CLASS, SparseType, as_sparse_variable, is_sparse


def _check_inner(op, a_shape, b_shape):
    if a_shape[-1] != b_shape[0]:
        raise ValueError(f"{op}: shapes {tuple(a_shape)} and {tuple(b_shape)} are not aligned "
                         f"({a_shape[-1]} != {b_shape[0]})")


class StructuredDot(SparseOp):
    """Sparse matrix times dense matrix -> dense; the gradient w.r.t. the sparse operand is
    structured (it lives on that operand's pattern)."""

    __props__ = ()

    def make_node(self, a, b):
        a = as_sparse_variable(a)
        b = as_dense(b, str(self))
        if b.ndim != 2:
            raise TypeError(f"{self}: the dense operand must be a matrix, got {b.type}")
        check_dtypes(self, a, b)
        return Apply(self, [a, b], [T.TensorType(a.type.dtype, shape=(None, None))()])

    def perform(self, node, inputs, outputs):
        a, b = inputs
        _check_inner(self, a.shape, b.shape)
        outputs[0][0] = np.asarray(a @ b, dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        return [sampling_dot(gz, b, sp_ones_like(a)), structured_dot(transpose(a), gz)]

    def infer_shape(self, node, shapes):
        return [(shapes[0][0], shapes[1][1])]


_structured_dot = StructuredDot()


def structured_dot(x, y):
    """``x @ y`` for sparse ``x`` and dense matrix ``y`` with a structured gradient for ``x``.

    A dense ``x`` and sparse ``y`` is computed as ``(y.T @ x.T).T``.
    """
    if is_sparse(x) or sp.issparse(x):
        return _structured_dot(x, y)
    if is_sparse(y) or sp.issparse(y):
        return _structured_dot(transpose(as_sparse_variable(y)), T.transpose(as_dense(x))).T
    raise TypeError("structured_dot: one operand must be sparse")


class Dot(SparseOp):
    """``x @ y`` with at least one sparse operand (Theano's ``sparse.dot``).

    sparse x dense and dense x sparse give dense results (the dense operand may be a vector);
    sparse x sparse gives a sparse result in ``x``'s format.  Gradients are the plain
    (non-structured) ones: a dense gradient for a sparse operand unless both are sparse.
    """

    __props__ = ()

    def make_node(self, x, y):
        xs, ys = is_sparse(x), is_sparse(y)
        if not (xs or ys):
            raise TypeError(f"{self}: one operand must be sparse; use opcore.tensor.dot")
        x = x if xs else as_dense(x, str(self))
        y = y if ys else as_dense(y, str(self))
        check_dtypes(self, x, y)
        for v, s in ((x, xs), (y, ys)):
            if not s and v.ndim not in (1, 2):
                raise TypeError(f"{self}: the dense operand must be a vector or a matrix, got "
                                f"{v.type}")
        if xs and ys:
            out = SparseType(x.type.format, x.type.dtype)()
        else:
            ndim = y.ndim if xs else x.ndim
            out = T.TensorType(x.type.dtype, shape=(None,) * ndim)()
        return Apply(self, [x, y], [out])

    def perform(self, node, inputs, outputs):
        x, y = inputs
        _check_inner(self, x.shape, y.shape)
        out_t = node.outputs[0].type
        if sp.issparse(x) and sp.issparse(y):
            outputs[0][0] = canonical(x @ y, out_t.format, out_t.dtype)
        elif sp.issparse(x):
            outputs[0][0] = np.asarray(x @ y, dtype=out_t.dtype)
        else:
            res = y.T @ x if x.ndim == 1 else (y.T @ x.T).T
            outputs[0][0] = np.asarray(res, dtype=out_t.dtype)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        xs, ys = is_sparse(x), is_sparse(y)
        if xs and ys:
            return [dot(gz, transpose(y)), dot(transpose(x), gz)]
        if xs:  # sparse x, dense y
            gx = T.outer(gz, y) if y.ndim == 1 else T.dot(gz, y.T)
            return [gx, dot(transpose(x), gz)]
        # dense x, sparse y
        gx = dot(y, gz) if x.ndim == 1 else dot(gz, transpose(y))
        gy = T.outer(x, gz) if x.ndim == 1 else T.dot(x.T, gz)
        return [gx, gy]

    def infer_shape(self, node, shapes):
        xs, ys = shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]


_dot = Dot()


def dot(x, y):
    """``x @ y`` where at least one operand is sparse (see :class:`Dot`).

    >>> import numpy as np, scipy.sparse as sp, opcore
    >>> from opcore_sparse import api as sparse
    >>> x = sparse.csr_matrix('x', dtype='float64'); y = opcore.tensor.dmatrix('y')
    >>> f = opcore.function([x, y], sparse.dot(x, y))
    >>> f(sp.eye(2, format='csr'), np.ones((2, 1))).tolist()
    [[1.0], [1.0]]
    """
    if not (is_sparse(x) or is_sparse(y)):
        if sp.issparse(x):
            x = as_sparse_variable(x)
        elif sp.issparse(y):
            y = as_sparse_variable(y)
    return _dot(x, y)


def true_dot(x, y, grad_preserves_dense=True):
    """Theano's ``true_dot``: the same as :func:`dot` here."""
    return dot(x, y)


class SamplingDot(SparseOp):
    """``p * (x @ y.T)`` evaluated only at ``p``'s stored entries (dense x, y; sparse p)."""

    __props__ = ()

    def make_node(self, x, y, p):
        x, y = as_dense(x, str(self)), as_dense(y, str(self))
        p = as_sparse_variable(p)
        if x.ndim != 2 or y.ndim != 2:
            raise TypeError(f"{self}: x and y must be matrices, got {x.type} and {y.type}")
        check_dtypes(self, x, y, p)
        return Apply(self, [x, y, p], [SparseType(p.type.format, p.type.dtype)()])

    def perform(self, node, inputs, outputs):
        x, y, p = inputs
        if x.shape[1] != y.shape[1] or p.shape != (x.shape[0], y.shape[0]):
            raise ValueError(f"{self}: shapes do not fit: x {x.shape}, y {y.shape}, p {p.shape} "
                             "(need p.shape == (x.shape[0], y.shape[0]) and equal inner sizes)")
        rows, cols = rows_cols(p)
        vals = np.einsum("ij,ij->i", x[rows], y[cols]) * p.data
        outputs[0][0] = with_data(p, vals.astype(p.dtype, copy=False))

    def grad(self, inputs, output_grads):
        x, y, p = inputs
        gz = as_sparse_grad(output_grads[0], p)
        pg = mul(p, gz)
        return [dot(pg, y), dot(transpose(pg), x), sampling_dot(x, y, gz)]

    def infer_shape(self, node, shapes):
        return [shapes[2]]


_sampling_dot = SamplingDot()


def sampling_dot(x, y, p):
    """``p * (x @ y.T)`` computed only where ``p`` stores a value (a sparse result)."""
    return _sampling_dot(x, y, p)


# -- the kernel op with the C implementation --------------------------------------------------
class SparseDenseDotKernel(SparseOp):
    """``A @ b`` where ``A`` is given as its arrays ``(data, indices, indptr, shape)``.

    The array inputs let a C backend run the product without touching Python objects; the
    rewrite ``sparse_dot_to_kernel`` puts this op in place of sparse x dense products.
    """

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in ("csr", "csc"):
            raise ValueError(f"SparseDenseDotKernel: format must be 'csr' or 'csc', got {format!r}")
        self.format = format

    def make_node(self, data, indices, indptr, shape, b):
        data, indices, indptr, shape, b = (as_dense(v, str(self))
                                           for v in (data, indices, indptr, shape, b))
        if data.ndim != 1 or b.ndim != 2:
            raise TypeError(f"{self}: data must be a vector and b a matrix, got {data.type}, "
                            f"{b.type}")
        for v, n in ((indices, "indices"), (indptr, "indptr")):
            if v.type.dtype != "int32" or v.ndim != 1:
                raise TypeError(f"{self}: {n} must be an int32 vector, got {v.type}")
        if shape.ndim != 1 or not shape.type.dtype.startswith("int"):
            raise TypeError(f"{self}: shape must be an integer vector, got {shape.type}")
        check_dtypes(self, data, b)
        out = T.TensorType(data.type.dtype, shape=(None, None))()
        return Apply(self, [data, indices, indptr, shape, b], [out])

    def perform(self, node, inputs, outputs):
        data, indices, indptr, shape, b = inputs
        shape = (int(shape[0]), int(shape[1]))
        _check_inner(self, shape, b.shape)
        a = _MATRIX_CLASS[self.format]((data, indices, indptr), shape=shape, copy=False)
        outputs[0][0] = np.asarray(a @ b, dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, output_grads):
        data, indices, indptr, shape, b = inputs
        (gz,) = output_grads
        a = CSM(self.format)(data, indices, indptr, shape)
        # d/d data: (gz @ b.T) read at the stored positions, without forming the dense product
        g_data = DataAtPattern(self.format)(sampling_dot(gz, b, sp_ones_like(a)), indices,
                                            indptr, shape)
        none = disconnected_type()
        return [g_data, none, none, none, structured_dot(transpose(a), gz)]

    def connection_pattern(self, node):
        return [[True], [False], [False], [False], [True]]

    def infer_shape(self, node, shapes):
        shape_vec = node.inputs[3]
        return [(shape_vec[0], shapes[4][1])]

    # -- Theano's C protocol (compiled by the cpu_c backend) --------------------------------
    def c_headers(self, **kwargs):
        return ["<stdint.h>", "<string.h>"]

    def c_support_code(self, **kwargs):
        return ckernels.SUPPORT_CODE

    def c_code_cache_version(self):
        return (1, ckernels.VERSION)

    def c_code(self, node, name, inputs, outputs, sub):
        dtype = node.inputs[0].type.dtype
        if dtype not in ("float32", "float64"):
            raise NotImplementedError(f"{self}: C code only for float32/float64, not {dtype}")
        return ckernels.c_code(self.format, dtype, inputs, outputs, sub)


def sparse_dense_dot_kernel(x, b):
    """The kernel form of ``x @ b`` (sparse x, dense matrix b): what the C backend runs."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = csm_properties(x)
    return SparseDenseDotKernel(x.type.format)(data, indices, indptr, shape, b)
