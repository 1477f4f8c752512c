"""``opcore.tensor.nnet.sigm`` (Theano's ``theano.tensor.nnet.sigm``): the sigmoid family."""

from opcore_nnet.activations import (hard_sigmoid, scalar_sigmoid, sigmoid,  # noqa: F401
                                     softplus, ultra_fast_sigmoid)
