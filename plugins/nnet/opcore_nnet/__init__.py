"""opcore-nnet: neural-network ops for opcore, reachable as ``opcore.tensor.nnet`` (``T.nnet``).

The core never imports this package; the plugin host maps the ``opcore.tensor.nnet`` namespace to
:mod:`opcore_nnet.api` the first time it is touched.
"""

__version__ = "0.1.0"
