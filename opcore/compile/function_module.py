"""Theano's ``theano.compile.function_module``: ``Function``, ``FunctionMaker`` and their errors."""

from opcore.compile.function import (Function, FunctionMaker, MissingInputError,  # noqa: F401
                                     UnusedInputError, function)
from opcore.compile.io import In, Out  # noqa: F401

orig_function = function
