"""GPU implementations of the core ops: one ``GpuRule`` per op type, registered for backend
``gpu`` through ``opcore_register_impls`` (:func:`register`); the host's implementation table is
the only table.

``GpuOp(op, context_name)`` is the device version of a core node: its array inputs and outputs are
``GpuArrayType``; host scalars (shapes, indices) stay on the host.  ``perform`` runs the rule of
``type(op)``.  A rule says which inputs live on the device and whether a given op instance is
supported (e.g. an ``Elemwise`` whose scalar op has a C template).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore.tensor.basic import Alloc
from opcore.tensor.blas import Gemm, Gemv, Ger
from opcore.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from opcore.tensor.math import Dot
from opcore.tensor.shape import Join
from opcore.tensor.subtensor import Subtensor
from opcore.tensor.type import TensorType

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.chost import has_host_code, make_host_thunk
from opcore_gpu_cuda.type import GpuArrayType, as_gpuarray_variable, get_context

_GPU_DTYPES = {"bool", "int8", "uint8", "int16", "int32", "int64", "uint32", "uint64",
               "float16", "float32", "float64"}


@dataclass(frozen=True)
class GpuRule:
    """How a core op type runs on the device."""

    run: Callable[[Any, Apply, list], list]
    device_inputs: Callable[[Any, int], list[int]] = lambda op, n: list(range(n))
    supports: Callable[[Any, Apply], str] = lambda op, node: ""


_RULES: list[tuple[type, GpuRule]] = []  # built below; register() hands them to the host


def rule_for(op: Any) -> GpuRule | None:
    """The ``GpuRule`` registered for backend ``"gpu"`` for ``op``'s type (walking its MRO)."""
    from opcore.plugins import get_host

    impl = get_host().ensure_loaded().impls.lookup("gpu", op)
    return impl if isinstance(impl, GpuRule) else None


def unsupported_reason(node: Apply) -> str:
    """Why ``node`` cannot move to the device ('' when it can)."""
    rule = rule_for(node.op)
    if rule is None:
        return f"no GPU implementation of {type(node.op).__name__}"
    for v in list(node.inputs) + list(node.outputs):
        if isinstance(v.type, TensorType) and v.type.dtype not in _GPU_DTYPES:
            return f"dtype {v.type.dtype} is not supported on the GPU"
        if not isinstance(v.type, (TensorType, GpuArrayType)):
            return f"{v.type} is not a tensor type"
    return rule.supports(node.op, node)


class GpuOp(Op):
    """The device version of the core op ``op``; printed ``Gpu<op>`` (``GpuElemwise{add}``)."""

    __props__ = ("op", "context_name")

    def __init__(self, op: Any, context_name: str | None = None) -> None:
        self.op = op
        self.context_name = context_name
        rule = rule_for(op)
        if rule is None:
            raise TypeError(f"GpuOp: no GPU implementation of {op}")
        self.rule = rule

    def make_node(self, *inputs: Any) -> Apply:
        dev = set(self.rule.device_inputs(self.op, len(inputs)))
        host_like = []
        for i, x in enumerate(inputs):
            if isinstance(getattr(x, "type", None), GpuArrayType):
                host_like.append(x.type.tensor_type()())
            else:
                host_like.append(x)
        core = self.op.make_node(*host_like)
        ins = [as_gpuarray_variable(x, self.context_name) if i in dev else core.inputs[i]
               for i, x in enumerate(inputs)]
        outs = [GpuArrayType(o.type.dtype, None, self.context_name, shape=o.type.shape)()
                for o in core.outputs]
        return Apply(self, ins, outs)

    def perform(self, node, inputs, out) -> None:
        results = self.rule.run(self.op, node, list(inputs))
        for cell, r in zip(out, results):
            cell[0] = r

    def infer_shape(self, node, shapes):
        if hasattr(self.op, "infer_shape"):
            return self.op.infer_shape(node, shapes)
        raise NotImplementedError

    def __str__(self) -> str:
        return f"Gpu{self.op}"


def _ctx_of(node: Apply):
    return get_context(node.op.context_name)


# -- Elemwise --------------------------------------------------------------------------------
def _elemwise_supports(op: Elemwise, node: Apply) -> str:
    try:
        K.scalar_body(op.scalar_op, [i.type.dtype for i in node.inputs],
                      [o.type.dtype for o in node.outputs])
    except NotImplementedError as exc:
        return str(exc)
    except (KeyError, IndexError, TypeError) as exc:
        return f"cannot render {op.scalar_op} for the GPU: {exc}"
    return ""


