"""The Op guide's AXPB example (``a * x + b``) as an ExternalCOp with its C in axpb.c."""

import numpy as np

from opcore.graph.basic import Apply
from opcore.tensor.basic import as_tensor_variable
from opcore.tensor.type import TensorType

from opcore_cpu_c import ExternalCOp


class AXPB(ExternalCOp):
    __props__ = ("a", "b")
    func_files = ["axpb.c"]
    c_version = (1,)

    def __init__(self, a, b):
        self.a = float(a)
        self.b = float(b)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.dtype not in ("float32", "float64"):
            raise TypeError(f"AXPB: expected a float tensor, got {x.type}")
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, out):
        (x,) = inputs
        out[0][0] = np.asarray(self.a * x + self.b, dtype=x.dtype)

    def infer_shape(self, node, shapes):
        return shapes
