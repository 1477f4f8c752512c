"""Checks that an Op keeps the Op contract (docs/op-contract.md)."""

from __future__ import annotations

import copy
import inspect
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from opcore.gradient import verify_grad
from opcore.compile import function
from opcore import tensor as T

from opcore.graph.params import perform_params
from opcore.plugins import UnsupportedOp
from opcore.testing.backends import _assert_close, run_on_backend
from opcore.graph.op import Op
from opcore.plugins import get_host


@dataclass
class ContractReport:
    """What :func:`check_op_contract` checked (``checked``) and skipped with why (``skipped``)."""

    op: Any
    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def symbolic_inputs(values: Sequence[Any], op: Any = None) -> list[Any]:
    """Symbolic variables matching ``values``: the op's ``itypes`` when it has them, else
    tensors of the values' dtype and rank with no static shape."""
    itypes = getattr(op, "itypes", None)
    if itypes is not None and len(itypes) == len(values):
        return [t(f"in{i}") for i, t in enumerate(itypes)]
    out = []
    for i, v in enumerate(values):
        arr = np.asarray(v)
        out.append(T.TensorType(arr.dtype.name, shape=(None,) * arr.ndim)(f"in{i}"))
    return out


def call_infer_shape(op: Any, node: Any, shapes: list[tuple]) -> list[tuple]:
    """Call ``op.infer_shape`` in either accepted form: ``(node, shapes)`` or PyTensor's
    ``(fgraph, node, shapes)``."""
    params = [p for p in inspect.signature(op.infer_shape).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) >= 3:
        return op.infer_shape(None, node, shapes)
    return op.infer_shape(node, shapes)


def _has_own(op: Any, method: str) -> bool:

    impl = getattr(type(op), method, None)
    return impl is not None and impl is not getattr(Op, method, None)


def _perform(node: Any, values: Sequence[Any]) -> list[np.ndarray]:
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    node.op.perform(node, [np.asarray(v) for v in values], storage,
                    *perform_params(node.op, node))
    return [np.asarray(cell[0]) for cell in storage]


def check_op_contract(op: Any, input_values: Sequence[Any], inputs: Sequence[Any] | None = None,
                      *, backends: Sequence[str] | None = None, check_grad: bool | None = None,
                      rtol: float | None = None, atol: float | None = None,
                      grad_kwargs: dict | None = None) -> ContractReport:
    """Assert that ``op`` keeps the Op contract on ``input_values``; returns what was checked.

    - equality and hashing: a copy and a pickled round trip equal ``op`` and hash the same;
      ``str(op)`` shows the ``__props__``;
    - ``make_node`` builds an Apply whose outputs ``perform`` fills with values of the output
      types;
    - every healthy backend (or those in ``backends``) computes what ``perform`` computes;
      backends that say they do not support the op are listed in ``report.skipped``;
    - ``infer_shape`` (when defined) matches the real output shapes;
    - gradients match finite differences (``verify_grad``) when the op defines ``grad``/``L_op``
      and all inputs and outputs are floats (``check_grad`` forces it on or off).

    ``inputs`` gives the symbolic inputs when the op needs particular types; by default they are
    made from the values.

    >>> import numpy as np, opcore, opcore.tensor as T
    >>> from opcore.testing import check_op_contract
    >>> @opcore.as_op(itypes=[T.dvector], otypes=[T.dvector])
    ... def reverse(x):
    ...     return x[::-1]
    >>> "perform" in check_op_contract(reverse, [np.arange(3.0)]).checked
    True
    """
    report = ContractReport(op)
    _check_identity(op, report)
    inputs = list(inputs) if inputs is not None else symbolic_inputs(input_values, op)
    node = op.make_node(*inputs)
    if not hasattr(node, "outputs") or node.op != op:
        raise AssertionError(f"{op}.make_node did not return an Apply of this op")
    expected = _perform(node, input_values)
    for k, (out, val) in enumerate(zip(node.outputs, expected)):
        if not out.type.is_valid_value(val):
            raise AssertionError(f"{op}.perform: output {k} ({val.dtype}{list(val.shape)}) "
                                 f"is not a valid value of {out.type}")
    report.checked.append("perform")
    _check_backends(op, node, inputs, input_values, expected, backends, rtol, atol, report)
    _check_infer_shape(op, node, inputs, input_values, expected, report)
    _check_gradient(op, inputs, input_values, node, check_grad, grad_kwargs or {}, report)
    return report


