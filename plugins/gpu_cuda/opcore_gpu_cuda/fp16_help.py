"""Theano's ``gpuarray.fp16_help``: names for loading/storing values of a dtype in kernels.

float16 arrays are stored as ``ga_half`` and computed in float32 (``load_half``/``store_half``);
other dtypes need no conversion, so the helpers return empty names.
"""

from __future__ import annotations

import numpy as np


def work_dtype(dtype) -> str:
    """The dtype arithmetic is done in (float32 for float16)."""
    return "float32" if np.dtype(dtype) == np.float16 else np.dtype(dtype).name


def load_w(dtype) -> str:
    """A function name converting a stored value to the work dtype ('' when none is needed)."""
    return "ga_half2float" if np.dtype(dtype) == np.float16 else ""


def write_w(dtype) -> str:
    """A function name converting a work value to the stored dtype ('' when none is needed)."""
    return "ga_float2half" if np.dtype(dtype) == np.float16 else ""
