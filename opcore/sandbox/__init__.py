"""Theano's sandbox module names: ``opcore.sandbox.rng_mrg`` (MRG31k3p random streams)."""
