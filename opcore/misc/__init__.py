"""Theano's ``theano.misc``: ``pkl_utils`` (zip-file pickles with arrays stored as ``.npy``)."""
