"""``opcore.tensor.nnet.neighbours`` (Theano's ``theano.tensor.nnet.neighbours``)."""

from opcore_nnet.neighbours import Images2Neibs, images2neibs, neibs2images  # noqa: F401
