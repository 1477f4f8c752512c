"""Theano's ``theano.tensor.var``: the tensor variable classes."""

from opcore.tensor.variable import TensorConstant, TensorVariable  # noqa: F401
from opcore.tensor.variable import _TensorMethods as _tensor_py_operators  # noqa: F401
