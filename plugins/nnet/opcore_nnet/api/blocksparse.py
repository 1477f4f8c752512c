"""``opcore.tensor.nnet.blocksparse`` (Theano's ``theano.tensor.nnet.blocksparse``)."""

from opcore_nnet.blocksparse import *  # noqa: F401,F403
