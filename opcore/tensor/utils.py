"""Theano's ``theano.tensor.utils``: small helpers on shapes and graphs.

>>> import numpy as np, opcore.tensor as T
>>> x = T.dmatrix('x')
>>> shape_of_variables_fn = shape_of_variables
>>> shape_of_variables([x], {x: (3, 4)})[x]
(3, 4)
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from opcore.compile.function import function
from opcore.graph.basic import Variable
from opcore.graph.fg import FunctionGraph
from opcore.tensor.rewriting.shape import shape_feature


def hash_from_ndarray(data: np.ndarray) -> str:
    """A hash of an array's dtype, shape, strides and contents (Theano's helper)."""
    data = np.ascontiguousarray(data)
    h = hashlib.sha256()
    h.update(str((data.dtype.str, data.shape)).encode())
    h.update(data.tobytes())
    return h.hexdigest()


def shape_of_variables(outputs_or_fgraph: FunctionGraph | Sequence[Variable],
                       input_shapes: dict) -> dict:
    """The shape of every variable of a graph, given the shapes of its inputs.

    ``outputs_or_fgraph``: a FunctionGraph or a list of variables; ``input_shapes``: {input:
    shape tuple}.  Returns {variable: shape tuple} computed from the symbolic shapes only.
    """
    if isinstance(outputs_or_fgraph, FunctionGraph):
        fgraph = outputs_or_fgraph
    else:
        outs = list(outputs_or_fgraph)
        ins = [v for v in input_shapes]
        fgraph = FunctionGraph(ins, outs, clone=False)
    feat = shape_feature(fgraph)
    variables = list(fgraph.inputs)
    for node in fgraph.toposort():
        variables.extend(node.outputs)
    sym: list[Variable] = []
    wanted: list[Variable] = []
    for v in variables:
        if getattr(v.type, "ndim", None) is None:
            continue
        shp = feat.shape_of(v)
        if shp is None:
            continue
        wanted.append(v)
        sym.extend(shp)
    inputs = list(fgraph.inputs)
    values = function(inputs, sym, on_unused_input="ignore")(
        *[np.zeros(input_shapes[i], dtype=i.dtype) for i in inputs]) if sym else []
    out, k = {}, 0
    for v in wanted:
        n = v.ndim
        out[v] = tuple(int(x) for x in values[k:k + n])
        k += n
    return out
