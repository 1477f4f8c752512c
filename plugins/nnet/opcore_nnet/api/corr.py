"""``opcore.tensor.nnet.corr`` (Theano's ``theano.tensor.nnet.corr``)."""

from opcore_nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights  # noqa: F401
