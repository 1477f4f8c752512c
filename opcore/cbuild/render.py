"""The one renderer of fused scalar expressions, with a table per dialect (C, CUDA, OpenCL).

An ``Elemwise``'s scalar op (one op, or a fused ``Composite`` of several) becomes C statements
that compute its outputs from C values already loaded into variables.  The C backend's loops and
the GPU backend's kernels both call :func:`scalar_lines`; only the :class:`Dialect` differs (the
type each dtype is computed in).  Small constant integer powers (``x ** 3``) become
multiplications, since libm's / the device's ``pow`` is much slower.

Imports nothing but the standard library and :mod:`opcore.cbuild.ctypes`; the scalar ops are
duck-typed (``c_expr``, ``c_render`` and ``c_errors`` of a scalar op, ``Composite.c_steps``/
``steps``/``outputs``): the semantics (casts before the arithmetic, NaN propagation, integer
wrapping) live in the scalar ops, the spelling of each target here.

Templates may call helpers named ``OPCORE_*`` (integer power, NumPy's float floor division and
remainder) and raise through ``OPCORE_ERR(bit)`` (an expression setting ``bit`` of the loop's
error flag); a dialect spells the helpers it has (``Dialect.helpers``; the C dialect's are in
``opcore/cbuild/include/opcore_helpers.h``), and a scalar op needing one it lacks has no code in
that dialect (:func:`supports` says so; the backend runs the op's NumPy function instead).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from opcore.cbuild.ctypes import C_TYPES, ga_ctype, npy_ctype


def _ga_compute_ctype(dtype: str) -> str:
    # float16 is stored as ga_half and computed in ga_float (load_half/store_half), as
    # libgpuarray kernels do
    return "ga_float" if dtype == "float16" else ga_ctype(dtype)


#: Names the scalar ops' C templates spell in the NumPy C-API, as the libgpuarray preambles spell
#: them (``GA_NAN`` / ``GA_INFINITY`` are defined by both the CUDA and the OpenCL preamble).
_GA_NAMES = {
    "NPY_NAN": "GA_NAN", "NPY_INFINITY": "GA_INFINITY",
    **{row.npy: row.ga for row in C_TYPES.values() if row.npy is not None},
}
_NAME = re.compile(r"\b(?:NPY_NAN|NPY_INFINITY|npy_[a-z]+[0-9]*)\b")
_HELPER = re.compile(r"\bOPCORE_[A-Z0-9_]+\b")

#: The C backend's helpers (``opcore_helpers.h``) for the templates' ``OPCORE_*`` names.
_C_HELPERS = {
    "OPCORE_IPOW": "oc_ipow",
    "OPCORE_FLOOR_DIVIDE_F64": "oc_floor_divide", "OPCORE_FLOOR_DIVIDE_F32": "oc_floor_dividef",
    "OPCORE_REMAINDER_F64": "oc_remainder", "OPCORE_REMAINDER_F32": "oc_remainderf",
    "OPCORE_ERR": "OC_SETERR",
}


class Dialect(NamedTuple):
    """One C-family target: ``compute_ctype(dtype)`` is the type values of ``dtype`` are computed
    in; ``names`` maps the NumPy C-API names the scalar ops' templates use (``npy_uint64``,
    ``NPY_NAN``) to this dialect's; ``helpers`` maps the templates' ``OPCORE_*`` helper names
    to this dialect's (a template calling one the dialect lacks has no code in it); ``name`` is
    ``"c"``, ``"cuda"`` or ``"opencl"``.  (A named tuple, like :class:`Step`.)"""

    name: str
    compute_ctype: Callable[[str], str]
    names: Mapping[str, str] = MappingProxyType({})
    helpers: Mapping[str, str] = MappingProxyType({})

    def cast(self, expr: str, dtype: str) -> str:
        """``expr`` converted to the compute type of ``dtype``."""
        return f"(({self.compute_ctype(dtype)})({expr}))"

    def spell(self, code: str) -> str:
        """``code`` with the NumPy C-API and helper names replaced by this dialect's."""
        if self.names:
            code = _NAME.sub(lambda m: self.names.get(m.group(0), m.group(0)), code)
        if self.helpers:
            code = _HELPER.sub(lambda m: self.helpers.get(m.group(0), m.group(0)), code)
        return code


