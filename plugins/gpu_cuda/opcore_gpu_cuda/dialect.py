"""The libgpuarray kernel dialect: type codes, C type names and one preamble per driver.

A kernel written with ``KERNEL``, ``GLOBAL_MEM``, ``LID_0``, ``ga_size``... compiles unchanged on
CUDA (NVRTC) and OpenCL because each driver prepends its own definitions of those names.  A line
``#include "cluda.h"`` (or ``<cluda.h>``) in a kernel is accepted and dropped: the preamble *is*
that header.
"""

from __future__ import annotations

import re

import numpy as np

from opcore.cbuild.ctypes import ga_ctype

# Type codes, numbered as in libgpuarray's ``gpuarray/types.h`` for the common types.
GA_BOOL, GA_BYTE, GA_UBYTE, GA_SHORT, GA_USHORT, GA_INT, GA_UINT = 0, 1, 2, 3, 4, 5, 6
GA_LONG, GA_ULONG, GA_FLOAT, GA_DOUBLE, GA_HALF = 7, 8, 11, 12, 23
GA_SIZE, GA_SSIZE = -10, -11  # host size_t / ssize_t (kernel ga_size / ga_ssize)
GA_BUFFER = -1  # what ``gpuarray.GpuArray`` stands for in a parameter list

_DTYPE_TO_CODE = {
    "bool": GA_BOOL, "int8": GA_BYTE, "uint8": GA_UBYTE, "int16": GA_SHORT,
    "uint16": GA_USHORT, "int32": GA_INT, "uint32": GA_UINT, "int64": GA_LONG,
    "uint64": GA_ULONG, "float32": GA_FLOAT, "float64": GA_DOUBLE, "float16": GA_HALF,
}
_CODE_TO_DTYPE = {v: k for k, v in _DTYPE_TO_CODE.items()}
_CODE_TO_DTYPE[GA_SIZE] = "uint64"
_CODE_TO_DTYPE[GA_SSIZE] = "int64"



def dtype_to_typecode(dtype) -> int:
    """libgpuarray type code of a NumPy dtype (``'float32'`` -> ``GA_FLOAT``)."""
    name = np.dtype(dtype).name
    try:
        return _DTYPE_TO_CODE[name]
    except KeyError:
        raise TypeError(f"dtype_to_typecode: no GPU type for dtype {name!r}") from None


def typecode_to_dtype(code: int) -> np.dtype:
    """NumPy dtype of a libgpuarray type code."""
    try:
        return np.dtype(_CODE_TO_DTYPE[int(code)])
    except KeyError:
        raise TypeError(f"typecode_to_dtype: unknown type code {code!r}") from None


def dtype_to_ctype(dtype) -> str:
    """Kernel C type of a NumPy dtype (``'float32'`` -> ``'ga_float'``)."""
    name = np.dtype(dtype).name
    try:
        return ga_ctype(name)
    except KeyError:
        raise TypeError(f"dtype_to_ctype: no GPU type for dtype {name!r}") from None


_TYPES_CUDA = """
typedef unsigned char ga_bool;
typedef signed char ga_byte;
typedef unsigned char ga_ubyte;
typedef short ga_short;
typedef unsigned short ga_ushort;
typedef int ga_int;
typedef unsigned int ga_uint;
typedef long long ga_long;
typedef unsigned long long ga_ulong;
typedef float ga_float;
typedef double ga_double;
typedef unsigned long long ga_size;
typedef long long ga_ssize;
typedef struct _ga_half { unsigned short data; } ga_half;
"""

