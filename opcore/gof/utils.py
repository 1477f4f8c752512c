"""Theano's ``theano.gof.utils``."""

import hashlib


class MethodNotDefined(Exception):
    """A method an op or type may define is not defined (``c_code``, ``get_params``...)."""


object2 = object


def flatten(a):
    """A flat list of the items of nested lists/tuples."""
    out = []
    for x in a:
        if isinstance(x, (list, tuple)):
            out.extend(flatten(x))
        else:
            out.append(x)
    return out


def uniq(seq):
    """The items of ``seq`` without repeats, in first-seen order."""
    return list(dict.fromkeys(seq))


def difference(seq1, seq2):
    """Items of ``seq1`` not in ``seq2``, order kept."""
    s2 = set(seq2)
    return [x for x in seq1 if x not in s2]


def hash_from_code(msg):
    return hashlib.sha256(msg.encode() if isinstance(msg, str) else msg).hexdigest()
