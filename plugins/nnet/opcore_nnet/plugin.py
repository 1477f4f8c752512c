"""The ``nnet`` plugin's hooks: the ``opcore.tensor.nnet`` and ``opcore.tensor.signal``
namespaces and the nnet rewrites."""

from __future__ import annotations

from typing import Any

from opcore.plugins.hookspecs import hookimpl

OPS = ("Softmax", "LogSoftmax", "SoftmaxGrad", "SoftmaxWithBias", "CrossentropySoftmax1Hot",
       "CrossentropySoftmax1HotDx", "CrossentropyCategorical1Hot",
       "CrossentropyCategorical1HotGrad", "Conv2d", "Conv2dGradInputs", "Conv2dGradWeights",
       "Conv3d", "Conv3dGradInputs", "Conv3dGradWeights", "AbstractConv2d",
       "AbstractConv2d_gradInputs", "AbstractConv2d_gradWeights", "AbstractConv3d",
       "AbstractConv3d_gradInputs", "AbstractConv3d_gradWeights", "Pool", "PoolGrad",
       "Images2Neibs", "Neibs2ImagesGrad")


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    namespaces.add("opcore.tensor.nnet", "opcore_nnet.api", ops=OPS)
    namespaces.add("opcore.tensor.signal", "opcore_nnet.api.signal")


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    from opcore_nnet.rewrites import register_all

    register_all(rewrites)
