"""``opcore.tensor.nnet.pool``: the pooling names (Theano keeps them in
``theano.tensor.signal.pool``, which is :mod:`opcore_nnet.api.signal.pool`)."""

from opcore_nnet.pool import *  # noqa: F401,F403
from opcore_nnet.pool import MODES  # noqa: F401
