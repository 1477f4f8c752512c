"""Constant folding of sparse constants: folded, with the right value, and no rewrite failure
(side_01).  Reference: scipy.sparse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as ssp

import opcore
import opcore.sparse as sp


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_sparse_constant_folds_without_a_rewrite_failure(mode):
    m = ssp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]))
    A = sp.as_sparse_variable(m)
    with warnings.catch_warnings(), opcore.config.change_flags(rewrite_raise=True):
        warnings.simplefilter("error")
        f = opcore.function([], [sp.dense_from_sparse(sp.transpose(A)), sp.transpose(A)],
                            mode=mode)
        dense, sparse_t = f()
    np.testing.assert_array_equal(dense, m.T.toarray())
    assert ssp.issparse(sparse_t)
    np.testing.assert_array_equal(sparse_t.toarray(), m.T.toarray())
    # folded: nothing is left to compute but the (constant) outputs
    assert all(n.inputs == [] or all(isinstance(i, opcore.graph.basic.Constant) for i in n.inputs)
               for n in f.maker.fgraph.apply_nodes) or not f.maker.fgraph.apply_nodes
