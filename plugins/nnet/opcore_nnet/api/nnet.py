"""``opcore.tensor.nnet.nnet`` (Theano's ``theano.tensor.nnet.nnet``): softmax, crossentropies
and activations."""

from opcore_nnet.activations import *  # noqa: F401,F403
from opcore_nnet.softmax import *  # noqa: F401,F403
from opcore_nnet.xent import *  # noqa: F401,F403
from opcore_nnet.xent import crossentropy_softmax_1hot_op  # noqa: F401
from opcore_nnet.extras import *  # noqa: F401,F403
