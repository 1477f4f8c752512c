"""``opcore.tensor.nnet``: what Theano users call ``T.nnet`` (``theano.tensor.nnet``)."""

from __future__ import annotations

from opcore_nnet.activations import *  # noqa: F401,F403
from opcore_nnet.softmax import *  # noqa: F401,F403
from opcore_nnet.xent import *  # noqa: F401,F403
from opcore_nnet.xent import crossentropy_softmax_1hot_op  # noqa: F401
from opcore_nnet.conv import *  # noqa: F401,F403
from opcore_nnet.bn import batch_normalization  # noqa: F401
from opcore_nnet.pool import pool_2d  # noqa: F401

from opcore_nnet.api import bn, conv, pool  # noqa: F401,E402

abstract_conv = conv
