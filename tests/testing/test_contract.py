"""check_op_contract on ops that keep the contract and on ops that break one part of it."""

from __future__ import annotations

import numpy as np
import pytest
from ops_for_tests import AXPB, NoProps, WrongDtype, WrongGrad, WrongShape, reverse

from opcore.testing import check_op_contract, verify_grad

X = np.arange(6.0).reshape(2, 3)


def test_a_good_op_passes_every_check():
    from opcore.plugins import get_host

    report = check_op_contract(AXPB(3.0, 1.0), [X])
    assert report.checked[:4] == ["equality", "hash", "pickle", "perform"]
    assert report.checked[-2:] == ["infer_shape", "grad"]
    # every healthy backend installed here (at least the core's py) ran or said why not
    healthy = {f"backend:{b.name}" for b in get_host().healthy_backends()}
    ran = {c for c in report.checked if c.startswith("backend:")}
    assert "backend:py" in ran and ran | set(report.skipped) >= healthy
    assert set(report.skipped) <= healthy


def test_integer_inputs_skip_the_gradient_check():
    report = check_op_contract(AXPB(2, 1), [np.arange(4, dtype="int64")])
    assert "grad" not in report.checked
    assert report.skipped["grad"] == "not all inputs/outputs are floats"


def test_missing_props_are_caught():
    with pytest.raises(AssertionError, match="its copy is not equal to it"):
        check_op_contract(NoProps(3), [X])


def test_wrong_infer_shape_is_caught():
    with pytest.raises(AssertionError, match=r"has shape \(2, 3\), infer_shape says \(2, 6\)"):
        check_op_contract(WrongShape(1.0, 0.0), [X])


def test_wrong_gradient_is_caught():
    with pytest.raises(AssertionError, match="disagrees with finite differences"):
        check_op_contract(WrongGrad(3.0, 0.0), [X])
    report = check_op_contract(WrongGrad(3.0, 0.0), [X], check_grad=False)
    assert report.skipped["grad"] == "check_grad=False"


def test_wrong_output_dtype_is_caught():
    with pytest.raises(AssertionError, match="is not a valid value of"):
        check_op_contract(WrongDtype(1.0, 0.0), [X])


def test_as_op_without_infer_shape_or_grad():
    report = check_op_contract(reverse, [np.arange(3.0)])
    assert {"perform", "backend:py", "pickle"} <= set(report.checked)
    assert "infer_shape declined" in report.skipped["infer_shape"]
    assert report.skipped["grad"] == "the op defines no grad/L_op"


def test_verify_grad_is_the_core_one():
    import opcore.gradient

    assert verify_grad is opcore.gradient.verify_grad
    verify_grad(lambda x: (x ** 2).sum(), [np.array([1.0, 2.0])])


def test_an_op_that_does_not_pickle_is_caught():
    import opcore
    import opcore.tensor as T

    @opcore.as_op(itypes=[T.dvector], otypes=[T.dvector])
    def local_reverse(x):
        return x[::-1]

    with pytest.raises(AssertionError, match="cannot be pickled"):
        check_op_contract(local_reverse, [np.arange(3.0)])
