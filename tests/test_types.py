"""Type hints on the core's graph, compile and tensor layers, and mypy over them.

The policy (``docs/layout.md``, "Type hints"): every public function and method of those layers
(name without a leading ``_``, in a public module and class) annotates its parameters and its
return; mypy checks them with the settings in the root ``pyproject.toml`` (``[tool.mypy]``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the packages held to "every public function is annotated"
ANNOTATED_PACKAGES = ["opcore/graph", "opcore/compile", "opcore/tensor"]


def _public_functions(source: str) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level functions and methods of public classes (also under ``if``/``try``) whose
    name does not start with ``_`` (dunder methods count: ``__init__``, ``__eq__``...)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = child.name
                dunder = name.startswith("__") and name.endswith("__")
                if dunder or not name.startswith("_"):
                    found.append((prefix + name, child))
            elif isinstance(child, ast.ClassDef):
                if not child.name.startswith("_"):
                    walk(child, prefix + child.name + ".")
            elif isinstance(child, (ast.If, ast.Try)):
                walk(child, prefix)

    walk(ast.parse(source), "")
    return found


def _missing(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters (and ``return``) of ``fn`` without an annotation; ``self``/``cls`` of a
    method need none, and neither does the return of an ``__init__`` with annotated params."""
    a = fn.args
    positional = a.posonlyargs + a.args
    params = [p for i, p in enumerate(positional + a.kwonlyargs)
              if not (i == 0 and p.arg in ("self", "cls", "mcs") and p in positional)]
    missing = [p.arg for p in params if p.annotation is None]
    for star, p in (("*", a.vararg), ("**", a.kwarg)):
        if p is not None and p.annotation is None:
            missing.append(star + p.arg)
    if fn.returns is None and not (fn.name == "__init__" and params):
        missing.append("return")
    return missing


def _public_modules(package: str) -> list[Path]:
    base = ROOT / package
    return [p for p in sorted(base.rglob("*.py"))
            if not any(part.startswith("_") and part != "__init__.py"
                       for part in p.relative_to(base).parts)]


@pytest.mark.parametrize("package", ANNOTATED_PACKAGES)
def test_public_functions_are_annotated(package: str) -> None:
    unannotated = [f"{p.relative_to(ROOT)}:{fn.lineno} {name}: {', '.join(miss)}"
                   for p in _public_modules(package)
                   for name, fn in _public_functions(p.read_text(encoding="utf-8"))
                   if (miss := _missing(fn))]
    assert not unannotated, "public functions without annotations:\n" + "\n".join(unannotated)


def test_the_annotation_check_sees_a_missing_hint() -> None:
    source = ("def f(x, y: int) -> int: ...\n"
              "def g(*args, **kw: int) -> None: ...\n"
              "class C:\n"
              "    def __init__(self, a: int): ...\n"
              "    def m(self, a: int): ...\n"
              "    def _p(self, a): ...\n"
              "    def __eq__(self, other): ...\n"
              "class _Private:\n"
              "    def m(self, a): ...\n")
    found = {name: _missing(fn) for name, fn in _public_functions(source)}
    assert found == {"f": ["x"], "g": ["*args"], "C.__init__": [], "C.m": ["return"],
                     "C.__eq__": ["other", "return"]}


def test_mypy_passes_on_the_core(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                        "opcore/graph", "opcore/compile", "opcore/tensor"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def test_mypy_reports_a_type_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x: int) -> int:\n    return x\n\nf('a')\n")
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                        "--config-file", str(ROOT / "pyproject.toml"), str(bad)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "arg-type" in r.stdout
