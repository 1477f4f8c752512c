"""The documentation site builds with warnings as errors, and the newcomer pages' code runs."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the site is built with Sphinx (pip install -e '.[docs]')")
    pytest.importorskip("myst_parser", reason="Markdown pages need myst-parser")
    r = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                        str(DOCS), str(tmp_path / "site")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    pages = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*.html")}
    assert {"index.html", "getting-started.html", "porting.html", "plugins.html",
            "api/core.html", "api/plugins.html"} <= pages
    api = (tmp_path / "site" / "api" / "core.html").read_text()
    assert "opcore.compile.function.function" in api or "function(" in api


@pytest.mark.parametrize("page", ["getting-started.md", "seeing-what-runs.md"])
def test_page_code_runs(page, tmp_path):
    """The Python blocks of the page, run in order in one fresh interpreter."""
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    code = "\n".join(blocks).replace('"/tmp/graph.html"', repr(str(tmp_path / "graph.html")))
    env = dict(os.environ, OPCORE_FLAGS=os.environ.get("OPCORE_FLAGS", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
