"""Compatibility layers that run code written for other libraries on opcore.

:mod:`opcore.compat.theano` serves ``import theano`` (and every ``theano.X.Y``) from opcore, opt-in:
``python -m opcore.compat.theano script.py`` or :func:`opcore.compat.theano.install`.
See docs/porting.md.
"""
