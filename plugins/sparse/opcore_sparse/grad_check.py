"""Gradient checks for ops with sparse inputs or outputs (Theano's ``verify_grad_sparse``)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp

from opcore.gradient import verify_grad
from opcore_sparse.basic import CSM, DenseFromSparse, csm_data, csc_from_dense, csr_from_dense
from opcore_sparse.type import is_sparse


def verify_grad_sparse(op: Callable, pt: Sequence[Any], structured: bool = False,
                       *args: Any, **kwargs: Any) -> None:
    """``verify_grad`` for ``op`` whose inputs may be ``scipy.sparse`` matrices.

    Sparse points are handed to finite differences as dense matrices (``structured=False``: every
    entry is perturbed, the op sees ``csr_from_dense(x)``) or as their stored values
    (``structured=True``: only stored entries move, the op sees ``CSR(values, indices, ...)``).
    A sparse output is compared densely (or through its stored values when structured).

    >>> import numpy as np, scipy.sparse as sp
    >>> from opcore_sparse import api as sparse
    >>> x = sp.random(3, 4, density=0.5, format='csr', random_state=0)
    >>> verify_grad_sparse(sparse.structured_exp, [x], structured=True)
    """
    convs, dense_pt = [], []
    for p in pt:
        if sp.issparse(p):
            if p.format not in ("csr", "csc"):
                p = p.tocsr()
            p = p.sorted_indices()
            if structured:
                dense_pt.append(np.array(p.data))
                convs.append(_rebuild(p))
            else:
                # C order: verify_grad perturbs entries through reshape(-1), a copy for F-order
                dense_pt.append(np.ascontiguousarray(p.toarray()))
                convs.append(csr_from_dense if p.format == "csr" else csc_from_dense)
        else:
            dense_pt.append(np.array(p, order="C"))
            convs.append(None)

    def conv_op(*inputs):
        ins = [x if c is None else c(x) for x, c in zip(inputs, convs)]
        out = op(*ins)
        if is_sparse(out):
            out = csm_data(out) if structured else DenseFromSparse(sparse_grad=False)(out)
        return out

    verify_grad(conv_op, dense_pt, *args, **kwargs)


def _rebuild(p: Any) -> Callable:
    indices = np.asarray(p.indices, dtype="int32")
    indptr = np.asarray(p.indptr, dtype="int32")
    shape = np.asarray(p.shape, dtype="int64")
    csm = CSM(p.format)
    return lambda data: csm(data, indices, indptr, shape)
