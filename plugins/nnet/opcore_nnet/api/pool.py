"""``opcore.tensor.nnet.pool`` (Theano's ``theano.tensor.signal.pool`` names)."""

from opcore_nnet.pool import MODES, Pool, PoolGrad, max_pool_2d_same_size, pool_2d  # noqa: F401
