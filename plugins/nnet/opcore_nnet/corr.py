"""Theano's CPU correlation ops (``theano.tensor.nnet.corr.CorrMM*`` and
``corr3d.Corr3dMM*``): the conv ops of :mod:`opcore_nnet.conv` with ``filter_flip=False`` and
Theano's constructors ``(border_mode, subsample, filter_dilation, num_groups, unshared)``.

The gradient ops take ``shape`` (the spatial shape to produce) as Theano's do; when it is
``None`` it is computed from the other inputs, which needs ``subsample`` of ones (and, for
the filter gradient, a border mode other than ``'half'``), else ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import opcore.tensor as T
from opcore.graph.basic import Apply
from opcore.tensor.basic import as_tensor_variable

from opcore_nnet.abstract_conv import (get_conv_gradinputs_shape_1axis,
                                       get_conv_gradweights_shape_1axis)
from opcore_nnet.conv import (Conv2d, Conv2dGradInputs, Conv2dGradWeights, Conv3d,
                              Conv3dGradInputs, Conv3dGradWeights, _ConvBase, _no_unshared)

__all__ = ["CorrMM", "CorrMM_gradWeights", "CorrMM_gradInputs", "Corr3dMM",
           "Corr3dMM_gradWeights", "Corr3dMM_gradInputs"]


class _Corr(_ConvBase):
    def __init__(self, border_mode: Any = "valid", subsample: Any = None,
                 filter_dilation: Any = None, num_groups: int = 1, unshared: bool = False) -> None:
        _no_unshared(unshared, type(self).__name__)
        super().__init__(border_mode, subsample, filter_dilation, num_groups, filter_flip=False)

    def _implied_shape(self, a: Any, top: Any, axis_len: Any, what: str) -> Any:
        """The spatial shape a gradient op must produce when Theano code passes ``None``."""
        a, top = as_tensor_variable(a), as_tensor_variable(top)
        out = []
        for k in range(self.convdim):
            mode = self.border_mode if isinstance(self.border_mode, str) \
                else self.border_mode[k]
            n = axis_len(a.shape[2 + k], top.shape[2 + k], mode, self.subsample[k],
                         self.filter_dilation[k])
            if n is None:
                raise ValueError(f"{type(self).__name__}: shape must be given for the {what} "
                                 f"when subsample is not all ones (or border_mode is 'half')")
            out.append(n)
        return T.stack(out)


class _CorrGradWeights(_Corr):
    def make_node(self, img: Any, topgrad: Any, shape: Any = None) -> Apply:
        if shape is None:
            shape = self._implied_shape(img, topgrad, get_conv_gradweights_shape_1axis,
                                        "filters")
        return super().make_node(img, topgrad, shape)


class _CorrGradInputs(_Corr):
    def make_node(self, kern: Any, topgrad: Any, shape: Any = None) -> Apply:
        if shape is None:
            shape = self._implied_shape(kern, topgrad, get_conv_gradinputs_shape_1axis, "input")
        return super().make_node(kern, topgrad, shape)


class CorrMM(_Corr, Conv2d):
    """Theano's ``CorrMM(...)(img, kern)``: 2-d cross-correlation."""


class CorrMM_gradWeights(_CorrGradWeights, Conv2dGradWeights):
    """Theano's ``CorrMM_gradWeights(...)(img, topgrad, shape=None)``."""


class CorrMM_gradInputs(_CorrGradInputs, Conv2dGradInputs):
    """Theano's ``CorrMM_gradInputs(...)(kern, topgrad, shape=None)``."""


class Corr3dMM(_Corr, Conv3d):
    """Theano's ``Corr3dMM(...)(img, kern)``: 3-d cross-correlation."""


class Corr3dMM_gradWeights(_CorrGradWeights, Conv3dGradWeights):
    """Theano's ``Corr3dMM_gradWeights(...)(img, topgrad, shape=None)``."""


class Corr3dMM_gradInputs(_CorrGradInputs, Conv3dGradInputs):
    """Theano's ``Corr3dMM_gradInputs(...)(kern, topgrad, shape=None)``."""
