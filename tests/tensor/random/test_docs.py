"""The Python blocks of docs/random.md run, in order, in one fresh interpreter."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

PAGE = pathlib.Path(__file__).resolve().parents[3] / "docs" / "random.md"


def test_random_page_code_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= 2
    r = subprocess.run([sys.executable, "-c", "\n".join(blocks)], capture_output=True, text=True,
                       cwd=tmp_path, env=dict(os.environ), timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
