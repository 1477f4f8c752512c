"""Graphs on the ``gpu`` backend (OpenCL/PoCL) against the Python backend, the gpu_lift rewrites,
and the Op guide's AXPB GPU op written with the pygpu subset."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore_gpu_cuda.ops import GpuOp
from opcore_gpu_cuda.type import (
    GpuArrayType, GpuFromHost, HostFromGpu, as_gpuarray_variable, get_context, host_from_gpu,
)

rng = np.random.default_rng(1)


def _nodes(f):
    return [n.op for n in f.maker.fgraph.toposort()]


def _compare(inputs, outputs, values, rtol=1e-5):
    ref = opcore.function(inputs, outputs, mode=opcore.Mode(backend="py"))(*values)
    f = opcore.function(inputs, outputs)
    got = f(*values)
    assert f.maker.backend.name == "gpu"
    from opcore_gpu_cuda.array import GpuArray

    for g, r in zip(got if isinstance(got, list) else [got], ref if isinstance(ref, list)
                    else [ref]):
        if isinstance(g, GpuArray):  # e.g. the gradient w.r.t. a device shared variable
            g, r = g.get(), r.get() if isinstance(r, GpuArray) else r
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, r, rtol=rtol, atol=1e-6)
    return f


def test_mlp_layer_runs_on_device(gpu_flags):
    x, W, b = T.fmatrix("x"), T.fmatrix("W"), T.fvector("b")
    out = T.tanh(T.dot(x, W) + b).sum(axis=1) * 2 + x[1:, ::2].max()
    vals = [rng.random((4, 5), dtype="float32"), rng.random((5, 3), dtype="float32"),
            rng.random(3, dtype="float32")]
    f = _compare([x, W, b], out, vals)
    ops = _nodes(f)
    assert any(isinstance(o, GpuOp) and "Dot" in str(o) for o in ops)
    assert any(isinstance(o, GpuOp) and "Sum" in str(o) for o in ops)
    # transfers only at the borders: inputs in, one result out
    assert sum(isinstance(o, HostFromGpu) for o in ops) == 1
    assert all(isinstance(o, (GpuOp, GpuFromHost, HostFromGpu)) for o in ops)


def test_join_alloc_dimshuffle_subtensor(gpu_flags):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    s = T.dscalar("s")
    out = T.concatenate([a, b[::-1]], axis=1).T[1:] + T.alloc(s, 4, 4).dimshuffle(1, 0)[0]
    _compare([a, b, s], out, [rng.random((4, 2)), rng.random((4, 3)), np.float64(2.5)])


def test_gradient_step_on_device(gpu_flags):
    x, y = T.dmatrix("x"), T.dvector("y")
    w = opcore.shared(rng.random(3), name="w")
    cost = T.sqr(T.dot(x, w) - y).mean()
    gw = opcore.grad(cost, w)
    vals = [rng.random((8, 3)), rng.random(8)]
    _compare([x, y], [cost, gw], vals, rtol=1e-9)


def test_unsupported_ops_stay_on_host(gpu_flags):
    x = T.lvector("x")
    out = T.invert(x) * 2  # bitwise invert has no C-family template: it stays on the host
    f = _compare([x], out, [np.arange(10)])
    assert any(not isinstance(o, GpuOp) and "invert" in str(o) for o in _nodes(f))


def test_transfers_cancel_and_types(ctx):
    x = T.fmatrix("x")
    g = as_gpuarray_variable(x, ctx.name)
    assert isinstance(g.type, GpuArrayType) and g.type.context_name == ctx.name
    assert as_gpuarray_variable(host_from_gpu(g), ctx.name) is g
    assert as_gpuarray_variable(g, ctx.name) is g
    with pytest.raises(TypeError, match="expected a GpuArrayType"):
        HostFromGpu()(x)
    t = GpuArrayType("float32", (False, True), ctx.name)
    with pytest.raises(TypeError, match="dimension 1"):
        t.filter(np.zeros((2, 3), "float32"))
    assert t.filter(np.zeros((2, 1), "float32")).shape == (2, 1)


def test_cpu_device_means_backend_unavailable():
    from opcore.config import config
    from opcore_gpu_cuda.plugin import gpu_available

    with config.change_flags(device="cpu"):
        ok, reason = gpu_available()
    assert not ok and "not a GPU" in reason


# -- the Op guide's AXPB op, GPU form (1): pygpu's GpuElemwise in perform ------------------------
from opcore_gpu_cuda import pygpu  # noqa: E402  (the guide's ``import pygpu``)


class GpuAXPBOp(Op):
    __props__ = ("a", "b", "context_name")

    def __init__(self, a, b, context_name=None):
        self.a, self.b, self.context_name = a, b, context_name

    def make_node(self, x):
        x = as_gpuarray_variable(x, self.context_name)
        x_arg = pygpu.elemwise.arg("x", "float32", read=True)
        c_arg = pygpu.elemwise.arg("c", "float32", read=True, write=True)
        self.my_op = pygpu.elemwise.GpuElemwise(get_context(self.context_name),
                                                "c = " + str(self.a) + " * x + " + str(self.b),
                                                [x_arg, c_arg], convert_f16=True)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = pygpu.empty(x.shape, dtype=x.dtype, context=get_context(self.context_name))
        self.my_op(x, z[0])


def test_op_guide_axpb_python_form(gpu_flags):
    x = T.fmatrix("x")
    y = host_from_gpu(GpuAXPBOp(4, 5)(2 * x)) + 4
    f = opcore.function([x], y)
    xv = rng.random((3, 4), dtype="float32")
    np.testing.assert_allclose(f(xv), 4 * (2 * xv) + 5 + 4, rtol=1e-6)
    assert str(GpuAXPBOp(4, 5)) == "GpuAXPBOp{a=4, b=5, context_name=None}"
    # the mul before the op was lifted too: no transfer between it and the op
    nodes = f.maker.fgraph.toposort()
    assert sum(isinstance(n.op, HostFromGpu) for n in nodes) == 1
    moved = [n.inputs[0] for n in nodes if isinstance(n.op, GpuFromHost)]
    xin = f.maker.fgraph.inputs[0]
    assert any(v is xin for v in moved) and all(v.owner is None for v in moved)


def test_fused_elemwise_and_blas_on_device(gpu_flags):
    x, W, v = T.fmatrix("x"), T.fmatrix("W"), T.fvector("v")
    out = T.tanh(x + 2 * x ** 3).sum() + T.dot(W, v).sum() + (T.dot(x, W) * 0.5 + x[:, :3]).sum()
    vals = [rng.random((4, 5), dtype="float32"), rng.random((5, 3), dtype="float32"),
            rng.random(3, dtype="float32")]
    f = _compare([x, W, v], out, vals, rtol=1e-4)
    names = [str(o) for o in _nodes(f)]
    assert any(n.startswith("GpuElemwise{Composite{") for n in names), names
    assert any("Gemv" in n or "Dot" in n for n in names), names


def test_nnet_softmax_family_on_device(gpu_flags):
    nnet = pytest.importorskip("opcore_nnet.softmax")
    x, t = T.dmatrix("x"), T.dmatrix("t")
    sm = nnet.Softmax(-1)(x)
    lsm = nnet.LogSoftmax(0)(x)
    cost = (sm * t).sum() + lsm.sum()
    gx = opcore.grad(cost, x)
    f = _compare([x, t], [sm, lsm, gx], [rng.random((5, 7)) * 4, rng.random((5, 7))], rtol=1e-9)
    names = [str(o) for o in _nodes(f)]
    assert any(n.startswith("GpuSoftmax") for n in names), names
    assert any(n.startswith("GpuLogSoftmax") for n in names), names


def test_gpu_info_command_lists_devices(ctx, capsys):
    from opcore_gpu_cuda.basic_ops import Kernel as K2, infer_context_name
    from opcore_gpu_cuda.info import run_gpu_info
    from opcore_gpu_cuda.kernels import Kernel as K1

    assert K2 is K1
    assert infer_context_name(T.dmatrix(), as_gpuarray_variable(T.dmatrix(), ctx.name)) == ctx.name
    assert run_gpu_info(None) == 0
    out = capsys.readouterr().out
    assert ctx.name in out and "NVRTC" in out


def test_device_resident_shared_weights(gpu_flags):
    from opcore_gpu_cuda.shared import gpu_shared

    X, Y, w0 = rng.random((8, 3)), rng.random(8), rng.random(3)
    w = gpu_shared(w0.copy(), name="w")
    x, y = T.dmatrix("x"), T.dvector("y")
    cost = T.sqr(T.dot(x, w) - y).mean()
    f = opcore.function([x, y], cost, updates=[(w, w - 0.1 * opcore.grad(cost, w))])
    wr = w0.copy()
    for _ in range(3):
        got = f(X, Y)
        r = X @ wr - Y
        np.testing.assert_allclose(got, (r ** 2).mean(), rtol=1e-12)
        wr = wr - 0.1 * (2 * X.T @ r / len(Y))
    np.testing.assert_allclose(w.get_value(), wr, rtol=1e-12)
    # the weights never cross to the host: no transfer reads or writes w
    for n in f.maker.fgraph.toposort():
        if isinstance(n.op, (GpuFromHost, HostFromGpu)):
            assert all(i.name != "w" for i in n.inputs)
    w.set_value(np.zeros(3))
    assert np.array_equal(w.get_value(), np.zeros(3))


def test_opcore_shared_lives_on_device(gpu_flags):
    from opcore_gpu_cuda.array import GpuArray
    from opcore_gpu_cuda.shared import GpuArraySharedVariable

    X, Y = rng.random((10, 4)).astype("float32"), rng.random(10).astype("float32")
    w0, b0 = rng.random(4).astype("float32"), np.float32(0.5)
    w = opcore.shared(w0.copy(), name="w")
    b = opcore.shared(b0, name="b")                       # a NumPy scalar stays on the host
    steps = opcore.shared(np.int64(0), name="steps")
    iw = opcore.shared(np.arange(3), name="iw")            # integers stay on the host
    host = opcore.shared(w0.copy(), name="host", target="cpu")
    assert isinstance(w, GpuArraySharedVariable)
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), GpuArray)
    for v in (b, steps, iw, host):
        assert not isinstance(v, GpuArraySharedVariable), v
    x, y = T.fmatrix("x"), T.fvector("y")
    cost = T.sqr(T.dot(x, w) + b - y).mean()
    gw = opcore.grad(cost, w)
    f = opcore.function([x, y], cost, updates=[(w, w - np.float32(0.1) * gw),
                                               (steps, steps + 1)])
    wr = w0.astype(np.float64)
    for _ in range(3):
        got = f(X, Y)
        r = X @ wr + b0 - Y
        np.testing.assert_allclose(got, (r ** 2).mean(), rtol=1e-5)
        wr = wr - 0.1 * (2 * X.T @ r / len(Y))
    assert isinstance(w.get_value(), np.ndarray) and w.get_value().dtype == np.float32
    np.testing.assert_allclose(w.get_value(), wr, rtol=1e-5)
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), GpuArray)
    assert int(steps.get_value()) == 3
    for n in f.maker.fgraph.toposort():  # w is never transferred: the update stays on the device
        if isinstance(n.op, (GpuFromHost, HostFromGpu)):
            assert all(i.name != "w" for i in n.inputs)
    w.set_value(np.ones(4, dtype="float32"))
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), GpuArray)
    np.testing.assert_array_equal(w.get_value(), np.ones(4, dtype="float32"))


def test_opcore_shared_on_cpu_device_stays_on_host():
    from opcore_gpu_cuda.shared import GpuArraySharedVariable

    from opcore.config import config

    with config.change_flags(device="cpu"):
        v = opcore.shared(np.zeros(3, dtype="float32"))
    assert not isinstance(v, GpuArraySharedVariable)
