"""``opcore.tensor.signal`` (Theano's ``theano.tensor.signal``): ``pool`` and ``conv``."""

from opcore_nnet.api.signal import conv, pool  # noqa: F401
