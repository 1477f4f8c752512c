"""Type aliases for the tensor layer's hints (see ``docs/layout.md``, "Type hints").

Modules import these at module top: at run time the module loads nothing beyond ``typing``,
NumPy's core and ``opcore.graph.basic`` (all loaded by ``import opcore`` already): NumPy's
typing names and its random generators are imported for type checkers only, and the run-time
aliases refer to them as forward references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Sequence, Union

import numpy as np

from opcore.graph.basic import Variable

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike
else:  # what NumPy's stubs call them; nothing evaluates these at run time
    ArrayLike = "numpy.typing.ArrayLike"
    DTypeLike = "numpy.typing.DTypeLike"

__all__ = ["ArrayLike", "Axis", "DTypeLike", "Dim", "DrawSize", "InputShapes", "NumPyRNG",
           "OutputShapes", "RewriteResult", "ShapeLike", "TensorLike", "ClipMode", "IndexOrder",
           "EighUPLO", "QRMode", "SearchSide", "SortKind"]

#: what ``as_tensor_variable`` accepts: a symbolic variable, or a value NumPy can convert
#: (a number, a nested list, an ndarray)
TensorLike = Union[Variable, ArrayLike]

#: an ``axis`` argument, as NumPy takes it: one axis, several, or None for all
Axis = Union[int, Sequence[int], None]

#: one dimension of a shape: a symbolic integer scalar, or a Python / NumPy int
Dim = Union[Variable, int, np.integer[Any]]

#: a shape argument: a sequence of dimensions, or a symbolic integer vector
ShapeLike = Union[Sequence[Dim], Variable]

#: what ``infer_shape(node, shapes)`` receives: per input, the tuple of its symbolic dimensions
InputShapes = list[tuple[Variable, ...]]

#: what ``infer_shape`` returns: per output, its dimensions (None: unknown, read it at run time)
OutputShapes = Sequence[Union[Sequence[Dim], None]]

#: what a node rewrite ``fn(fgraph, node)`` returns: replacements for ``node.outputs`` (a list
#: aligned with them, where a None entry keeps that output, or a dict ``{old: new}``), or
#: False/None for no change
RewriteResult = Union[Sequence[Union[Variable, None]], dict[Variable, Variable], bool, None]

#: a NumPy random generator, as a random variable's ``perform`` receives it
NumPyRNG = Union["np.random.Generator", "np.random.RandomState"]

#: the draw ``size`` a random variable's NumPy call receives (None: the parameters' shape)
DrawSize = Union[tuple[int, ...], None]

# String options that ops check in ``__init__``, as NumPy's stubs spell them (an op stores its
# option as one of these once it has checked it)

#: ``np.sort`` / ``np.argsort`` ``kind``
SortKind = Literal["quicksort", "mergesort", "heapsort", "stable"]

#: index ``order`` of ``np.unravel_index`` / ``np.ravel_multi_index``
IndexOrder = Literal["C", "F"]

#: out-of-range index ``mode`` of ``np.choose`` / ``np.ravel_multi_index``
ClipMode = Literal["raise", "wrap", "clip"]

#: ``np.searchsorted`` ``side``
SearchSide = Literal["left", "right"]

#: the triangle ``np.linalg.eigh`` reads
EighUPLO = Literal["L", "U"]

#: ``np.linalg.qr`` ``mode``
QRMode = Literal["reduced", "complete", "r", "raw"]
