"""``opcore.tensor.nnet.corr3d`` (Theano's ``theano.tensor.nnet.corr3d``)."""

from opcore_nnet.corr import Corr3dMM, Corr3dMM_gradInputs, Corr3dMM_gradWeights  # noqa: F401
