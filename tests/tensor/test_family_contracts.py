"""Every op class of the op families keeps the Op contract (opcore.testing.check_op_contract):
equality, hashing and pickling through __props__, perform vs every backend, infer_shape, and
gradients where all inputs are floats."""

from __future__ import annotations

import numpy as np
import pytest

from opcore.tensor import construct as C
from opcore.tensor import extra_ops as E
from opcore.tensor import fft as F
from opcore.tensor import gradient_ops as G
from opcore.tensor import nlinalg as NL
from opcore.tensor import slinalg as SL
from opcore.tensor import special as SP
from opcore.tensor.sort import ArgSortOp, SortOp, TopKOp
from opcore.testing import check_op_contract

rng = np.random.default_rng(21)
M = rng.random((3, 4)) + 0.5
SQ = rng.random((3, 3)) + 3 * np.eye(3)
SPD = SQ @ SQ.T
I64 = np.array([2, 0, 1, 2])

CONTRACTS = [
    (E.CumOp(1, "add"), [M]), (E.CumOp(None, "mul"), [M]), (E.CumsumOp(0), [M]),
    (E.CumprodOp(-1), [M]), (E.RepeatOp(0), [M, np.array(2)]), (E.RepeatOp(None), [M, np.array(3)]),
    (E.SearchsortedOp("right"), [np.array([0.1, 0.5, 0.9]), M]), (E.Unique(True, True, True), [I64]),
    (E.Bartlett(), [np.array(5)]), (E.CpuContiguous(), [M]), (E.FillDiagonal(), [M, np.array(1.0)]),
    (E.FillDiagonalOffset(), [M, np.array(1.0), np.array(1)]), (E.ToOneHot("float64"), [I64, np.array(3)]),
    (E.UnravelIndex(2), [I64, np.array([2, 3])]), (E.RavelMultiIndex(), [I64, I64, np.array([3, 4])]),
    (TopKOp(1, True, "int64", True, True), [M, np.array(2)]),
    (C.Eye("float64"), [np.array(3), np.array(4), np.array(1)]),
    (C.Tri("float64"), [np.array(3), np.array(4), np.array(0)]),
    (C.TriangularPart(True, 1), [M]), (C.TriangularPart(False, -1), [M]),
    (C.ExtractDiag(1, 0, 1), [M]), (C.AllocDiag(-1), [M[0]]),
    (SP.Choose("wrap"), [I64[:3], rng.random((3, 3))]), (SP.Chi2SF(), [M, np.array([[3.0]])]),
    (NL.MatrixInverse(), [SQ]), (NL.MatrixPinv(), [M]), (NL.Det(), [SQ]), (NL.Eigh("L"), [SPD]),
    (NL.SVD(False, True), [M]), (NL.SVD(True, False), [M]), (NL.QRFull("reduced"), [M.T]),
    (NL.TensorInv(1), [SQ]), (NL.TensorSolve(), [SQ, M[0, :3]]),
    (SL.Cholesky(), [SPD]), (SL.Solve(assume_a="gen"), [SQ, M[:, :2]]),
    (SL.SolveTriangular(lower=True), [np.tril(SQ), M[:, 0]]), (SL.CholeskySolve(True), [np.linalg.cholesky(SPD), M[:, :2]]),
    (SL.Eigvalsh(True), [SPD]), (SL.Expm(), [SQ / 10]),
    (F.RFFTOp(), [M, np.array([4])]), (F.IRFFTOp(), [rng.random((3, 3, 2)), np.array([4])]),
    (G.ZeroGrad(), [M]), (G.DisconnectedGrad(), [M]), (G.GradClip(-1.0, 1.0), [M]),
]


@pytest.mark.parametrize("op,axis", [(SortOp("quicksort"), 1), (ArgSortOp("stable"), 0),
                                     (SortOp("mergesort"), -1)])
def test_sort_op_contract(op, axis):
    # a symbolic axis, as Theano allows (the C backend and the gradient need a constant one)
    check_op_contract(op, [M, np.array(axis)], check_grad=False)


@pytest.mark.parametrize("op,values", CONTRACTS, ids=[str(c[0]) for c in CONTRACTS])
def test_op_contract(op, values):
    # gradients are checked by the family tests (with the right input points); here: identity,
    # pickling, perform vs backends and infer_shape
    check_op_contract(op, values, check_grad=False)
