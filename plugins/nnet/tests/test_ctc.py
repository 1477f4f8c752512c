"""The CTC loss against a brute-force sum over all alignments, its gradient by finite
differences, padding/lengths handling and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import log_softmax

import opcore
import opcore.tensor as T
from opcore.gradient import verify_grad


def _brute(acts, label, n):
    """-log of the summed probability of every path whose collapse (merge repeats, drop
    blanks) is ``label``."""
    logp = log_softmax(acts[:n], axis=1)
    total = 0.0
    for path in itertools.product(range(acts.shape[1]), repeat=n):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != 0] == list(label):
            total += np.exp(sum(logp[t, k] for t, k in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def test_ctc_cost_vs_brute_force_and_gradient(rng):
    from opcore.tensor.nnet.ctc import ctc, ctc_available

    assert ctc_available()
    t_len, batch, alpha = 5, 4, 4
    acts = rng.standard_normal((t_len, batch, alpha))
    labels = np.array([[1, 2, -1], [2, 2, -1], [3, 1, 3], [-1, -1, -1]], dtype=np.int32)
    lengths = np.array([5, 5, 5, 3], dtype=np.int32)
    a, lab, ln = T.dtensor3("a"), T.imatrix("l"), T.ivector("n")
    cost = ctc(a, lab, ln)
    got = opcore.function([a, lab, ln], cost)(acts, labels, lengths)
    ref = [_brute(acts[:, b], labels[b][labels[b] >= 0], lengths[b]) for b in range(batch)]
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    verify_grad(lambda x: ctc(x, labels, lengths), [acts], rng=np.random.RandomState(0))
    # the gradient is zero beyond each input length
    g = opcore.function([a, lab, ln], opcore.grad(cost.sum(), a))(acts, labels, lengths)
    assert np.all(g[3:, 3] == 0)


def test_ctc_float32_impossible_and_errors(rng):
    from opcore.tensor.nnet.ctc import ConnectionistTemporalClassification, ctc

    acts = rng.standard_normal((3, 2, 3)).astype("float32")
    a, lab, ln = T.ftensor3("a"), T.imatrix("l"), T.ivector("n")
    f = opcore.function([a, lab, ln], ctc(a, lab, ln))
    # example 1 needs 3 steps for "1 1" (a blank between the repeats) but has 2: cost inf
    got = f(acts, np.array([[1, 2], [1, 1]], dtype=np.int32), np.array([3, 2], dtype=np.int32))
    assert got.dtype == np.float32 and got[1] == np.inf
    np.testing.assert_allclose(got[0], _brute(acts[:, 0].astype(np.float64), [1, 2], 3),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="blank"):
        f(acts, np.array([[0, 1], [1, -1]], dtype=np.int32), np.array([3, 3], dtype=np.int32))
    with pytest.raises(ValueError, match="input_lengths"):
        f(acts, np.array([[1, -1], [1, -1]], dtype=np.int32), np.array([4, 3], dtype=np.int32))
    with pytest.raises(TypeError, match="integers"):
        ctc(a, T.fmatrix("bad"), ln)
    with pytest.raises(ValueError, match="3 dimensions"):
        ctc(T.fmatrix("m"), lab, ln)
    op = ConnectionistTemporalClassification(compute_grad=False)
    assert len(op.make_node(a, lab, ln).outputs) == 1
