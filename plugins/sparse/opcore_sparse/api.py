"""``opcore.sparse``: sparse matrices for opcore, named as in ``theano.sparse``.

>>> import numpy as np, scipy.sparse as sp, opcore
>>> import opcore.sparse as sparse
>>> x = sparse.csr_matrix('x', dtype='float64')
>>> y = opcore.tensor.dmatrix('y')
>>> f = opcore.function([x, y], sparse.structured_dot(x, y))
>>> f(sp.csr_matrix(np.eye(2)), np.array([[1.0], [2.0]])).tolist()
[[1.0], [2.0]]
"""

from __future__ import annotations

from opcore.compile.sharedvalue import _constructors, shared_constructor
from opcore.compile.sharedvalue import shared as _core_shared
from opcore_sparse.basic import (CSC, CSM, CSR, Add, CSMProperties, DataAtPattern,  # noqa: F401
                                 DenseFromSparse, Mul, RowColScale, SparseFromDense, SparseShape,
                                 SpSum, StructuredUnary, Transpose, add, col_scale, csc_from_dense,
                                 csm_data, csm_indices, csm_indptr, csm_properties, csm_shape,
                                 csr_from_dense, dense_from_sparse, mul, neg, row_scale,
                                 sp_ones_like, sp_shape, sp_sum, sp_zeros_like, structured_add,
                                 structured_exp, structured_log, structured_maximum,
                                 structured_minimum, structured_pow, structured_sigmoid, sub,
                                 transpose)
from opcore_sparse.dot import (Dot, SamplingDot, SparseDenseDotKernel, StructuredDot,  # noqa: F401
                               dot, sampling_dot, sparse_dense_dot_kernel, structured_dot,
                               true_dot)
from opcore_sparse.grad_check import verify_grad_sparse  # noqa: F401
from opcore_sparse.type import (FORMATS, SparseConstant, SparseSharedVariable,  # noqa: F401
                                SparseType, SparseVariable, as_sparse_variable, csc_matrix,
                                csr_matrix, is_sparse, matrix, sparse_shared_constructor)

as_sparse = as_sparse_variable
_is_sparse_variable = is_sparse
csm_grad = DataAtPattern


def as_sparse_or_tensor_variable(x, name=None):
    """A sparse variable for sparse values/variables, else a tensor variable."""
    import scipy.sparse as sp

    import opcore.tensor as T

    if is_sparse(x) or sp.issparse(x):
        return as_sparse_variable(x, name)
    return T.as_tensor_variable(x, name)


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """``opcore.shared`` (sparse values are accepted once this module is imported)."""
    return _core_shared(value, name=name, strict=strict, allow_downcast=allow_downcast,
                        borrow=borrow, **kwargs)


# `opcore.shared(scipy_matrix)` works from the moment `opcore.sparse` is imported
if sparse_shared_constructor not in _constructors:
    shared_constructor(sparse_shared_constructor)
