"""Theano's ``abstract_conv`` classes and shape helpers over opcore's convolution ops.

Theano code builds convolutions through these classes directly, for instance a transposed
convolution as ``AbstractConv2d_gradInputs(imshp, kshp, border_mode, subsample, filter_flip,
filter_dilation)(kernel, topgrad, shape)``.  Each class here is the matching op of
:mod:`opcore_nnet.conv` with Theano's constructor: ``imshp``/``kshp`` (the optional full shapes,
``None`` entries unknown) are checked against the values at run time, the other parameters
select the convolution.  Their gradients are the plain :mod:`opcore_nnet.conv` ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opcore.graph.basic import Apply

from opcore_nnet.conv import (Conv2d, Conv2dGradInputs, Conv2dGradWeights, Conv3d,
                              Conv3dGradInputs, Conv3dGradWeights, _ConvBase, _no_unshared,
                              conv2d, conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights, conv3d,
                              conv3d_grad_wrt_inputs, conv3d_grad_wrt_weights)
from opcore_nnet.conv_extra import (bilinear_kernel_1D, bilinear_kernel_2D,  # noqa: F401
                                    bilinear_upsampling, causal_conv1d, separable_conv2d,
                                    separable_conv3d)

__all__ = ["AbstractConv2d", "AbstractConv2d_gradInputs", "AbstractConv2d_gradWeights",
           "AbstractConv3d", "AbstractConv3d_gradInputs", "AbstractConv3d_gradWeights",
           "BaseAbstractConv", "conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
           "conv3d", "conv3d_grad_wrt_inputs", "conv3d_grad_wrt_weights",
           "get_conv_output_shape", "get_conv_shape_1axis", "get_conv_gradinputs_shape",
           "get_conv_gradinputs_shape_1axis", "get_conv_gradweights_shape",
           "get_conv_gradweights_shape_1axis", "bilinear_kernel_1D", "bilinear_kernel_2D",
           "bilinear_upsampling", "causal_conv1d", "separable_conv2d", "separable_conv3d"]


class BaseAbstractConv(_ConvBase):
    """Theano's constructor ``(imshp, kshp, border_mode, subsample, filter_flip,
    filter_dilation, num_groups, unshared)`` for the ops of one rank (``convdim``).

    ``imshp``/``kshp``: the full input and filter shapes (``convdim + 2`` entries, ``None``
    where unknown), checked at run time (``ValueError`` naming the op on a mismatch).
    ``unshared=True`` raises ``NotImplementedError``.  ``subsample``/``filter_dilation``
    default to ones.
    """

    def __init__(self, imshp: Any = None, kshp: Any = None, border_mode: Any = "valid",
                 subsample: Any = None, filter_flip: bool = True, filter_dilation: Any = None,
                 num_groups: int = 1, unshared: bool = False) -> None:
        _no_unshared(unshared, type(self).__name__)
        super().__init__(border_mode, subsample, filter_dilation, num_groups, filter_flip)
        n = self.convdim + 2
        self.imshp = tuple(imshp) if imshp is not None else (None,) * n
        self.kshp = tuple(kshp) if kshp is not None else (None,) * n
        for what, shp in (("imshp", self.imshp), ("kshp", self.kshp)):
            if len(shp) != n:
                raise ValueError(f"{type(self).__name__}: {what} must have {n} entries, got "
                                 f"{shp}")
        self.unshared = False

    def _check_known(self, what: str, expected: tuple, actual: tuple) -> None:
        for e, a in zip(expected, actual):
            if isinstance(e, (int, np.integer)) and e != a:
                raise ValueError(f"{self}: {what} is {tuple(actual)} but the op was built for "
                                 f"{expected}")


class _AbstractForward(BaseAbstractConv):
    def perform(self, node: Apply, inputs: list, out: list) -> None:
        self._check_known("the input shape", self.imshp, inputs[0].shape)
        self._check_known("the filter shape", self.kshp, inputs[1].shape)
        super().perform(node, inputs, out)


class _AbstractGradWeights(BaseAbstractConv):
    def make_node(self, img: Any, topgrad: Any, shape: Any,
                  add_assert_shape: bool = True) -> Apply:
        return super().make_node(img, topgrad, shape)

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        self._check_known("the input shape", self.imshp, inputs[0].shape)
        super().perform(node, inputs, out)


class _AbstractGradInputs(BaseAbstractConv):
    def make_node(self, kern: Any, topgrad: Any, shape: Any,
                  add_assert_shape: bool = True) -> Apply:
        return super().make_node(kern, topgrad, shape)

    def perform(self, node: Apply, inputs: list, out: list) -> None:
        self._check_known("the filter shape", self.kshp, inputs[0].shape)
        super().perform(node, inputs, out)


class AbstractConv2d(_AbstractForward, Conv2d):
    """Theano's forward 2-d convolution op: ``AbstractConv2d(...)(input, filters)``."""


class AbstractConv2d_gradWeights(_AbstractGradWeights, Conv2dGradWeights):
    """Theano's filter-gradient op: ``AbstractConv2d_gradWeights(...)(input, topgrad, shape)``,
    ``shape`` the filters' spatial shape."""


class AbstractConv2d_gradInputs(_AbstractGradInputs, Conv2dGradInputs):
    """Theano's input-gradient op (the transposed convolution):
    ``AbstractConv2d_gradInputs(...)(kernel, topgrad, shape)``, ``shape`` the input's spatial
    shape."""


