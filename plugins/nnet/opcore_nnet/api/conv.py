"""``opcore.tensor.nnet.conv`` / ``abstract_conv`` names."""

from opcore_nnet.conv import *  # noqa: F401,F403
