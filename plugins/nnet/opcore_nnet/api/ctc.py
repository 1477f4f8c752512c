"""``opcore.tensor.nnet.ctc`` (Theano's ``theano.tensor.nnet.ctc``)."""

from opcore_nnet.ctc import (ConnectionistTemporalClassification, ctc,  # noqa: F401
                             ctc_available, ctc_present)