#: The C backend: NumPy C-API types.
C = Dialect("c", npy_ctype, helpers=_C_HELPERS)
#: CUDA kernels (NVRTC) in the libgpuarray dialect.
CUDA = Dialect("cuda", _ga_compute_ctype, _GA_NAMES)
#: OpenCL kernels in the libgpuarray dialect (the same type names; the preamble differs).
OPENCL = Dialect("opencl", _ga_compute_ctype, _GA_NAMES)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (C, CUDA, OPENCL)}


def is_composite(scalar_op: Any) -> bool:
    """True for a fused ``Composite`` (it renders its steps with ``c_steps``)."""
    return callable(getattr(scalar_op, "c_steps", None))


def supports(scalar_op: Any, in_dtypes: Sequence[str] | None = None,
             out_dtypes: Sequence[str] | None = None, dialect: Dialect | None = None) -> str:
    """``""`` when ``scalar_op`` renders to C (for these dtypes, when given), else why not."""
    if is_composite(scalar_op):
        for op, _, _ in scalar_op.steps:
            if getattr(op, "c_expr", None) in (None, "composite") or is_composite(op):
                return f"scalar op {getattr(op, 'name', op)} has no C template"
    elif getattr(scalar_op, "c_expr", None) in (None, "composite"):
        return f"scalar op {scalar_op} has no C template"
    if in_dtypes is None or out_dtypes is None:
        return ""
    try:
        _render(scalar_op, [f"x{j}" for j in range(len(in_dtypes))], list(in_dtypes),
                list(out_dtypes), dialect or C)
    except KeyError as exc:  # a dtype without a C type in this dialect (float16, complex)
        return f"no C type: {exc.args[0] if exc.args else exc}"
    except NotImplementedError as exc:
        return str(exc)
    return ""


def _powi_expr(x: str, n: int) -> str:
    if n == 1:
        return x
    half = _powi_expr(x, n // 2)
    sq = f"({half} * {half})"
    return f"({sq} * {x})" if n % 2 else sq


_POWI_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "uint16", "uint32", "uint64")


def powi(step: tuple, vals: list[str], dtype: str, dialect: Dialect = C) -> str | None:
    """``x ** n`` for a constant integer ``0 <= n <= 64`` as multiplications (square and
    multiply; libm's ``pow`` is slow); integers multiply in their unsigned type, which wraps as
    NumPy does.  ``None`` when the step is anything else."""
    op, args, _ = step
    if getattr(op, "name", None) != "pow" or args[1][0] != "c" or dtype not in _POWI_DTYPES:
        return None
    try:
        n = float(args[1][1])
    except (TypeError, ValueError):
        return None
    if not n.is_integer() or not 0 <= n <= 64:
        return None
    if n == 0:
        return "1"
    ct = dialect.compute_ctype(dtype if "float" in dtype else "uint64")
    return f"(({dialect.compute_ctype(dtype)}){_powi_expr(f'(({ct}){vals[0]})', int(n))})"


def _check_helpers(op: Any, expr: str, dialect: Dialect) -> None:
    missing = sorted(set(_HELPER.findall(expr)) - set(dialect.helpers))
    if missing:
        raise NotImplementedError(f"scalar op {op} needs {', '.join(missing)}, which "
                                  f"{dialect.name} code does not have")


class Step(NamedTuple):
    """One step of a rendered scalar expression: ``op`` applied to ``args`` (``("i", j)``: input
    j, ``("s", k)``: step k, ``("c", value, dtype)``: a constant) of dtypes ``dts``, giving a
    value of dtype ``dtype``; ``vals`` are the arguments as C values and ``expr`` the C expression
    of the step (``powi`` or the op's ``c_render``).  A named tuple: every process that links C
    creates this class, and a frozen dataclass costs ten times as much to create."""

    op: Any
    args: tuple
    vals: tuple
    dts: tuple
    dtype: str
    expr: str


