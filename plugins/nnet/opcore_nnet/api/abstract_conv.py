"""``opcore.tensor.nnet.abstract_conv`` (Theano's ``theano.tensor.nnet.abstract_conv``)."""

from opcore_nnet.abstract_conv import *  # noqa: F401,F403
