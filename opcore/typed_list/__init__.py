"""Theano's ``theano.typed_list``: symbolic Python lists whose items share one type.

>>> import numpy as np, opcore, opcore.tensor as T
>>> from opcore.typed_list import TypedListType, append, length
>>> l = TypedListType(T.dvector)()
>>> x = T.dvector('x')
>>> f = opcore.function([l, x], [append(l, x), length(l)])
>>> out, n = f([np.ones(2)], np.zeros(3))
>>> [a.tolist() for a in out], int(n)
([[1.0, 1.0], [0.0, 0.0, 0.0]], 1)
"""

from opcore.typed_list.basic import (Append, Count, Extend, GetItem, Index, Insert,  # noqa: F401
                                     Length, MakeList, Remove, Reverse, TypedListConstant,
                                     TypedListVariable, append, count, extend, getitem,
                                     index_, insert, length, make_list, remove, reverse)
from opcore.typed_list.basic import TypedListType  # noqa: F401
