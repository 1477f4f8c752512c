"""Convolutions Theano builds from the basic ones: transposed, separable (depthwise then
pointwise), causal 1-d, and bilinear upsampling (a transposed convolution with a triangle
kernel).  Each is a graph of :mod:`opcore_nnet.conv` ops, so gradients come for free."""

from __future__ import annotations

from typing import Any

import numpy as np

import opcore.tensor as T
from opcore.config import config
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet.conv import (Conv2d, _no_unshared, conv2d, conv2d_grad_wrt_inputs, conv3d)

__all__ = ["conv2d_transpose", "separable_conv2d", "separable_conv3d", "causal_conv1d",
           "bilinear_kernel_1D", "bilinear_kernel_2D", "bilinear_upsampling"]


def conv2d_transpose(input: Any, filters: Any, output_shape: Any, filter_shape: Any = None,
                     border_mode: Any = "valid", input_dilation: Any = (1, 1),
                     filter_flip: bool = True, filter_dilation: Any = (1, 1),
                     num_groups: int = 1, unshared: bool = False) -> Any:
    """Theano's ``T.nnet.conv2d_transpose``: the transpose of :func:`conv2d` (a "deconvolution").

    ``input`` (b, k, h, w), ``filters`` (k, c // num_groups, fh, fw) (the filters of the
    convolution being transposed), ``output_shape`` the (b, c, H, W) result shape (or its last
    two entries): with strides ``input_dilation`` several output sizes map to one input size,
    so it must be given.  Equal to ``conv2d_grad_wrt_inputs(input, filters, output_shape, ...,
    subsample=input_dilation)``.
    """
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode,
                                  input_dilation, filter_flip, filter_dilation, num_groups,
                                  unshared)


def separable_conv2d(input: Any, depthwise_filters: Any, pointwise_filters: Any,
                     num_channels: int, input_shape: Any = None,
                     depthwise_filter_shape: Any = None, pointwise_filter_shape: Any = None,
                     border_mode: Any = "valid", subsample: Any = (1, 1),
                     filter_flip: bool = True, filter_dilation: Any = (1, 1)) -> Any:
    """A depthwise convolution (one group per input channel: ``depthwise_filters`` of shape
    (channels * multiplier, 1, fh, fw)) followed by a 1x1 pointwise convolution
    (``pointwise_filters`` (k, channels * multiplier, 1, 1)).  ``num_channels`` is the number
    of input channels; ``border_mode``/``subsample``/``filter_dilation`` apply to the depthwise
    step."""
    depth = conv2d(input, depthwise_filters, border_mode=border_mode, subsample=subsample,
                   filter_flip=filter_flip, filter_dilation=filter_dilation,
                   num_groups=num_channels)
    return conv2d(depth, pointwise_filters, filter_flip=filter_flip)


def separable_conv3d(input: Any, depthwise_filters: Any, pointwise_filters: Any,
                     num_channels: int, input_shape: Any = None,
                     depthwise_filter_shape: Any = None, pointwise_filter_shape: Any = None,
                     border_mode: Any = "valid", subsample: Any = (1, 1, 1),
                     filter_flip: bool = True, filter_dilation: Any = (1, 1, 1)) -> Any:
    """:func:`separable_conv2d` with 5-d inputs and filters."""
    depth = conv3d(input, depthwise_filters, border_mode=border_mode, subsample=subsample,
                   filter_flip=filter_flip, filter_dilation=filter_dilation,
                   num_groups=num_channels)
    return conv3d(depth, pointwise_filters, filter_flip=filter_flip)


