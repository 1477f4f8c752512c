"""``opcore.tensor.signal.conv`` (Theano's ``theano.tensor.signal.conv``): ``conv2d`` of 2-d
signals."""

from opcore_nnet.signal_conv import conv2d  # noqa: F401
