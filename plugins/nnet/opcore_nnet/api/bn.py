"""``opcore.tensor.nnet.bn`` (Theano's ``theano.tensor.nnet.bn``)."""

from opcore_nnet.bn import (batch_normalization, batch_normalization_test,  # noqa: F401
                            batch_normalization_train)
