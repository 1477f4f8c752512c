"""``opcore.tensor.signal.pool`` (Theano's ``theano.tensor.signal.pool``)."""

from opcore_nnet.pool import *  # noqa: F401,F403