def _run_elemwise(op: Elemwise, node: Apply, inputs: list) -> list:
    nd = node.outputs[0].type.ndim
    ins = []
    for x in inputs:
        if x.ndim < nd:  # Elemwise inputs have the output's rank; be lenient with 0-d ones
            x = x.reshape((1,) * (nd - x.ndim) + x.shape)
        ins.append(x)
    return K.elemwise_scalar_op(op.scalar_op, ins, [o.type.dtype for o in node.outputs])


_RULES.append((Elemwise, GpuRule(_run_elemwise, supports=_elemwise_supports)))


# -- reductions ------------------------------------------------------------------------------
def _reduce_supports(op: CAReduce, node: Apply) -> str:
    return "" if op.kind in ("sum", "prod", "max", "min", "all", "any") else \
        f"reduction {op.kind!r} has no GPU kernel"


def _run_reduce(op: CAReduce, node: Apply, inputs: list) -> list:
    out_dt = node.outputs[0].type.dtype
    acc = op.acc_dtype or None
    if op.kind in ("sum", "prod"):  # float32 data accumulates in float64, as on the CPU
        acc = op.accumulator_dtype(node.inputs[0].type.dtype, out_dt)
    if acc is None and op.kind in ("sum", "prod") and np.dtype(out_dt).kind == "f":
        acc = out_dt
    return [K.reduce(inputs[0], op.kind, op.axis, out_dt, acc)]


_RULES.append((CAReduce, GpuRule(_run_reduce, supports=_reduce_supports)))


# -- views -----------------------------------------------------------------------------------
def _run_dimshuffle(op: DimShuffle, node: Apply, inputs: list) -> list:
    return [inputs[0].dimshuffle(op.new_order)]


_RULES.append((DimShuffle, GpuRule(_run_dimshuffle)))


def _subtensor_supports(op: Subtensor, node: Apply) -> str:
    return "" if all(s[0] in ("none", "slice", "int") for s in op.idx_spec) else \
        "advanced indexing runs on the host"


def _run_subtensor(op: Subtensor, node: Apply, inputs: list) -> list:
    x, *vals = inputs
    it = iter(vals)
    idx: list = []
    for s in op.idx_spec:
        if s[0] == "none":
            idx.append(None)
        elif s[0] == "slice":
            idx.append(slice(*[int(next(it)) if has else None for has in s[1:]]))
        else:
            idx.append(int(next(it)))
    return [x[tuple(idx)]]


_RULES.append((Subtensor, GpuRule(_run_subtensor, device_inputs=lambda op, n: [0],
                                   supports=_subtensor_supports)))


# -- Alloc, Join -----------------------------------------------------------------------------
def _run_alloc(op: Alloc, node: Apply, inputs: list) -> list:
    v, *shape = inputs
    shape = tuple(int(s) for s in shape)
    out = empty(shape, node.outputs[0].type.dtype, _ctx_of(node))
    lead = len(shape) - v.ndim
    vv = v.reshape((1,) * lead + v.shape) if lead else v
    K.elemwise_copy(vv, out)
    return [out]


_RULES.append((Alloc, GpuRule(_run_alloc, device_inputs=lambda op, n: [0])))


def _run_join(op: Join, node: Apply, inputs: list) -> list:
    axis = op.axis % inputs[0].ndim
    shape = list(inputs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in inputs)
    for x in inputs:
        if x.ndim != len(shape) or any(a != b for d, (a, b) in enumerate(zip(x.shape, shape))
                                       if d != axis):
            raise ValueError(f"GpuJoin(axis={op.axis}): input shapes "
                             f"{[a.shape for a in inputs]} do not match")
    out = empty(shape, node.outputs[0].type.dtype, _ctx_of(node))
    start = 0
    for x in inputs:
        n = x.shape[axis]
        key = (slice(None),) * axis + (slice(start, start + n),)
        if n:
            K.elemwise_copy(x, out[key])
        start += n
    return [out]


_RULES.append((Join, GpuRule(_run_join)))


