"""``pygpu.elemwise``: ``arg`` and ``GpuElemwise(ctx, "c = 4 * x + 5", args)``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from opcore_gpu_cuda.array import GpuArray
from opcore_gpu_cuda.dialect import dtype_to_ctype
from opcore_gpu_cuda.kernels import run_elemwise


class arg:  # noqa: N801 - pygpu's name
    """One operand of a :class:`GpuElemwise`: its name in the expression, dtype, direction."""

    def __init__(self, name: str, dtype: Any, read: bool = False, write: bool = False,
                 scalar: bool = False) -> None:
        if not (read or write):
            raise ValueError(f"elemwise.arg {name!r}: must be read, write or both")
        if scalar:
            raise NotImplementedError("elemwise.arg: scalar arguments are not supported")
        self.name = name
        self.dtype = np.dtype(dtype)
        self.read = read
        self.write = write

    def __repr__(self) -> str:
        return f"arg({self.name!r}, {self.dtype.name!r}, read={self.read}, write={self.write})"


class GpuElemwise:
    """A kernel applying the C statement ``expr`` to every element of the array arguments.

    >>> k = GpuElemwise(ctx, "c = 4 * x + 5",                       # doctest: +SKIP
    ...                 [arg('x', 'float32', read=True), arg('c', 'float32', write=True)])
    >>> k(x_gpu, c_gpu)                                               # doctest: +SKIP
    """

    def __init__(self, context: Any, expr: str, args: Sequence[arg], convert_f16: bool = False,
                 **_: Any) -> None:
        from opcore_gpu_cuda.type import get_context

        self.context = get_context(context)
        self.expr = expr
        self.args = list(args)
        ins = [a for a in self.args if a.read]
        outs = [a for a in self.args if a.write]
        lines = []
        for k, a in enumerate(ins):
            lines.append(f"{dtype_to_ctype(a.dtype)} {a.name} = v{k};")
        for a in outs:
            if not a.read:
                lines.append(f"{dtype_to_ctype(a.dtype)} {a.name};")
        lines.append(expr.rstrip().rstrip(";") + ";")
        for k, a in enumerate(outs):
            ct = dtype_to_ctype(a.dtype)
            lines.append(f"*(GLOBAL_MEM {ct} *)o{k} = ({ct})({a.name});")
        self.body = "\n".join(lines)

    def __call__(self, *arrays: GpuArray, broadcast: bool = True) -> None:
        if len(arrays) != len(self.args):
            raise TypeError(f"GpuElemwise({self.expr!r}) takes {len(self.args)} arrays, "
                            f"got {len(arrays)}")
        for a, spec in zip(arrays, self.args):
            if not isinstance(a, GpuArray):
                raise TypeError(f"GpuElemwise: argument {spec.name!r} must be a GpuArray, "
                                f"got {type(a).__name__}")
            if a.dtype != spec.dtype:
                raise TypeError(f"GpuElemwise: argument {spec.name!r} has dtype {a.dtype}, "
                                f"expected {spec.dtype}")
        ins = [a for a, s in zip(arrays, self.args) if s.read]
        outs = [a for a, s in zip(arrays, self.args) if s.write]
        run_elemwise(self.context, self.expr, self.body, ins, outs)
