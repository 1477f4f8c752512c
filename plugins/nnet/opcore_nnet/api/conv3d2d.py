"""``opcore.tensor.nnet.conv3d2d`` (Theano's ``theano.tensor.nnet.conv3d2d``)."""

from opcore_nnet.conv3d2d import conv3d  # noqa: F401
