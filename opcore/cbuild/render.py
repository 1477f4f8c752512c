"""The one renderer of fused scalar expressions, with a table per dialect (C, CUDA, OpenCL).

An ``Elemwise``'s scalar op (one op, or a fused ``Composite`` of several) becomes C statements
that compute its outputs from C values already loaded into variables.  The C backend's loops and
the GPU backend's kernels both call :func:`scalar_lines`; only the :class:`Dialect` differs (the
type each dtype is computed in).  Small constant integer powers (``x ** 3``) become
multiplications, since libm's / the device's ``pow`` is much slower.

Imports nothing but the standard library and :mod:`opcore.cbuild.ctypes`; the scalar ops are
duck-typed (``c_expr`` template, ``Composite.c_exprs``/``steps``/``outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from opcore.cbuild.ctypes import ga_ctype, npy_ctype


def _ga_compute_ctype(dtype: str) -> str:
    # float16 is stored as ga_half and computed in ga_float (load_half/store_half), as
    # libgpuarray kernels do
    return "ga_float" if dtype == "float16" else ga_ctype(dtype)


@dataclass(frozen=True)
class Dialect:
    """One C-family target: ``compute_ctype(dtype)`` is the type values of ``dtype`` are computed
    in; ``name`` is ``"c"``, ``"cuda"`` or ``"opencl"``."""

    name: str
    compute_ctype: Callable[[str], str]

    def cast(self, expr: str, dtype: str) -> str:
        """``expr`` converted to the compute type of ``dtype``."""
        return f"(({self.compute_ctype(dtype)})({expr}))"


#: The C backend: NumPy C-API types.
C = Dialect("c", npy_ctype)
#: CUDA kernels (NVRTC) in the libgpuarray dialect.
CUDA = Dialect("cuda", _ga_compute_ctype)
#: OpenCL kernels in the libgpuarray dialect (the same type names; the preamble differs).
OPENCL = Dialect("opencl", _ga_compute_ctype)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (C, CUDA, OPENCL)}


def is_composite(scalar_op: Any) -> bool:
    """True for a fused ``Composite`` (it renders its steps with ``c_exprs``)."""
    return callable(getattr(scalar_op, "c_exprs", None))


def supports(scalar_op: Any) -> str:
    """``""`` when every scalar op of ``scalar_op`` has a C template, else why not."""
    if is_composite(scalar_op):
        for op, _, _ in scalar_op.steps:
            if getattr(op, "c_expr", None) in (None, "composite") or is_composite(op):
                return f"scalar op {getattr(op, 'name', op)} has no C template"
        return ""
    if getattr(scalar_op, "c_expr", None) in (None, "composite"):
        return f"scalar op {scalar_op} has no C template"
    return ""


def _powi_expr(x: str, n: int) -> str:
    if n == 1:
        return x
    half = _powi_expr(x, n // 2)
    sq = f"({half} * {half})"
    return f"({sq} * {x})" if n % 2 else sq


def powi(step: tuple, vals: list[str], ct: str) -> str | None:
    """``x ** n`` for a constant integer ``0 <= n <= 64`` of a float step, as multiplications
    (square-and-multiply); ``None`` when the step is anything else."""
    op, args, dt = step
    if getattr(op, "name", None) != "pow" or args[1][0] != "c" or "float" not in dt:
        return None
    try:
        n = float(args[1][1])
    except (TypeError, ValueError):
        return None
    if not n.is_integer() or not 0 <= n <= 64:
        return None
    return "1" if n == 0 else _powi_expr(f"(({ct}){vals[0]})", int(n))


def scalar_lines(scalar_op: Any, xs: list[str], out_dtypes: list[str],
                 dialect: Dialect = C) -> tuple[list[str], list[str]]:
    """C statements computing the outputs of ``scalar_op`` from the C values named ``xs``.

    Returns ``(lines, results)``: statements declaring ``s0``, ``s1``... and the names holding
    each output (already of its compute type).  Raises ``NotImplementedError`` when a scalar op
    has no C template (:func:`supports` says which)."""
    why = supports(scalar_op)
    if why:
        raise NotImplementedError(why)
    if is_composite(scalar_op):
        lines = []
        for k, (op, vals, dt) in enumerate(scalar_op.c_exprs(xs, dialect.cast)):
            ct = dialect.compute_ctype(dt)
            expr = powi(scalar_op.steps[k], vals, ct) or op.c_expr.format(*vals, odtype=ct)
            lines.append(f"const {ct} s{k} = ({ct})({expr});")
        return lines, [f"s{k}" for k in scalar_op.outputs]
    ct = dialect.compute_ctype(out_dtypes[0])
    return [f"const {ct} s0 = ({ct})({scalar_op.c_expr.format(*xs, odtype=ct)});"], ["s0"]
