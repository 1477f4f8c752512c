"""The core's layering holds: import-linter's contracts (``[tool.importlinter]`` in the root
pyproject.toml) pass, they cover every package of ``opcore``, and the number of function-local
imports in ``opcore/`` stays within its budget (a local import usually hides an upward import)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
#: function-local imports allowed in opcore/ (imports inside a def); lower it as they go, never
#: raise it: a new one needs a reason better than an import cycle
LOCAL_IMPORT_BUDGET = 34


def local_imports(root: Path) -> list[str]:
    """``path:line`` of every import statement inside a function body under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for stmt in ast.walk(fn):
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    found.append(f"{path.relative_to(root.parent)}:{stmt.lineno}")
    return sorted(set(found))


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True, no_logo=True) == 0, "an import breaks a layering contract"


def _contracts() -> dict[str, dict]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["id"]: c for c in doc["tool"]["importlinter"]["contracts"]}


def _packages() -> set[str]:
    """``opcore.X`` for every public top-level module and package of ``opcore/``."""
    return {f"opcore.{p.stem if p.suffix == '.py' else p.name}"
            for p in (ROOT / "opcore").iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("_")}


def test_contracts_name_every_package_above_graph() -> None:
    above = set(_contracts()["graph-imports-nothing-above-it"]["forbidden_modules"])
    assert _packages() - {"opcore.graph", "opcore.config"} == above


def test_every_package_has_a_layer() -> None:
    # a new package must be placed in the layer order (pyproject.toml, contract core-layers)
    contract = _contracts()["core-layers"]
    placed = [m.strip() for layer in contract["layers"] for m in layer.replace("|", ":").split(":")]
    assert sorted(placed) == sorted(_packages()), "every package in exactly one layer"
    assert not contract.get("ignore_imports"), "the layers hold with no exception"


def test_function_local_imports_stay_within_budget() -> None:
    found = local_imports(ROOT / "opcore")
    assert len(found) <= LOCAL_IMPORT_BUDGET, (
        f"{len(found)} function-local imports in opcore/ (budget {LOCAL_IMPORT_BUDGET}); move the "
        "concept to the layer that owns it instead of importing upward:\n" + "\n".join(found))


def test_the_counter_sees_a_local_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text("import os\n\ndef f():\n    import sys\n    return sys\n")
    assert local_imports(pkg) == ["pkg/m.py:4"]