def render_steps(scalar_op: Any, xs: list[str], in_dtypes: list[str], out_dtypes: list[str],
                 dialect: Dialect = C) -> tuple[list[Step], list[int]]:
    """The steps of ``scalar_op`` (one step for a plain scalar op) with their C expressions, and
    the indices of the steps that are its outputs.  Step ``k``'s value is named ``s<k>`` in the
    expressions of later steps.  Raises like :func:`scalar_lines`."""
    ctype = dialect.compute_ctype
    if is_composite(scalar_op):
        steps = []
        for k, (op, vals, dts, dt) in enumerate(scalar_op.c_steps(xs, ctype)):
            expr = powi(scalar_op.steps[k], vals, dt, dialect) or op.c_render(vals, dts, dt, ctype)
            if expr is None:
                raise NotImplementedError(f"scalar op {op} has no C for dtypes {dts} -> {dt}")
            _check_helpers(op, expr, dialect)
            steps.append(Step(op, scalar_op.steps[k][1], tuple(vals), tuple(dts), dt,
                              dialect.spell(expr)))
        return steps, list(scalar_op.outputs)
    expr = scalar_op.c_render(xs, tuple(in_dtypes), out_dtypes[0], ctype)
    if expr is None:
        raise NotImplementedError(f"scalar op {scalar_op} has no C for dtypes "
                                  f"{tuple(in_dtypes)} -> {out_dtypes[0]}")
    _check_helpers(scalar_op, expr, dialect)
    args = tuple(("i", j) for j in range(len(xs)))
    return ([Step(scalar_op, args, tuple(xs), tuple(in_dtypes), out_dtypes[0],
                  dialect.spell(expr))], [0])


def _render(scalar_op: Any, xs: list[str], in_dtypes: list[str], out_dtypes: list[str],
            dialect: Dialect) -> tuple[list[str], list[str]]:
    steps, outs = render_steps(scalar_op, xs, in_dtypes, out_dtypes, dialect)
    lines = []
    for k, st in enumerate(steps):
        ct = dialect.compute_ctype(st.dtype)
        lines.append(f"const {ct} s{k} = ({ct})({st.expr});")
    return lines, [f"s{k}" for k in outs]


def raised_errors(scalar_op: Any, lines: Sequence[str],
                  dialect: Dialect = C) -> list[tuple[int, str, str]]:
    """The errors the rendered ``lines`` (of :func:`scalar_lines`) may raise: ``(bit, Python
    exception name, message)`` for each ``OPCORE_ERR(bit)`` they use, from the scalar ops'
    ``c_errors`` (``{bit: (exception name, message)}``).  The loop declares ``int oc_err = 0``
    before it and raises the error of each bit set after it."""
    spelled = dialect.helpers.get("OPCORE_ERR")
    if spelled is None:
        return []
    bits = {int(b) for line in lines
            for b in re.findall(rf"\b{re.escape(spelled)}\((\d+)\)", line)}
    if not bits:
        return []
    ops = [op for op, _, _ in scalar_op.steps] if is_composite(scalar_op) else [scalar_op]
    table: dict[int, tuple[str, str]] = {}
    for op in ops:
        table.update(getattr(op, "c_errors", None) or {})
    return [(b, *table[b]) for b in sorted(bits)]


def scalar_lines(scalar_op: Any, xs: list[str], in_dtypes: list[str], out_dtypes: list[str],
                 dialect: Dialect = C) -> tuple[list[str], list[str]]:
    """C statements computing the outputs of ``scalar_op`` from the C values named ``xs`` (of
    ``in_dtypes``), with the scalar ops' own semantics (``c_render``: NumPy's casts, NaN and
    integer-overflow rules).

    Returns ``(lines, results)``: statements declaring ``s0``, ``s1``... and the names holding
    each output (already of its compute type).  Raises ``NotImplementedError`` when a scalar op
    has no C for these dtypes and ``KeyError`` for a dtype without a C type in the dialect
    (:func:`supports` says which, without raising)."""
    why = supports(scalar_op)
    if why:
        raise NotImplementedError(why)
    return _render(scalar_op, xs, list(in_dtypes), list(out_dtypes), dialect)
