"""The ``nnet`` plugin's hooks: the ``opcore.tensor.nnet`` namespace and the stability rewrites."""

from __future__ import annotations

from typing import Any

from opcore.plugins.hookspecs import hookimpl

OPS = ("Softmax", "LogSoftmax", "SoftmaxGrad", "SoftmaxWithBias", "CrossentropySoftmax1Hot",
       "CrossentropySoftmax1HotDx", "CrossentropyCategorical1Hot",
       "CrossentropyCategorical1HotGrad", "Conv2d", "Conv2dGradInputs", "Conv2dGradWeights",
       "Pool", "PoolGrad")


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    namespaces.add("opcore.tensor.nnet", "opcore_nnet.api", ops=OPS)


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    from opcore_nnet.rewrites import register_all

    register_all(rewrites)