# -- Dot -------------------------------------------------------------------------------------
def _dot_supports(op: Dot, node: Apply) -> str:
    a, b = node.inputs
    dts = {a.type.dtype, b.type.dtype, node.outputs[0].type.dtype}
    if len(dts) != 1 or dts.pop() not in ("float32", "float64"):
        return "GPU dot needs one float dtype"
    if a.type.ndim not in (1, 2) or b.type.ndim not in (1, 2):
        return "GPU dot handles 1-d and 2-d operands"
    return ""


def _run_dot(op: Dot, node: Apply, inputs: list) -> list:
    a, b = inputs
    a2 = a.dimshuffle(("x", 0)) if a.ndim == 1 else a
    b2 = b.dimshuffle((0, "x")) if b.ndim == 1 else b
    c = K.gemm(a2, b2)
    if a.ndim == 1 and b.ndim == 1:
        return [c.reshape(())]
    if a.ndim == 1:
        return [c.reshape((c.shape[1],))]
    if b.ndim == 1:
        return [c.reshape((c.shape[0],))]
    return [c]


_RULES.append((Dot, GpuRule(_run_dot, supports=_dot_supports)))


# -- BLAS (Gemm / Gemv / Ger from the core's BLAS rewrites) -----------------------------------
def _blas_supports(op: Any, node: Apply) -> str:
    dts = {v.type.dtype for v in list(node.inputs) + list(node.outputs) if v.type.ndim > 0}
    return "" if len(dts) == 1 and dts.pop() in ("float32", "float64") else \
        "GPU BLAS needs one float dtype"


def _scalar(v: Any) -> float:
    return float(np.asarray(v))


def _run_gemm(op: Any, node: Apply, inputs: list) -> list:
    z, a, x, y, b = inputs
    out = z.copy()
    return [K.gemm(x, y, out, alpha=_scalar(a), beta=_scalar(b))]


def _run_gemv(op: Any, node: Apply, inputs: list) -> list:
    y, a, A_, x, b = inputs
    out = y.copy()
    K.gemm(A_, x.dimshuffle((0, "x")), out.dimshuffle((0, "x")), alpha=_scalar(a),
           beta=_scalar(b))
    return [out]


def _run_ger(op: Any, node: Apply, inputs: list) -> list:
    A_, a, x, y = inputs
    out = A_.copy()
    K.gemm(x.dimshuffle((0, "x")), y.dimshuffle(("x", 0)), out, alpha=_scalar(a), beta=1.0)
    return [out]


_RULES.append((Gemm, GpuRule(_run_gemm, device_inputs=lambda op, n: [0, 2, 3],
                             supports=_blas_supports)))
_RULES.append((Gemv, GpuRule(_run_gemv, device_inputs=lambda op, n: [0, 2, 3],
                             supports=_blas_supports)))
_RULES.append((Ger, GpuRule(_run_ger, device_inputs=lambda op, n: [0, 2, 3],
                            supports=_blas_supports)))


def register(impls: Any) -> None:
    """Give backend ``gpu`` the rules of the core's ops (``impls``: the host's ImplRegistry), and
    make ops written with ``gpu_kernels`` + ``c_code`` (host code) their own implementation."""
    for op_type, rule in _RULES:
        impls.register("gpu", op_type, rule)
    impls.register_adapter("gpu", "gpu_kernels", host_code_impl)


def host_code_impl(op: Any) -> Any:
    """The adapter of ops with ``gpu_kernels``: a thunk maker ``impl(node, storage_map)`` running
    the op's compiled host code, or ``None`` when the op has no ``c_code``."""
    if not has_host_code(op):
        return None
    return HostCodeImpl()


class HostCodeImpl:
    """Runs a node's C host code (``chost``); numbered per process for unique module names."""

    count = 0

    def __call__(self, node: Any, storage_map: dict) -> Any:
        HostCodeImpl.count += 1
        return make_host_thunk(node, storage_map, f"node{HostCodeImpl.count}")


def gpu_supported_ops() -> list[str]:
    """Names of the op types with a GPU implementation (the core's and other plugins')."""
    from opcore.plugins import get_host

    table = get_host().ensure_loaded().impls.by_backend().get("gpu", {})
    return sorted(name.rpartition(".")[2] for name in table.get("ops", []))


__all__ = ["GpuArray", "GpuOp", "GpuRule", "HostCodeImpl", "gpu_supported_ops", "register",
           "rule_for", "unsupported_reason"]
