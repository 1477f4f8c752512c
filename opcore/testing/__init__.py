"""Public helpers for testing ops and backends (for opcore and for plugin authors).

- :func:`check_op_contract`: props, hashing, pickling, ``perform`` vs every backend,
  ``infer_shape`` and gradients of one op, in one call;
- :func:`compare_backends`: one graph on several backends, compared with the Python backend;
- :func:`verify_grad`: symbolic gradients vs finite differences;
- :class:`InferShapeTester`: shapes inferred without computing values;
- a pytest plugin (``opcore.testing.pytest_plugin``): ``OPCORE_TEST_BACKEND=<name> pytest`` runs
  the tests marked ``opcore_backend`` (or using the ``opcore_mode`` fixture) on that backend, and
  ops it does not support xfail with the backend's own reason.
"""

from __future__ import annotations

from opcore.gradient import verify_grad
from opcore.plugins import UnsupportedOp
from opcore.testing.backends import BackendComparison, compare_backends, run_on_backend
from opcore.testing.contract import ContractReport, check_op_contract, symbolic_inputs
from opcore.testing.infer_shape import InferShapeTester

__all__ = [
    "BackendComparison", "ContractReport", "InferShapeTester", "UnsupportedOp",
    "check_op_contract", "compare_backends", "run_on_backend", "symbolic_inputs", "verify_grad",
]