def causal_conv1d(input: Any, filters: Any, filter_shape: Any, input_shape: Any = None,
                  subsample: int = 1, filter_flip: bool = True, filter_dilation: int = 1,
                  num_groups: int = 1, unshared: bool = False) -> Any:
    """Theano's dilated causal 1-d convolution: the output at time ``t`` sees inputs up to ``t``.

    ``input`` (b, c, n), ``filters`` (k, c // num_groups, f) with ``filter_shape`` (k, c, f)
    given as ints; returns (b, k, (n - 1) // subsample + 1).  The input is zero-padded by
    ``filter_dilation * (f - 1)`` on the left only, then convolved as a (n, 1) image.
    """
    _no_unshared(unshared, "causal_conv1d")
    if len(filter_shape) != 3:
        raise ValueError(f"causal_conv1d: filter_shape must have 3 entries, got {filter_shape}")
    x = as_tensor_variable(input)
    left = int(filter_dilation) * (int(filter_shape[2]) - 1)
    if left:
        zeros = T.zeros((x.shape[0], x.shape[1], left), dtype=x.dtype)
        x = T.concatenate([zeros, x], axis=2)
    op = Conv2d("valid", (int(subsample), 1), (int(filter_dilation), 1), num_groups, filter_flip)
    out = op(x.dimshuffle(0, 1, 2, "x"), as_tensor_variable(filters).dimshuffle(0, 1, 2, "x"))
    return out.reshape((out.shape[0], out.shape[1], out.shape[2]), ndim=3)


def bilinear_kernel_1D(ratio: int, normalize: bool = True) -> Any:
    """The triangle ``[1, 2, ..., ratio, ..., 2, 1]`` (divided by ``ratio`` when ``normalize``),
    a constant vector of ``floatX``: linear interpolation as a transposed-convolution kernel."""
    r = int(ratio)
    kern = np.concatenate([np.arange(1, r + 1), np.arange(r - 1, 0, -1)]).astype(config.floatX)
    return T.constant(kern / r if normalize else kern)


def bilinear_kernel_2D(ratio: Any, normalize: bool = True) -> Any:
    """The outer product of the row and column :func:`bilinear_kernel_1D` (``ratio`` an int or
    a (rows, cols) pair)."""
    rv, rh = (ratio, ratio) if not isinstance(ratio, tuple) else ratio
    return (bilinear_kernel_1D(rv, normalize).dimshuffle(0, "x")
            * bilinear_kernel_1D(rh, normalize).dimshuffle("x", 0))


def bilinear_upsampling(input: Any, ratio: Any = None, frac_ratio: Any = None,
                        batch_size: Any = None, num_input_channels: Any = None,
                        use_1D_kernel: bool = True) -> Any:
    """Theano's bilinear upsampling of a (b, c, rows, cols) tensor by an integer ``ratio``.

    The borders are replicated one pixel on each side, then a transposed convolution with the
    :func:`bilinear_kernel_1D` triangle (stride ``ratio``) runs along rows and then columns (or
    once with the 2-d kernel when ``use_1D_kernel=False``); the result is (b, c, rows * ratio,
    cols * ratio).  ``frac_ratio`` (fractional ratios) raises ``NotImplementedError``.
    """
    if frac_ratio is not None or ratio is None:
        raise NotImplementedError("bilinear_upsampling: only an integer ratio is implemented "
                                  "(frac_ratio is not)")
    r = int(ratio)
    x = as_tensor_variable(input)
    row, col = x.shape[2], x.shape[3]
    flat = x.reshape((-1, 1, row, col), ndim=4)
    padded = T.concatenate([flat[:, :, :1, :], flat, flat[:, :, -1:, :]], axis=2)
    padded = T.concatenate([padded[:, :, :, :1], padded, padded[:, :, :, -1:]], axis=3)
    pad = 2 * r - (r - 1) // 2 - 1
    if use_1D_kernel:
        kern = bilinear_kernel_1D(r)
        rows = conv2d_grad_wrt_inputs(padded, kern.dimshuffle("x", "x", 0, "x"),
                                      (row * r, col + 2), border_mode=(pad, 0),
                                      subsample=(r, 1))
        up = conv2d_grad_wrt_inputs(rows, kern.dimshuffle("x", "x", "x", 0),
                                    (row * r, col * r), border_mode=(0, pad), subsample=(1, r))
    else:
        kern = bilinear_kernel_2D(r)
        up = conv2d_grad_wrt_inputs(padded, kern.dimshuffle("x", "x", 0, 1),
                                    (row * r, col * r), border_mode=(pad, pad),
                                    subsample=(r, r))
    return up.reshape((x.shape[0], x.shape[1], row * r, col * r), ndim=4)
