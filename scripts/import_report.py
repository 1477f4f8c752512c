"""Print the number of function-local imports in ``opcore/``, the import cycles between its
modules (strongly connected components of grimp's import graph, local imports included) and the
cycles between its packages (the same graph with each module folded into its top-level package
``opcore.X``; the root module ``opcore`` apart). The runtime cycles leave out imports made only
for type checkers (``if TYPE_CHECKING:``), which never run.

    python scripts/import_report.py [-v]
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_layering import local_imports  # noqa: E402  (one counter, shared with the test)


def cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    return _sccs(sorted(graph.modules), graph.find_modules_directly_imported_by)


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of the package graph (``opcore.X -> opcore.Y``)."""
    edges: dict[str, set[str]] = {}
    for m in graph.modules:
        if not m.startswith("opcore"):
            continue
        out = edges.setdefault(package_of(m), set())
        out.update(package_of(d) for d in graph.find_modules_directly_imported_by(m)
                   if d.startswith("opcore") and package_of(d) != package_of(m))
    return _sccs(sorted(edges), lambda p: edges.get(p, set()))


def _sccs(nodes, successors) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        for d in successors(m):
            if d not in index:
                visit(d)
                low[m] = min(low[m], low[d])
            elif d in stack:
                low[m] = min(low[m], index[d])
        if low[m] == index[m]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == m:
                    break
            if len(comp) > 1:
                out.append(comp)

    for m in nodes:
        if m not in index:
            visit(m)
    return out


def main() -> None:
    graph = grimp.build_graph("opcore", cache_dir=None)
    comps = cycles(graph)
    pcomps = package_cycles(graph)
    print(f"function-local imports in opcore/: {len(local_imports(ROOT / 'opcore'))}")
    print(f"import cycles (strongly connected components): {len(comps)}, sizes "
          f"{sorted((len(c) for c in comps), reverse=True)}")
    if "-v" in sys.argv:
        for c in comps:
            print("  " + " ".join(sorted(c)))
    runtime = cycles(grimp.build_graph("opcore", cache_dir=None,
                                       exclude_type_checking_imports=True))
    print(f"runtime import cycles (imports under `if TYPE_CHECKING:` left out): {len(runtime)}, "
          f"sizes {sorted((len(c) for c in runtime), reverse=True)}")
    if "-v" in sys.argv:
        for c in runtime:
            print("  " + " ".join(sorted(c)))
    print(f"package cycles: {len(pcomps)}, sizes {sorted((len(c) for c in pcomps), reverse=True)}")
    if "-v" in sys.argv:
        for c in pcomps:
            print("  " + " ".join(sorted(c)))


if __name__ == "__main__":
    main()
