"""Table-driven checks shared by the op-family tests (extra_ops, sort, linalg, fft).

A :class:`Case` names a graph builder, NumPy input values and an independent reference; the
three runners check values and dtypes on every healthy backend (``compare_backends``), shapes
through ``InferShapeTester`` (the shape graph must not run the op) and gradients through
``verify_grad``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import opcore.tensor as T
from opcore.compile import Mode
from opcore.testing import InferShapeTester, compare_backends, verify_grad

# shapes and gradients are checked on the Python backend (values run on every backend)
PY = Mode(optimizer="fast_run", backend="py")


@dataclass
class Case:
    id: str
    build: Callable[..., Any]            # symbolic inputs -> output variable (or list)
    values: Sequence[Any]                # NumPy inputs
    reference: Callable[..., Any] | None  # NumPy inputs -> expected output(s)
    op: type | None = None               # op class the shape graph must not contain
    grad: bool = True                    # verify_grad on the float inputs
    grad_args: Sequence[int] | None = None  # which inputs to differentiate (default: floats)
    rtol: float = 1e-7
    check_dtype: bool = True
    unordered_last_axis: bool = False    # topk(sorted=False): compare sorted values
    extra: dict = field(default_factory=dict)


def symbolic(values: Sequence[Any]) -> list:
    """One symbolic input per value, of its dtype and rank (length-1 axes not broadcastable)."""
    return [T.TensorType(np.asarray(v).dtype.name, shape=(None,) * np.ndim(v))(f"in{i}")
            for i, v in enumerate(values)]


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_values(case: Case) -> None:
    ins = symbolic(case.values)
    outs = _as_list(case.build(*ins))
    res = compare_backends(ins, outs, [np.asarray(v) for v in case.values], rtol=1e-6)
    got = res["py"]
    if case.reference is None:
        return
    want = _as_list(case.reference(*[np.asarray(v) for v in case.values]))
    assert len(got) == len(want), f"{case.id}: {len(got)} outputs, expected {len(want)}"
    for k, (g, w, o) in enumerate(zip(got, want, outs)):
        w = np.asarray(w)
        g = np.asarray(g)
        assert g.dtype == o.dtype, f"{case.id}: output {k} has dtype {g.dtype}, type says {o.dtype}"
        if case.check_dtype:
            assert g.dtype == w.dtype, f"{case.id}: output {k} dtype {g.dtype}, NumPy {w.dtype}"
        assert g.shape == w.shape, f"{case.id}: output {k} shape {g.shape}, expected {w.shape}"
        if case.unordered_last_axis:
            g, w = np.sort(g, axis=-1), np.sort(w, axis=-1)
        np.testing.assert_allclose(g, w, rtol=case.rtol, atol=1e-12, err_msg=case.id)


def check_infer_shape(case: Case) -> None:
    ins = symbolic(case.values)
    outs = _as_list(case.build(*ins))
    tester = InferShapeTester()
    tester.mode = PY
    tester._compile_and_check(ins, outs, [np.asarray(v) for v in case.values], case.op,
                              warn=False)


def check_grad(case: Case) -> None:
    idx = case.grad_args
    if idx is None:
        idx = [i for i, v in enumerate(case.values) if np.asarray(v).dtype.kind == "f"]
    fixed = list(case.values)

    def fn(*diff_ins):
        ins = []
        it = iter(diff_ins)
        for i, v in enumerate(fixed):
            ins.append(next(it) if i in idx else T.as_tensor_variable(np.asarray(v)))
        out = _as_list(case.build(*ins))[0]
        return out

    verify_grad(fn, [np.asarray(fixed[i], dtype="float64") for i in idx],
                rng=np.random.default_rng(7), mode=PY)


def ids(cases: Sequence[Case]) -> list[str]:
    return [c.id for c in cases]


def family_tests(cases: Sequence[Case]) -> tuple:
    """The table tests of an op-family module, parametrized over ``cases``::

        test_values, test_infer_shape, test_grad = family_tests(CASES)

    ``test_values`` runs every case on the backend under test (``opcore_backend``);
    ``test_infer_shape`` the cases naming an op class; ``test_grad`` those with ``grad=True``
    (``None`` when there are none, so pytest collects nothing instead of an empty set).
    """
    shape_cases = [c for c in cases if c.op is not None]
    grad_cases = [c for c in cases if c.grad]

    @pytest.mark.opcore_backend
    @pytest.mark.parametrize("case", cases, ids=ids(cases))
    def test_values(case: Case) -> None:
        check_values(case)

    @pytest.mark.parametrize("case", shape_cases, ids=ids(shape_cases))
    def test_infer_shape(case: Case) -> None:
        check_infer_shape(case)

    @pytest.mark.parametrize("case", grad_cases, ids=ids(grad_cases))
    def test_grad(case: Case) -> None:
        check_grad(case)

    return (test_values, test_infer_shape if shape_cases else None,
            test_grad if grad_cases else None)
