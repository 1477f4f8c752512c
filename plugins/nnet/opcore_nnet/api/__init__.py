"""``opcore.tensor.nnet``: what Theano users call ``T.nnet`` (``theano.tensor.nnet``).

Its submodules follow Theano's module map: ``opcore.tensor.nnet.{nnet, conv, abstract_conv,
conv3d2d, corr, corr3d, blocksparse, bn, ctc, neighbours, pool, sigm}``;
``opcore.tensor.signal.{pool, conv}`` is the sibling namespace :mod:`opcore_nnet.api.signal`.

The activations, softmax and cross-entropy names load with the namespace; the convolution,
pooling, batch-normalisation and neighbourhood families, and the submodules, load at the first
use of one of their names (building an MLP does not import the convolutions).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from opcore_nnet.activations import *  # noqa: F401,F403
from opcore_nnet.softmax import *  # noqa: F401,F403
from opcore_nnet.xent import *  # noqa: F401,F403
from opcore_nnet.xent import crossentropy_softmax_1hot_op  # noqa: F401

#: op families loaded at the first use of one of their names: module -> the names exported from
#: it (tests/test_api_lazy.py checks them against the modules); ``abstract_conv2d`` is conv2d
_FAMILIES = {
    "conv": ("Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "Conv3d", "Conv3dGradInputs",
             "Conv3dGradWeights", "conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
             "conv3d", "conv3d_grad_wrt_inputs", "conv3d_grad_wrt_weights"),
    "abstract_conv": ("AbstractConv2d", "AbstractConv2d_gradInputs", "AbstractConv2d_gradWeights",
                      "AbstractConv3d", "AbstractConv3d_gradInputs",
                      "AbstractConv3d_gradWeights"),
    "conv_extra": ("conv2d_transpose", "separable_conv2d"),
    "extras": ("CrossentropySoftmax1HotWithBiasDx", "softmax_graph", "logsoftmax_op",
               "prepend_scalar_to_each_row", "prepend_0_to_each_row", "prepend_1_to_each_row",
               "crossentropy_softmax_argmax_1hot_with_bias",
               "crossentropy_softmax_max_and_argmax_1hot_with_bias",
               "crossentropy_softmax_max_and_argmax_1hot", "crossentropy_softmax_1hot_with_bias_dx",
               "crossentropy_categorical_1hot_grad", "ConfusionMatrix", "confusion_matrix",
               "h_softmax"),
    "bn": ("batch_normalization",),
    "neighbours": ("Images2Neibs", "images2neibs", "neibs2images"),
    "pool": ("pool_2d", "pool_3d"),
}
_FAMILY_OF = {name: module for module, names in _FAMILIES.items() for name in names}
_ALIASES = {"abstract_conv2d": ("conv", "conv2d")}
#: Theano's submodules of theano.tensor.nnet, attributes of the namespace
_SUBMODULES = ("abstract_conv", "blocksparse", "bn", "conv", "conv3d2d", "corr", "corr3d", "ctc",
               "neighbours", "nnet", "pool", "sigm")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    if name in _FAMILY_OF or name in _ALIASES:
        module, attr = _ALIASES.get(name, (_FAMILY_OF.get(name), name))
        value = getattr(import_module(f"opcore_nnet.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FAMILY_OF) | set(_ALIASES) | set(_SUBMODULES))


#: ``from opcore.tensor.nnet import *``: the eager names, the lazy families and the submodules
__all__ = sorted({n for n in globals() if not n.startswith("_")} - {"Any", "import_module"}
                 | set(_FAMILY_OF) | set(_ALIASES) | set(_SUBMODULES))
