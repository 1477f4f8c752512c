"""Theano's ``theano.gpuarray.dnn``: cuDNN is not used by opcore, so it is reported absent.

``dnn_present()`` and ``dnn_available()`` return False (as Theano does on a machine without cuDNN),
with the reason in ``dnn_available.msg``; the ``dnn_*`` functions raise saying what to use instead
(``opcore.tensor.nnet.conv2d`` and ``opcore.tensor.signal.pool.pool_2d`` run on the GPU backend
with its own kernels).
"""

from __future__ import annotations

from typing import Any

WHY = ("opcore's GPU backend does not use cuDNN; T.nnet.conv2d and pool_2d run there with "
       "opcore's own kernels")


def dnn_present() -> bool:
    """False: cuDNN is not part of opcore."""
    dnn_present.msg = WHY
    return False


def dnn_available(context_name: Any = None) -> bool:
    """False: cuDNN is not part of opcore (the reason is in ``dnn_available.msg``)."""
    dnn_available.msg = WHY
    return False


dnn_present.msg = dnn_available.msg = WHY


def version(raises: bool = True) -> int:
    if raises:
        raise RuntimeError(WHY)
    return -1


def _unavailable(name: str):
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"theano.gpuarray.dnn.{name}: {WHY}")

    fn.__name__ = name
    return fn


for _name in ("dnn_conv", "dnn_conv3d", "dnn_pool", "dnn_batch_normalization_train",
              "dnn_batch_normalization_test", "dnn_gradweight", "dnn_gradinput", "dnn_spatialtf",
              "GpuDnnSoftmax"):
    globals()[_name] = _unavailable(_name)
del _name
