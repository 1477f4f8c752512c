"""Theano's ``theano.compat``: the Python 2/3 helpers Theano-era code imports from it."""

from __future__ import annotations

import operator
from collections import OrderedDict  # noqa: F401
from collections.abc import Callable, MutableMapping  # noqa: F401
from functools import reduce  # noqa: F401
from io import BytesIO, StringIO  # noqa: F401
from sys import maxsize  # noqa: F401

PY3 = True
string_types = (str,)
integer_types = (int,)
unicode = str
izip = zip
imap = map
ifilter = filter
operator_div = operator.truediv


def iteritems(d):
    return iter(d.items())


def itervalues(d):
    return iter(d.values())


def iterkeys(d):
    return iter(d.keys())


def b(s):
    return s.encode("latin-1") if isinstance(s, str) else s


def decode(x):
    return x.decode() if isinstance(x, bytes) else x


def decode_iter(itr):
    for x in itr:
        yield decode(x)


def decode_with(x, encoding):
    return x.decode(encoding) if isinstance(x, bytes) else x


def cmp(a, b):
    return (a > b) - (a < b)


def get_unbound_function(unbound):
    return getattr(unbound, "__func__", unbound)


class DefaultOrderedDict(OrderedDict):
    """An OrderedDict with a default factory (Theano's helper)."""

    def __init__(self, default_factory=None, *a, **kw):
        if default_factory is not None and not callable(default_factory):
            raise TypeError("first argument must be callable")
        OrderedDict.__init__(self, *a, **kw)
        self.default_factory = default_factory

    def __missing__(self, key):
        if self.default_factory is None:
            raise KeyError(key)
        self[key] = value = self.default_factory()
        return value
