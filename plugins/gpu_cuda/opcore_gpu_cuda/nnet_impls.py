"""GPU implementations of opcore-nnet's softmax family, registered with
``opcore_register_impls`` as ``impls.register("gpu", Softmax, GpuRule(...))`` when that plugin is
installed.  Each is a few of this plugin's kernels: a max reduction, one elementwise pass, a sum
reduction and a final elementwise pass, all along ``op.axis``."""

from __future__ import annotations

from typing import Any

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda.array import GpuArray, empty
from opcore_gpu_cuda.dialect import dtype_to_ctype
from opcore_gpu_cuda.ops import GpuRule


def _keep(r: GpuArray, nd: int, axis: int) -> GpuArray:
    """A reduction result seen with the reduced axis back as length 1."""
    order: list = list(range(nd - 1))
    order.insert(axis, "x")
    return r.dimshuffle(order)


def _map(body: str, inputs: list, dtype: str, key: str) -> GpuArray:
    out = empty(inputs[0].shape, dtype, inputs[0].context)
    ct = dtype_to_ctype(dtype)
    K.run_elemwise(out.context, key, f"*(GLOBAL_MEM {ct} *)o0 = ({ct})({body});", inputs, [out])
    return out


def _supports(op: Any, node: Any) -> str:
    dts = {v.type.dtype for v in list(node.inputs) + list(node.outputs)}
    return "" if dts <= {"float32", "float64"} else "GPU softmax needs float32/float64"


def _softmax(op: Any, node: Any, inputs: list) -> list:
    (x,) = inputs
    nd, ax, dt = x.ndim, op.axis % x.ndim, node.outputs[0].type.dtype
    m = _keep(K.reduce(x, "max", (ax,), dt), nd, ax)
    e = _map("exp(v0 - v1)", [x, m], dt, "softmax_exp")
    s = _keep(K.reduce(e, "sum", (ax,), dt), nd, ax)
    return [_map("v0 / v1", [e, s], dt, "softmax_div")]


def _log_softmax(op: Any, node: Any, inputs: list) -> list:
    (x,) = inputs
    nd, ax, dt = x.ndim, op.axis % x.ndim, node.outputs[0].type.dtype
    m = _keep(K.reduce(x, "max", (ax,), dt), nd, ax)
    e = _map("exp(v0 - v1)", [x, m], dt, "softmax_exp")
    s = _keep(K.reduce(e, "sum", (ax,), dt), nd, ax)
    return [_map("v0 - v1 - log(v2)", [x, m, s], dt, "logsoftmax_out")]


def _softmax_grad(op: Any, node: Any, inputs: list) -> list:
    dy, sm = inputs
    nd, ax, dt = sm.ndim, op.axis % sm.ndim, node.outputs[0].type.dtype
    p = _map("v0 * v1", [dy, sm], dt, "softmax_grad_mul")
    s = _keep(K.reduce(p, "sum", (ax,), dt), nd, ax)
    return [_map("(v0 - v1) * v2", [dy, s, sm], dt, "softmax_grad_out")]


def register(impls: Any) -> None:
    """Register the rules when opcore-nnet is installed (silently nothing otherwise)."""
    try:
        from opcore_nnet.softmax import LogSoftmax, Softmax, SoftmaxGrad
    except ImportError:
        return
    impls.register("gpu", Softmax, GpuRule(_softmax, supports=_supports))
    impls.register("gpu", LogSoftmax, GpuRule(_log_softmax, supports=_supports))
    impls.register("gpu", SoftmaxGrad, GpuRule(_softmax_grad, supports=_supports))
