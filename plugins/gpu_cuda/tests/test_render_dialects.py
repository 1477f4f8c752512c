"""The GPU kernels' scalar expressions come from the one renderer (opcore.cbuild.render), so they
have the C backend's NumPy semantics: NaN propagation, integer wrapping, exact int64/uint64
comparisons; checked against NumPy on the OpenCL device (PoCL in CI) and compiled by NVRTC."""

from __future__ import annotations

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.cbuild import render
from opcore.config import config
from opcore.scalar import basic as S
from opcore_gpu_cuda import kernels as K
from opcore_gpu_cuda import nvrtc


def _nan_and_wrap_kernels():
    nan_max = S.Composite(1, ("float32",), [
        (S.maximum, (("i", 0), ("c", float("nan"), "float32")), "float32"),
        (S.minimum, (("s", 0), ("c", float("inf"), "float32")), "float32")], (1,))
    wrap = S.Composite(2, ("int64", "uint64"), [
        (S.mul, (("i", 0), ("c", 3, "int64")), "int64"),
        (S.lt, (("s", 0), ("i", 1)), "bool")], (1,))
    return [
        ("nan_max", K.elemwise_source("k_nan_max", 1, ["float32"], ["float32"],
                                      K.scalar_body(nan_max, ["float32"], ["float32"]))),
        ("wrap_cmp", K.elemwise_source("k_wrap_cmp", 1, ["int64", "uint64"], ["bool"],
                                       K.scalar_body(wrap, ["int64", "uint64"], ["bool"]))),
    ]


def test_gpu_dialects_spell_the_numpy_c_names_their_own_way():
    for _, src in _nan_and_wrap_kernels():
        assert "npy_" not in src and "NPY_" not in src
    src = dict(_nan_and_wrap_kernels())
    assert "GA_NAN" in src["nan_max"] and "GA_INFINITY" in src["nan_max"]
    assert "ga_ulong" in src["wrap_cmp"]
    assert render.CUDA.spell("(npy_uint64)NPY_NAN") == "(ga_ulong)GA_NAN"
    assert render.C.spell("(npy_uint64)NPY_NAN") == "(npy_uint64)NPY_NAN"


@pytest.mark.skipif(not nvrtc.available(), reason="NVRTC not installed")
def test_nan_and_wrap_kernels_compile_with_nvrtc():
    for name, src in _nan_and_wrap_kernels():
        assert nvrtc.compile_cuda(src, name=f"{name}.cu", arch="sm_75")  # adds the preamble


def test_gpu_elemwise_gives_numpys_answers(gpu_flags):
    x = T.vector("x")
    i = T.lvector("i")
    u = T.vector("u", dtype="uint64")
    f = opcore.function([x, i, u], [T.maximum(x, 0), T.minimum(x, np.nan), T.sgn(x),
                                    i * 3 + 2 ** 62, T.lt(i, u)])
    assert type(f.linker).__name__ == "GpuLinker"
    xv = np.array([np.nan, 1.5, -1.0, 0.0, np.inf], dtype=config.floatX)
    iv = np.array([2 ** 62, -5, 7, 0, -(2 ** 63)], dtype="int64")
    uv = np.array([1, 2 ** 63, 3, 0, 5], dtype="uint64")
    want = [np.maximum(xv, 0), np.minimum(xv, np.nan), np.sign(xv), iv * 3 + 2 ** 62,
            np.less(iv, uv)]
    for got, ref in zip(f(xv, iv, uv), want):
        np.testing.assert_array_equal(got, ref)
