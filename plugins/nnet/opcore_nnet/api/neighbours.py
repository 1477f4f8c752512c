"""``opcore.tensor.nnet.neighbours`` (Theano's ``theano.tensor.nnet.neighbours``)."""

from opcore_nnet.neighbours import (Images2Neibs, Neibs2ImagesGrad, images2neibs,  # noqa: F401
                                    neibs2images, patch_grid)