CUDA_PREAMBLE = _TYPES_CUDA + r"""
#define KERNEL extern "C" __global__
#define WITHIN_KERNEL __device__
#define GLOBAL_MEM
#define LOCAL_MEM __shared__
#define LOCAL_MEM_ARG
#define REQD_WG_SIZE(x, y, z) __launch_bounds__(x * y * z)
#define LID_0 threadIdx.x
#define LID_1 threadIdx.y
#define LID_2 threadIdx.z
#define LDIM_0 blockDim.x
#define LDIM_1 blockDim.y
#define LDIM_2 blockDim.z
#define GID_0 blockIdx.x
#define GID_1 blockIdx.y
#define GID_2 blockIdx.z
#define GDIM_0 gridDim.x
#define GDIM_1 gridDim.y
#define GDIM_2 gridDim.z
#define local_barrier() __syncthreads()
#define ga_isnan(x) isnan(x)
#define GA_NAN __int_as_float(0x7fc00000)
#define GA_INFINITY __int_as_float(0x7f800000)
WITHIN_KERNEL float ga_half2float(ga_half h) {
  float r; asm("{ cvt.f32.f16 %0, %1; }\n" : "=f"(r) : "h"(h.data)); return r;
}
WITHIN_KERNEL ga_half ga_float2half(float f) {
  ga_half r; asm("{ cvt.rn.f16.f32 %0, %1; }\n" : "=h"(r.data) : "f"(f)); return r;
}
#define load_half(p) ga_half2float(*(p))
#define store_half(p, v) (*(p) = ga_float2half(v))
WITHIN_KERNEL int atom_add_ig(int *a, int b) { return atomicAdd(a, b); }
WITHIN_KERNEL int atom_add_il(int *a, int b) { return atomicAdd(a, b); }
WITHIN_KERNEL float atom_add_fg(float *a, float b) { return atomicAdd(a, b); }
WITHIN_KERNEL float atom_add_fl(float *a, float b) { return atomicAdd(a, b); }
WITHIN_KERNEL int atom_xchg_ig(int *a, int b) { return atomicExch(a, b); }
"""

OPENCL_PREAMBLE = r"""
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#ifdef cl_khr_fp16
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#endif
#define KERNEL __kernel
#define WITHIN_KERNEL
#define GLOBAL_MEM __global
#define LOCAL_MEM __local
#define LOCAL_MEM_ARG __local
#define REQD_WG_SIZE(x, y, z) __attribute__((reqd_work_group_size(x, y, z)))
#define LID_0 get_local_id(0)
#define LID_1 get_local_id(1)
#define LID_2 get_local_id(2)
#define LDIM_0 get_local_size(0)
#define LDIM_1 get_local_size(1)
#define LDIM_2 get_local_size(2)
#define GID_0 get_group_id(0)
#define GID_1 get_group_id(1)
#define GID_2 get_group_id(2)
#define GDIM_0 get_num_groups(0)
#define GDIM_1 get_num_groups(1)
#define GDIM_2 get_num_groups(2)
#define local_barrier() barrier(CLK_LOCAL_MEM_FENCE)
#define ga_isnan(x) isnan(x)
#define GA_NAN NAN
#define GA_INFINITY INFINITY
typedef uchar ga_bool;
typedef char ga_byte;
typedef uchar ga_ubyte;
typedef short ga_short;
typedef ushort ga_ushort;
typedef int ga_int;
typedef uint ga_uint;
typedef long ga_long;
typedef ulong ga_ulong;
typedef float ga_float;
typedef double ga_double;
typedef half ga_half;
typedef ulong ga_size;
typedef long ga_ssize;
#define ga_half2float(h) ((float)(h))
#define ga_float2half(f) ((half)(f))
#define load_half(p) vload_half(0, (p))
#define store_half(p, v) vstore_half_rte((v), 0, (p))
#define atom_add_ig(a, b) atomic_add(a, b)
#define atom_add_il(a, b) atomic_add(a, b)
#define atom_xchg_ig(a, b) atomic_xchg(a, b)
WITHIN_KERNEL float atom_add_fg(volatile GLOBAL_MEM float *addr, float val) {
  union { unsigned int u; float f; } old, next;
  do {
    old.f = *addr;
    next.f = old.f + val;
  } while (atomic_cmpxchg((volatile GLOBAL_MEM unsigned int *)addr, old.u, next.u) != old.u);
  return old.f;
}
WITHIN_KERNEL float atom_add_fl(volatile LOCAL_MEM float *addr, float val) {
  union { unsigned int u; float f; } old, next;
  do {
    old.f = *addr;
    next.f = old.f + val;
  } while (atomic_cmpxchg((volatile LOCAL_MEM unsigned int *)addr, old.u, next.u) != old.u);
  return old.f;
}
"""

_CLUDA_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*["<]cluda\.h[">][ \t]*$', re.M)


def strip_cluda_include(code: str) -> str:
    """Drop ``#include "cluda.h"`` lines: the driver's preamble provides the same names."""
    return _CLUDA_INCLUDE.sub("", code)


def full_source(code: str, driver: str) -> str:
    """``code`` with the preamble of ``driver`` (``'cuda'`` or ``'opencl'``) in front."""
    if driver == "cuda":
        pre = CUDA_PREAMBLE
    elif driver == "opencl":
        pre = OPENCL_PREAMBLE
    else:
        raise ValueError(f"unknown GPU driver {driver!r}: expected 'cuda' or 'opencl'")
    return pre + "\n#line 1\n" + strip_cluda_include(code)
