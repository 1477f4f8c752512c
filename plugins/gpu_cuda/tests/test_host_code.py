"""The Op guide's GPU op with C host code (``gpu_kernels`` + ``c_code``), imports changed only,
compiled against the plugin's C API header and run on the OpenCL driver."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.config import config
from opcore.graph.basic import Apply
from opcore.graph.op import Op
from opcore_gpu_cuda.fp16_help import write_w
from opcore_gpu_cuda.kernels import Kernel
from opcore_gpu_cuda.pygpu import gpuarray
from opcore_gpu_cuda.type import as_gpuarray_variable, host_from_gpu

pygpu = pytest.importorskip("opcore_gpu_cuda.pygpu")


class AXPBGpuC(Op):
    """As in the guide: z = 2 * x computed by kernel ``axpb`` (the guide's kernel ignores a, b)."""

    __props__ = ("a", "b", "context_name")

    def __init__(self, a, b, context_name=None):
        self.a, self.b, self.context_name = a, b, context_name
        self.dtype = "float32"

    def make_node(self, x):
        x = as_gpuarray_variable(x, self.context_name)
        return Apply(self, [x], [x.type()])

    def c_code_cache_version(self):
        return (1,)

    def gpu_kernels(self, node, name):
        code = """
KERNEL void axpb(GLOBAL_MEM %(ctype)s *x, GLOBAL_MEM  %(ctype)s *z, ga_size n, ga_size m) {
for (ga_size i = LID_0; i < n; i += LDIM_0) {
    for (ga_size j = LID_0; j < m; j += LDIM_0) {
        z[i*m + j] = %(write_a)s( 2 * x[i*m + j] );
    }
}
}""" % dict(ctype=pygpu.gpuarray.dtype_to_ctype(self.dtype),
            name=name, write_a=write_w(self.dtype))
        return [Kernel(
            code=code, name="axpb",
            params=[gpuarray.GpuArray, gpuarray.GpuArray, gpuarray.SIZE, gpuarray.SIZE],
            flags=Kernel.get_flags(self.dtype),
            objvar='k_axpb_' + name)]

    def c_code(self, node, name, inp, out, sub):
        n, = inp
        z, = out
        fail = sub['fail']
        ctx = sub['params']
        typecode = pygpu.gpuarray.dtype_to_typecode(self.dtype)
        sync = bool(config.gpuarray__sync)
        kname = self.gpu_kernels(node, name)[0].objvar
        s = """
    size_t dims[2] = {0, 0};
    size_t ls, gs;
    int err;
    dims[0] = %(n)s->ga.dimensions[0];
    dims[1] = %(n)s->ga.dimensions[1];
    Py_CLEAR(%(z)s);
    %(z)s = pygpu_zeros(2, dims,
                        %(typecode)s,
                        GA_C_ORDER,
                        %(ctx)s, Py_None);
    if (%(z)s == NULL) {
        %(fail)s
    }
    ls = 1;
    gs = 256;
    err = axpb_call(1, &gs, &ls, 0, %(n)s->ga.data, %(z)s->ga.data, dims[0], dims[1]);
    if (err != GA_NO_ERROR) {
        PyErr_Format(PyExc_RuntimeError,
                     "gpuarray error: kEye: %%s. n%%lu, m=%%lu.",
                     GpuKernel_error(&%(kname)s, err),
                     (unsigned long)dims[0], (unsigned long)dims[1]);
        %(fail)s;
    }
    if(%(sync)d)
        GpuArray_sync(&%(z)s->ga);
    """ % locals()
        return s


def test_op_guide_axpb_c_host_code(gpu_flags):
    x = T.fmatrix("x")
    f = opcore.function([x], host_from_gpu(AXPBGpuC(4, 5)(x * 3)))
    xv = np.random.default_rng(0).random((5, 7), dtype="float32")
    np.testing.assert_allclose(f(xv), 2 * (3 * xv), rtol=1e-6)
    # a second call reuses the output buffer path (Py_CLEAR of the previous output)
    np.testing.assert_allclose(f(xv + 1), 2 * (3 * (xv + 1)), rtol=1e-6)


def test_host_code_compile_error_is_reported(gpu_flags):
    class Broken(AXPBGpuC):
        def c_code(self, node, name, inp, out, sub):
            return "this is not C;"

    from opcore_gpu_cuda.chost import HostCodeError

    x = T.fmatrix("x")
    with pytest.raises(HostCodeError, match="failed to compile"):
        opcore.function([x], host_from_gpu(Broken(1, 2)(x)))


def test_host_code_kernel_launch_error(gpu_flags):
    class BadLaunch(AXPBGpuC):
        def c_code(self, node, name, inp, out, sub):
            code = super().c_code(node, name, inp, out, sub)
            return code.replace("axpb_call(1, &gs, &ls, 0,", "axpb_call(1, &gs, &ls, 0 * 1,") \
                .replace("ls = 1;", "ls = 100000000;")

    x = T.fmatrix("x")
    f = opcore.function([x], host_from_gpu(BadLaunch(1, 2)(x)))
    with pytest.raises(RuntimeError, match="gpuarray error: kEye"):
        f(np.ones((2, 2), "float32"))


def test_host_code_op_with_explicit_context_runs_inside_a_cpu_function(ctx):
    """device=cpu: the function is the C backend's, but the node whose types are the GPU's runs
    on the gpu backend's host-code path inside it (it used to be handed to the C compiler)."""
    from opcore.plugins import get_host

    assert str(config.device) == "cpu"
    x = T.fmatrix("x")
    f = opcore.function([x], host_from_gpu(AXPBGpuC(4, 5, context_name=ctx.name)(x * 3)))
    backend = get_host().select_backend().name
    if backend == "c":
        assert f.linker.c_nodes, "the host part (x * 3) should be C"
        assert not any(isinstance(n.op, AXPBGpuC) for n in f.linker.c_nodes)
    xv = np.random.default_rng(1).random((4, 6), dtype="float32")
    np.testing.assert_allclose(f(xv), 2 * (3 * xv), rtol=1e-6)


def test_gpu_backend_supports_ops_with_host_code():
    from opcore.plugins import get_host
    from opcore.scalar import basic as S
    from opcore.tensor.elemwise import Elemwise

    gpu = get_host().ensure_loaded().backends["gpu"]
    assert gpu.supports_op(AXPBGpuC(1, 2)) == (True, "")  # through the gpu_kernels adapter
    assert gpu.supports_op(Elemwise(S.exp)) == (True, "")  # a GpuRule

    class NoKernel(Op):
        pass

    ok, reason = gpu.supports_op(NoKernel())
    assert not ok and "no GPU kernel" in reason
