"""Theano's ``theano.tensor.signal.conv.conv2d``: 2-d convolution of single-channel signals."""

from __future__ import annotations

from typing import Any

from opcore.tensor.basic import as_tensor_variable

from opcore_nnet.conv import Conv2d

__all__ = ["conv2d"]


def conv2d(input: Any, filters: Any, image_shape: Any = None, filter_shape: Any = None,
           border_mode: str = "valid", subsample: Any = (1, 1), **kargs: Any) -> Any:
    """Convolve 2-d images with 2-d filters (a true convolution, as ``scipy.signal.convolve2d``).

    ``input``: one image (rows, cols) or a stack (n_images, rows, cols); ``filters``: one filter
    (rows, cols) or a stack (n_filters, rows, cols).  The result is
    ``([n_images,] [n_filters,] out_rows, out_cols)``: the stack axes present in the inputs, in
    that order.  ``border_mode`` is ``'valid'`` or ``'full'``; ``subsample`` the strides.  The
    shape arguments and ConvOp tuning keywords are accepted and not needed.
    """
    x, w = as_tensor_variable(input), as_tensor_variable(filters)
    if x.ndim not in (2, 3) or w.ndim not in (2, 3):
        raise TypeError(f"signal.conv.conv2d: input and filters must be 2-d or 3-d, got "
                        f"{x.type} and {w.type}")
    if border_mode not in ("valid", "full"):
        raise ValueError(f"signal.conv.conv2d: border_mode must be 'valid' or 'full', got "
                         f"{border_mode!r}")
    x4 = x.dimshuffle(*((0, "x") if x.ndim == 3 else ("x", "x")), x.ndim - 2, x.ndim - 1)
    w4 = w.dimshuffle(*((0, "x") if w.ndim == 3 else ("x", "x")), w.ndim - 2, w.ndim - 1)
    out = Conv2d(border_mode, subsample)(x4, w4)
    keep = [a for a, present in ((0, x.ndim == 3), (1, w.ndim == 3)) if present]
    if len(keep) == 2:
        return out
    return out.reshape([out.shape[a] for a in keep] + [out.shape[2], out.shape[3]],
                       ndim=len(keep) + 2)
