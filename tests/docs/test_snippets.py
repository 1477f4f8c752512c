"""Every ``python`` code block of ``docs/*.md`` runs.

Convention (see ``docs/layout.md``): the ``python`` blocks of a page run in order, in one fresh
interpreter per page, in an empty folder, with the test run's ``OPCORE_FLAGS``.  A block that is
deliberately not runnable (it needs a GPU, a file of the reader's, or shows a fragment) is marked
with the line ``<!-- not run: reason -->`` right before its fence, or uses another fence
(``text``, ``console``, ``pycon``...).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)```", re.S)
NOT_RUN = re.compile(r"<!--\s*not run\b.*-->")


def runnable_blocks(text: str) -> list[str]:
    """The page's ``python`` blocks, in order, less those marked ``<!-- not run -->``."""
    return [m["code"] for m in FENCE.finditer("\n" + text) if not NOT_RUN.search(m["before"])]


PAGES = sorted(p.name for p in DOCS.glob("*.md") if runnable_blocks(p.read_text()))


def test_the_convention_is_what_the_extractor_does() -> None:
    page = ("x\n```python\na = 1\n```\n<!-- not run: needs a GPU -->\n```python\nb = 2\n```\n"
            "```text\nc\n```\n```python\nd = 3\n```\n")
    assert runnable_blocks(page) == ["a = 1\n", "d = 3\n"]
    assert "getting-started.md" in PAGES and "plugins.md" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_page_snippets_run(page: str, tmp_path: Path) -> None:
    code = "\n".join(runnable_blocks((DOCS / page).read_text()))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env=dict(os.environ), timeout=300)
    assert r.returncode == 0, f"{page}: a snippet failed\n{r.stderr[-3000:]}"