class AbstractConv3d(_AbstractForward, Conv3d):
    """Theano's forward 3-d convolution op: ``AbstractConv3d(...)(input, filters)``."""


class AbstractConv3d_gradWeights(_AbstractGradWeights, Conv3dGradWeights):
    """Theano's 3-d filter-gradient op: ``(...)(input, topgrad, shape)``."""


class AbstractConv3d_gradInputs(_AbstractGradInputs, Conv3dGradInputs):
    """Theano's 3-d input-gradient op: ``(...)(kernel, topgrad, shape)``."""


# -- shape helpers (Theano's formulas; ints or symbolic scalars, None where unknown) -----------

def _pads(border_mode: Any, dk: Any) -> tuple:
    if border_mode == "half":
        return dk // 2, dk // 2
    if border_mode == "full":
        return dk - 1, dk - 1
    if border_mode == "valid":
        return 0, 0
    lo, hi = border_mode if isinstance(border_mode, tuple) else (border_mode, border_mode)
    if isinstance(lo, int) and isinstance(hi, int) and (lo < 0 or hi < 0):
        raise ValueError(f"border_mode must be >= 0, got {border_mode!r}")
    return lo, hi


def get_conv_shape_1axis(image_shape: Any, kernel_shape: Any, border_mode: Any,
                         subsample: Any, dilation: Any = 1) -> Any:
    """The output length along one axis: ``(n + pad_lo + pad_hi - dk) // subsample + 1`` with
    ``dk = (k - 1) * dilation + 1``; ``None`` when any argument is ``None``."""
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    dk = (kernel_shape - 1) * dilation + 1
    lo, hi = _pads(border_mode, dk)
    return (image_shape + lo + hi - dk) // subsample + 1


def get_conv_output_shape(image_shape: Any, kernel_shape: Any, border_mode: Any,
                          subsample: Any, filter_dilation: Any = None) -> tuple:
    """``(batch, out_channels, *spatial)`` of a convolution of ``image_shape`` (4 or 5 entries)
    by ``kernel_shape``; ``border_mode`` a string, an int or one entry per spatial axis."""
    nd = len(image_shape) - 2
    dil = filter_dilation if filter_dilation is not None else (1,) * nd
    modes = border_mode if isinstance(border_mode, tuple) else (border_mode,) * nd
    kshp = kernel_shape[-nd:]
    return (image_shape[0], kernel_shape[0]) + tuple(
        get_conv_shape_1axis(image_shape[2 + i], kshp[i], modes[i], subsample[i], dil[i])
        for i in range(nd))


def get_conv_gradinputs_shape_1axis(kernel_shape: Any, top_shape: Any, border_mode: Any,
                                    subsample: Any, dilation: Any = 1) -> Any:
    """The input length that gives ``top_shape`` outputs; ``None`` unless ``subsample == 1``
    (with a stride the answer is ambiguous)."""
    if None in (kernel_shape, top_shape, border_mode, subsample, dilation) or subsample != 1:
        return None
    dk = (kernel_shape - 1) * dilation + 1
    lo, hi = _pads(border_mode, dk)
    return top_shape + dk - 1 - lo - hi


def get_conv_gradinputs_shape(kernel_shape: Any, top_shape: Any, border_mode: Any,
                              subsample: Any, filter_dilation: Any = None,
                              num_groups: int = 1) -> tuple:
    """The full input shape a gradient-w.r.t.-inputs produces (``None`` where ambiguous)."""
    nd = len(top_shape) - 2
    dil = filter_dilation if filter_dilation is not None else (1,) * nd
    modes = border_mode if isinstance(border_mode, tuple) else (border_mode,) * nd
    kshp = kernel_shape[-nd:]
    chans = None if kernel_shape[1] is None else kernel_shape[1] * num_groups
    return (top_shape[0], chans) + tuple(
        get_conv_gradinputs_shape_1axis(kshp[i], top_shape[2 + i], modes[i], subsample[i],
                                        dil[i]) for i in range(nd))


def get_conv_gradweights_shape_1axis(image_shape: Any, top_shape: Any, border_mode: Any,
                                     subsample: Any, dilation: Any = 1) -> Any:
    """The filter length that maps ``image_shape`` to ``top_shape``; ``None`` when a stride or
    ``'half'`` makes it ambiguous."""
    if None in (image_shape, top_shape, border_mode, subsample, dilation):
        return None
    if subsample != 1 or border_mode == "half":
        return None
    if border_mode == "full":
        span = top_shape - image_shape
    else:
        lo, hi = _pads(border_mode, 1)
        span = image_shape + lo + hi - top_shape
    return (span // dilation if dilation > 1 else span) + 1


def get_conv_gradweights_shape(image_shape: Any, top_shape: Any, border_mode: Any,
                               subsample: Any, filter_dilation: Any = None,
                               num_groups: int = 1) -> tuple:
    """The full filter shape a gradient-w.r.t.-weights produces (``None`` where ambiguous)."""
    nd = len(image_shape) - 2
    dil = filter_dilation if filter_dilation is not None else (1,) * nd
    modes = border_mode if isinstance(border_mode, tuple) else (border_mode,) * nd
    chans = None if image_shape[1] is None else image_shape[1] // num_groups
    return (top_shape[1], chans) + tuple(
        get_conv_gradweights_shape_1axis(image_shape[2 + i], top_shape[2 + i], modes[i],
                                         subsample[i], dil[i]) for i in range(nd))

