"""Theano's module map of the nnet plugin: the paths import as modules, and T.nnet.softmax of a
vector is a (1, n) row as in Theano 1.0."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import log_softmax as sp_log_softmax
from scipy.special import softmax as sp_softmax

import opcore
import opcore.tensor as T

PATHS = {
    "opcore.tensor.nnet": ["softmax", "conv2d", "conv3d", "pool_2d", "images2neibs"],
    "opcore.tensor.nnet.abstract_conv": ["AbstractConv2d", "AbstractConv2d_gradInputs",
                                         "AbstractConv2d_gradWeights", "AbstractConv3d",
                                         "conv2d_grad_wrt_inputs", "get_conv_output_shape"],
    "opcore.tensor.nnet.conv": ["conv2d", "conv3d"],
    "opcore.tensor.nnet.conv3d2d": ["conv3d"],
    "opcore.tensor.nnet.nnet": ["softmax", "sigmoid", "categorical_crossentropy", "relu"],
    "opcore.tensor.nnet.bn": ["batch_normalization_train", "batch_normalization_test"],
    "opcore.tensor.nnet.sigm": ["sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid"],
    "opcore.tensor.nnet.blocksparse": ["sparse_block_dot", "SparseBlockGemv", "SparseBlockOuter"],
    "opcore.tensor.nnet.ctc": ["ctc", "ctc_available", "ConnectionistTemporalClassification"],
    "opcore.tensor.nnet.corr": ["CorrMM", "CorrMM_gradInputs", "CorrMM_gradWeights"],
    "opcore.tensor.nnet.corr3d": ["Corr3dMM", "Corr3dMM_gradInputs", "Corr3dMM_gradWeights"],
    "opcore.tensor.nnet.neighbours": ["images2neibs", "neibs2images", "Images2Neibs"],
    "opcore.tensor.signal": ["pool", "conv"],
    "opcore.tensor.signal.pool": ["pool_2d", "pool_3d", "max_pool_2d_same_size", "Pool",
                                  "PoolGrad"],
    "opcore.tensor.signal.conv": ["conv2d"],
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_module_paths_import(path):
    mod = importlib.import_module(path)
    for name in PATHS[path]:
        assert callable(getattr(mod, name)) or hasattr(mod, name), (path, name)
    parent, _, leaf = path.rpartition(".")
    assert getattr(importlib.import_module(parent), leaf) is mod


def test_import_statements_in_a_fresh_interpreter():
    code = ("import opcore.tensor.nnet.abstract_conv as ac, opcore.tensor.signal.pool as p\n"
            "from opcore.tensor.signal import conv\n"
            "from opcore.tensor.nnet.neighbours import images2neibs\n"
            "import opcore.tensor as T\n"
            "assert T.signal.pool is p and T.nnet.abstract_conv is ac\n"
            "print(ac.AbstractConv2d_gradInputs.__name__, conv.conv2d.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["AbstractConv2d_gradInputs", "conv2d"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_of_a_vector_is_one_row(rng, dtype):
    v = T.vector("v", dtype=dtype)
    sm, lsm = T.nnet.softmax(v), T.nnet.log_softmax(v)
    assert sm.ndim == 2 and lsm.ndim == 2 and sm.type.shape[0] == 1
    xv = rng.standard_normal(5).astype(dtype)
    a, b = opcore.function([v], [sm, lsm])(xv)
    assert a.shape == b.shape == (1, 5)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a[0], sp_softmax(xv), rtol=tol)
    np.testing.assert_allclose(b[0], sp_log_softmax(xv), rtol=tol, atol=tol)
    # Theano code indexes the result as 2-d
    first = opcore.function([v], T.nnet.softmax(v)[0, 0])(xv)
    np.testing.assert_allclose(first, sp_softmax(xv)[0], rtol=tol)
    # matrices are unchanged; gradients flow back to the vector
    g = opcore.function([v], opcore.grad(T.nnet.softmax(v)[0, 1], v))(xv)
    s = sp_softmax(xv.astype(np.float64))
    np.testing.assert_allclose(g, s[1] * ((np.arange(5) == 1) - s), rtol=1e-4 if tol > 1e-9
                               else 1e-10, atol=1e-6)
    with pytest.raises(ValueError):
        T.nnet.softmax_with_bias(v, v)


def test_relu_of_a_numpy_array_is_an_array_as_in_theano():
    import numpy as np

    import opcore.tensor as T
    from opcore_nnet.activations import relu

    a = np.array([-1.5, 0.0, 2.0])
    out = relu(a)
    assert isinstance(out, np.ndarray) and out.tolist() == [0.0, 0.0, 2.0]
    x = T.dvector("x")
    assert relu(x).owner is not None
    assert np.allclose(relu(x).eval({x: a}), np.maximum(a, 0))