def _check_identity(op: Any, report: ContractReport) -> None:
    try:
        pickled = pickle.loads(pickle.dumps(op))
    except Exception as exc:
        raise AssertionError(f"{op} cannot be pickled ({type(exc).__name__}: {exc}); compiled "
                             f"functions holding it will not pickle either") from exc
    for label, other in (("copy", copy.deepcopy(op)), ("pickle", pickled)):
        if other != op:
            raise AssertionError(f"{op}: its {label} is not equal to it (check __props__)")
        if hash(other) != hash(op):
            raise AssertionError(f"{op}: its {label} hashes differently (check __props__)")
    for prop in getattr(op, "__props__", ()):
        if f"{prop}=" not in str(op):
            raise AssertionError(f"str({op!r}) does not show the prop {prop!r}")
    report.checked += ["equality", "hash", "pickle"]


def _check_backends(op: Any, node: Any, inputs: list, values: Sequence[Any], expected: list,
                    backends: Sequence[str] | None, rtol: float | None, atol: float | None,
                    report: ContractReport) -> None:

    host = get_host().ensure_loaded()
    names = list(backends) if backends is not None else [b.name for b in host.healthy_backends()]
    for name in names:
        ok, reason = host.backends[name].supports_op(op)
        if not ok:
            report.skipped[f"backend:{name}"] = reason
            continue
        try:
            got = run_on_backend(inputs, list(node.outputs), values, name)
        except UnsupportedOp as exc:
            report.skipped[f"backend:{name}"] = str(exc)
            continue
        for k, (g, e) in enumerate(zip(got, expected)):
            _assert_close(g, e, f"{op}: output {k} on backend {name!r} vs perform", rtol, atol)
        report.checked.append(f"backend:{name}")


def _check_infer_shape(op: Any, node: Any, inputs: list, values: Sequence[Any], expected: list,
                       report: ContractReport) -> None:
    if not hasattr(op, "infer_shape"):
        report.skipped["infer_shape"] = "the op does not define infer_shape"
        return
    shapes = [tuple(x.shape[i] for i in range(x.ndim)) for x in inputs]
    try:
        out_shapes = call_infer_shape(op, node, shapes)
    except Exception as exc:  # the op declines (ShapeUnknown) or is broken: say which
        if type(exc).__name__ == "ShapeUnknown":
            report.skipped["infer_shape"] = f"infer_shape declined: {exc}"
            return
        raise
    if len(out_shapes) != len(node.outputs):
        raise AssertionError(f"{op}.infer_shape returned {len(out_shapes)} shapes for "
                             f"{len(node.outputs)} outputs")
    # a None entry means "this output's shape depends on the values" (the shape feature then
    # reads it from the value), as for unique's values
    flat = [T.as_tensor_variable(d) for shape in out_shapes if shape is not None for d in shape]
    computed = function(inputs, flat, on_unused_input="ignore")(*values) if flat else []
    pos = 0
    for k, (shape, val) in enumerate(zip(out_shapes, expected)):
        if shape is None:
            continue
        got = tuple(int(v) for v in computed[pos:pos + len(shape)])
        pos += len(shape)
        if got != val.shape:
            raise AssertionError(f"{op}.infer_shape: output {k} has shape {val.shape}, "
                                 f"infer_shape says {got}")
    report.checked.append("infer_shape")


def _check_gradient(op: Any, inputs: list, values: Sequence[Any], node: Any,
                    check_grad: bool | None, grad_kwargs: dict, report: ContractReport) -> None:
    floats = all(np.asarray(v).dtype.kind == "f" for v in values) and all(
        str(o.type.dtype).startswith("float") for o in node.outputs if hasattr(o.type, "dtype"))
    differentiable = _has_own(op, "grad") or _has_own(op, "L_op")
    if check_grad is None:
        check_grad = floats and differentiable
        if not check_grad:
            report.skipped["grad"] = ("the op defines no grad/L_op" if not differentiable
                                      else "not all inputs/outputs are floats")
            return
    if not check_grad:
        report.skipped["grad"] = "check_grad=False"
        return
    for k in range(len(node.outputs)):
        fun: Callable[..., Any] = (lambda *xs, k=k: op.make_node(*xs).outputs[k])
        verify_grad(fun, [np.asarray(v) for v in values], **grad_kwargs)
    report.checked.append("grad")
