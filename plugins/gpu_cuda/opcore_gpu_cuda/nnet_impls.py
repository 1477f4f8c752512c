"""GPU implementations of opcore-nnet's ops, registered with ``opcore_register_impls`` as
``impls.register("gpu", Softmax, GpuRule(...))`` when that plugin is installed (through its public
``opcore_nnet.api`` only, imported when the impls are registered).

* softmax family: a max reduction, one elementwise pass, a sum reduction and a final elementwise
  pass along ``op.axis``;
* ``CrossentropySoftmax1Hot`` / ``CrossentropySoftmax1HotDx``: one fused kernel each
  (:mod:`opcore_gpu_cuda.nnet_kernels`); the integer labels stay host inputs (checked there,
  then uploaded);
* ``Conv2d``, ``Conv2dGradWeights``, ``Conv2dGradInputs``: direct-convolution kernels; the shape
  inputs of the gradient ops stay on the host;
* ``Conv3d``, ``Conv3dGradWeights``, ``Conv3dGradInputs``: the same with a depth axis
  (:mod:`opcore_gpu_cuda.nnet_conv3d_kernels`);
* ``Images2Neibs`` / ``Neibs2ImagesGrad`` (every mode): a gather and a per-pixel sum over the
  patches that read it (:mod:`opcore_gpu_cuda.nnet_neibs_kernels`);
* ``Pool`` / ``PoolGrad`` (fixed parameters, 2 or 3 pooled axes, every mode): one thread per
  output / input element (:mod:`opcore_gpu_cuda.nnet_pool_kernels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda import nnet_kernels as NK
from opcore_gpu_cuda import nnet_conv3d_kernels as C3
from opcore_gpu_cuda import nnet_neibs_kernels as NB
from opcore_gpu_cuda import nnet_pool_kernels as PK
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


def _one_float(what: str):
    def supports(op: Any, node: Any) -> str:
        dts = {v.type.dtype for v in list(node.inputs) + list(node.outputs)
               if np.dtype(v.type.dtype).kind == "f"}
        if len(dts) == 1 and dts <= {"float32", "float64"}:
            return ""
        return f"GPU {what} needs one dtype, float32 or float64 (got {sorted(dts)})"
    return supports


def _xent(op: Any, node: Any, inputs: list) -> list:
    x, y = inputs
    return list(NK.crossentropy_softmax_1hot(x, y))


def _xent_dx(op: Any, node: Any, inputs: list) -> list:
    g, sm, y = inputs
    return [NK.crossentropy_softmax_1hot_dx(g, sm, y, node.outputs[0].type.dtype)]


def _conv(op: Any, node: Any, inputs: list) -> list:
    x, w = inputs
    geom = NK.conv_geometry(op, x.shape, w.shape)
    out = empty((geom["B"], geom["K"], geom["OH"], geom["OW"]), node.outputs[0].type.dtype,
                x.context)
    return [NK.conv_run("fwd", geom, x, w, out)]


def _conv_gw(op: Any, node: Any, inputs: list) -> list:
    x, dy, fs = inputs
    fshape = (dy.shape[1], x.shape[1] // op.num_groups, int(fs[0]), int(fs[1]))
    geom = NK.conv_geometry(op, x.shape, fshape)
    if tuple(dy.shape) != (geom["B"], geom["K"], geom["OH"], geom["OW"]):
        raise ValueError(f"Gpu{op}: output gradient has shape {dy.shape}, expected "
                         f"{(geom['B'], geom['K'], geom['OH'], geom['OW'])}")
    out = empty(fshape, node.outputs[0].type.dtype, x.context)
    return [NK.conv_run("gw", geom, x, dy, out)]


def _conv_gi(op: Any, node: Any, inputs: list) -> list:
    w, dy, ish = inputs
    ishape = (dy.shape[0], w.shape[1] * op.num_groups, int(ish[0]), int(ish[1]))
    geom = NK.conv_geometry(op, ishape, w.shape)
    if tuple(dy.shape) != (geom["B"], geom["K"], geom["OH"], geom["OW"]):
        raise ValueError(f"Gpu{op}: output gradient has shape {dy.shape}, expected "
                         f"{(geom['B'], geom['K'], geom['OH'], geom['OW'])}")
    out = empty(ishape, node.outputs[0].type.dtype, w.context)
    return [NK.conv_run("gi", geom, w, dy, out)]


def _conv_supports(what: str):
    floats = _one_float(what)

    def supports(op: Any, node: Any) -> str:
        if not isinstance(op.border_mode, str) and any(isinstance(p, tuple)
                                                       for p in op.border_mode):
            return f"GPU {what} needs symmetric padding (asymmetric runs on the CPU)"
        return floats(op, node)
    return supports


def _conv3d(op: Any, node: Any, inputs: list) -> list:
    x, w = inputs
    geom = C3.conv3d_geometry(op, x.shape, w.shape)
    out = empty((geom["B"], geom["K"], geom["Oz"], geom["Oy"], geom["Ox"]),
                node.outputs[0].type.dtype, x.context)
    return [C3.conv3d_run("fwd", geom, x, w, out)]


def _conv3d_gw(op: Any, node: Any, inputs: list) -> list:
    x, dy, fs = inputs
    fshape = (dy.shape[1], x.shape[1] // op.num_groups) + tuple(int(v) for v in fs)
    geom = C3.conv3d_geometry(op, x.shape, fshape)
    _check_dy(op, dy, geom)
    out = empty(fshape, node.outputs[0].type.dtype, x.context)
    return [C3.conv3d_run("gw", geom, x, dy, out)]


def _conv3d_gi(op: Any, node: Any, inputs: list) -> list:
    w, dy, ish = inputs
    ishape = (dy.shape[0], w.shape[1] * op.num_groups) + tuple(int(v) for v in ish)
    geom = C3.conv3d_geometry(op, ishape, w.shape)
    _check_dy(op, dy, geom)
    out = empty(ishape, node.outputs[0].type.dtype, w.context)
    return [C3.conv3d_run("gi", geom, w, dy, out)]


def _check_dy(op: Any, dy: Any, geom: dict) -> None:
    expected = (geom["B"], geom["K"], geom["Oz"], geom["Oy"], geom["Ox"])
    if tuple(dy.shape) != expected:
        raise ValueError(f"Gpu{op}: output gradient has shape {tuple(dy.shape)}, expected "
                         f"{expected}")


def _pool_supports(op: Any, node: Any) -> str:
    if op.symbolic:
        return "GPU pooling needs constant ws/stride/pad (the fixed-parameter Pool)"
    if op.ndim not in (2, 3):
        return f"GPU pooling covers 2 or 3 pooled axes, not {op.ndim}"
    return _one_float("pooling")(op, node)


def _pool(op: Any, node: Any, inputs: list) -> list:
    return [PK.pool_run(op, inputs[0], node.outputs[0].type.dtype)]


def _pool_grad(op: Any, node: Any, inputs: list) -> list:
    x, gz = inputs
    return [PK.pool_grad_run(op, x, gz, node.outputs[0].type.dtype)]


def register(impls: Any) -> None:
    """Register the rules when opcore-nnet is installed (silently nothing otherwise)."""
    import importlib.util

    if importlib.util.find_spec("opcore_nnet") is None:
        return
    nnet = importlib.import_module("opcore_nnet.api")
    impls.register("gpu", nnet.Softmax, GpuRule(_softmax, supports=_supports))
    impls.register("gpu", nnet.LogSoftmax, GpuRule(_log_softmax, supports=_supports))
    impls.register("gpu", nnet.SoftmaxGrad, GpuRule(_softmax_grad, supports=_supports))
    impls.register("gpu", nnet.CrossentropySoftmax1Hot,
                   GpuRule(_xent, device_inputs=lambda op, n: [0],
                           supports=_one_float("crossentropy")))
    impls.register("gpu", nnet.CrossentropySoftmax1HotDx,
                   GpuRule(_xent_dx, device_inputs=lambda op, n: [0, 1],
                           supports=_one_float("crossentropy gradient")))
    families = (("conv2d", (nnet.Conv2d, nnet.Conv2dGradWeights, nnet.Conv2dGradInputs),
                 (_conv, _conv_gw, _conv_gi)),
                ("conv3d", (nnet.Conv3d, nnet.Conv3dGradWeights, nnet.Conv3dGradInputs),
                 (_conv3d, _conv3d_gw, _conv3d_gi)))
    for what, (fwd, gw, gi), (run_fwd, run_gw, run_gi) in families:
        conv = _conv_supports(what)
        impls.register("gpu", fwd, GpuRule(run_fwd, supports=conv))
        # the gradient ops' shape vector (input 2) stays on the host
        impls.register("gpu", gw, GpuRule(run_gw, device_inputs=lambda op, n: [0, 1],
                                          supports=conv))
        impls.register("gpu", gi, GpuRule(run_gi, device_inputs=lambda op, n: [0, 1],
                                          supports=conv))
    neighbours = importlib.import_module("opcore_nnet.api.neighbours")
    grid = neighbours.patch_grid

    def _neibs(op: Any, node: Any, inputs: list) -> list:
        x, shp, step = inputs
        return [NB.neibs_run(grid, op.mode, x, shp, step, node.outputs[0].type.dtype)]

    def _neibs_grad(op: Any, node: Any, inputs: list) -> list:
        g, shp, step, shape = inputs
        return [NB.neibs_grad_run(grid, op.mode, g, shp, step, shape,
                                  node.outputs[0].type.dtype)]

    neibs = _one_float("images2neibs")
    # the neighbourhood shape/step (and the image shape of the gradient) stay on the host
    impls.register("gpu", neighbours.Images2Neibs,
                   GpuRule(_neibs, device_inputs=lambda op, n: [0], supports=neibs))
    impls.register("gpu", neighbours.Neibs2ImagesGrad,
                   GpuRule(_neibs_grad, device_inputs=lambda op, n: [0], supports=neibs))
    pool = importlib.import_module("opcore_nnet.api.pool")
    impls.register("gpu", pool.Pool, GpuRule(_pool, supports=_pool_supports))
    impls.register("gpu", pool.PoolGrad, GpuRule(_pool_grad, supports=_pool_supports))
