"""``opcore.tensor.nnet``: what Theano users call ``T.nnet`` (``theano.tensor.nnet``).

Its submodules follow Theano's module map: ``opcore.tensor.nnet.{nnet, conv, abstract_conv,
conv3d2d, corr, corr3d, blocksparse, bn, ctc, neighbours, pool, sigm}``;
``opcore.tensor.signal.{pool, conv}`` is the sibling namespace :mod:`opcore_nnet.api.signal`.
"""

from __future__ import annotations

from opcore_nnet.activations import *  # noqa: F401,F403
from opcore_nnet.softmax import *  # noqa: F401,F403
from opcore_nnet.xent import *  # noqa: F401,F403
from opcore_nnet.xent import crossentropy_softmax_1hot_op  # noqa: F401
from opcore_nnet.conv import *  # noqa: F401,F403
from opcore_nnet.abstract_conv import (AbstractConv2d, AbstractConv2d_gradInputs,  # noqa: F401
                                       AbstractConv2d_gradWeights, AbstractConv3d,
                                       AbstractConv3d_gradInputs, AbstractConv3d_gradWeights)
from opcore_nnet.conv import conv2d as abstract_conv2d  # noqa: F401
from opcore_nnet.conv_extra import conv2d_transpose, separable_conv2d  # noqa: F401
from opcore_nnet.extras import *  # noqa: F401,F403
from opcore_nnet.bn import batch_normalization  # noqa: F401
from opcore_nnet.neighbours import Images2Neibs, images2neibs, neibs2images  # noqa: F401
from opcore_nnet.pool import pool_2d, pool_3d  # noqa: F401

from opcore_nnet.api import (abstract_conv, blocksparse, bn, conv, conv3d2d,  # noqa: F401,E402
                             corr, corr3d, ctc, neighbours, nnet, pool, sigm)
