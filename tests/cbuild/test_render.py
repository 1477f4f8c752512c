"""The one renderer of fused scalar expressions and the one dtype -> C type table.

The rendered C is compiled and run (when a C compiler is on PATH) and compared with NumPy, so a
wrong template, cast or power expansion fails here without any plugin installed."""

from __future__ import annotations

import ctypes as py_ctypes
import shutil
import subprocess
import sys

import numpy as np
import pytest

import opcore.scalar.basic as S
from opcore.cbuild import ctypes as ct
from opcore.cbuild import render
from opcore.scalar.basic import Composite


def test_import_opcore_does_not_import_cbuild():
    code = "import sys, opcore; print(any(m.startswith('opcore.cbuild') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_table_gives_every_dialects_type():
    assert ct.npy_ctype("float32") == "npy_float32"
    assert ct.plain_ctype(np.int64) == "long long"
    assert ct.ga_ctype("float16") == "ga_half"
    assert ct.typenum("uint8") == "NPY_UINT8"
    assert "float16" not in ct.NPY_DTYPES and "bool" in ct.NPY_DTYPES
    with pytest.raises(KeyError, match="float16"):
        ct.npy_ctype("float16")
    with pytest.raises(KeyError, match="complex128"):
        ct.plain_ctype("complex128")
    # the plain C type has the dtype's width on this platform
    widths = {"signed char": py_ctypes.c_byte, "unsigned char": py_ctypes.c_ubyte,
              "short": py_ctypes.c_short, "unsigned short": py_ctypes.c_ushort,
              "int": py_ctypes.c_int, "unsigned int": py_ctypes.c_uint,
              "long long": py_ctypes.c_longlong, "unsigned long long": py_ctypes.c_ulonglong,
              "float": py_ctypes.c_float, "double": py_ctypes.c_double}
    for dtype, row in ct.C_TYPES.items():
        assert py_ctypes.sizeof(widths[row.c]) == np.dtype(dtype).itemsize, dtype


F = "float64"


def _steps(*steps, outputs=None):
    """A float64 Composite of two inputs from ``(op, args)`` steps (``("i", k)``, ``("s", k)``,
    ``("c", value, dtype)``); the last step is the output."""
    steps = [(op, args, F) for op, args in steps]
    return Composite(2, (F, F), steps, outputs or [len(steps) - 1])


def _c(v):
    return ("c", v, F)


@pytest.mark.parametrize("dialect", [render.C, render.CUDA, render.OPENCL])
def test_small_integer_powers_become_multiplications_in_every_dialect(dialect):
    comp = _steps((S.pow, [("i", 0), _c(5.0)]), (S.pow, [("i", 0), _c(0.0)]),
                  (S.add, [("s", 0), ("s", 1)]))
    lines, res = render.scalar_lines(comp, ["x0", "x1"], [F, F], [F], dialect)
    text = "\n".join(lines)
    assert "pow" not in text and text.count("*") >= 3  # x**5 = ((x*x)*(x*x))*x
    t = dialect.compute_ctype("float64")
    assert all(line.startswith(f"const {t} s") for line in lines)
    assert res == [f"s{len(lines) - 1}"]


def test_unsupported_template_is_reported_not_rendered():
    class NoC:
        c_expr = None

        def __str__(self):
            return "noc"

    assert render.supports(NoC()) == "scalar op noc has no C template"
    with pytest.raises(NotImplementedError, match="no C template"):
        render.scalar_lines(NoC(), ["x0"], [F], [F])


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) on PATH")
def test_rendered_c_computes_what_numpy_computes(tmp_path):
    cases = [
        (_steps((S.pow, [("i", 0), _c(3.0)]), (S.mul, [("s", 0), ("i", 1)]),
                (S.pow, [("i", 0), _c(2.0)]), (S.sub, [("s", 1), ("s", 2)])),
         lambda a, b: a ** 3 * b - a ** 2),
        (_steps((S.exp, [("i", 0)]), (S.add, [("i", 1), _c(1.5)]),
                (S.true_div, [("s", 0), ("s", 1)])),
         lambda a, b: np.exp(a) / (b + 1.5)),
        (_steps((S.pow, [("i", 0), _c(10.0)]), (S.pow, [("i", 1), _c(1.0)]),
                (S.pow, [("i", 1), _c(0.5)]), (S.add, [("s", 0), ("s", 1)]),
                (S.add, [("s", 3), ("s", 2)])),
         lambda a, b: a ** 10 + b + np.sqrt(b)),
    ]
    funcs = []
    for k, (comp, _) in enumerate(cases):
        lines, res = render.scalar_lines(comp, ["x0", "x1"], [F, F], [F], render.C)
        body = "\n    ".join(lines)
        funcs.append(f"void f{k}(const double* a, const double* b, double* z, long n) {{\n"
                     f"  for (long i = 0; i < n; i++) {{ const npy_float64 x0 = a[i], "
                     f"x1 = b[i];\n    {body}\n    z[i] = {res[0]}; }}\n}}")
    src = tmp_path / "r.c"
    src.write_text("#include <math.h>\n#include <tgmath.h>\ntypedef double npy_float64;\n"
                   + "\n".join(funcs))
    lib = tmp_path / "r.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", str(src), "-o", str(lib), "-lm"],
                   check=True)
    dll = py_ctypes.CDLL(str(lib))
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-2, 2, 50), rng.uniform(0, 3, 50)
    for k, (_, ref) in enumerate(cases):
        z = np.empty_like(a)
        ptr = py_ctypes.POINTER(py_ctypes.c_double)
        getattr(dll, f"f{k}")(a.ctypes.data_as(ptr), b.ctypes.data_as(ptr), z.ctypes.data_as(ptr),
                              py_ctypes.c_long(a.size))
        np.testing.assert_allclose(z, ref(a, b), rtol=1e-13)


def test_templates_needing_helpers_render_only_where_the_dialect_has_them():
    """Float // and % and integer ** call the C backend's helpers (opcore_helpers.h); the GPU
    dialects have none, so there the op has no code (the backend runs NumPy) and says why."""
    for op, dt in ((S.int_div, "float64"), (S.mod, "float32"), (S.pow, "int32")):
        assert render.supports(op, [dt, dt], [dt], render.C) == ""
        for gpu in (render.CUDA, render.OPENCL):
            assert "needs OPCORE_" in render.supports(op, [dt, dt], [dt], gpu)
    lines, _ = render.scalar_lines(S.int_div, ["a", "b"], [F, F], [F], render.C)
    assert "oc_floor_divide(a, b)" in lines[0] and "OPCORE_" not in lines[0]


def test_raised_errors_lists_the_error_bits_a_loop_must_check():
    i8 = "int64"
    comp = Composite(2, (i8, i8), [(S.pow, [("i", 0), ("i", 1)], i8),
                                   (S.add, [("s", 0), ("i", 1)], i8)], [1])
    lines, _ = render.scalar_lines(comp, ["x0", "x1"], ["int64", "int64"], ["int64"], render.C)
    assert render.raised_errors(comp, lines, render.C) == [
        (1, "ValueError", "Integers to negative integer powers are not allowed.")]
    lines, _ = render.scalar_lines(S.pow, ["x0", "x1"], ["uint8", "uint8"], ["uint8"], render.C)
    assert render.raised_errors(S.pow, lines, render.C) == []  # unsigned: never negative
