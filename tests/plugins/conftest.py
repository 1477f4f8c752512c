"""Fixtures: a temporary site directory and the well-behaved plugin distribution in it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the helper module beside this file; CI imports tests with --import-mode=importlib
sys.path.insert(0, str(Path(__file__).parent))
from plugin_dists import GOOD_API, GOOD_PLUGIN, write_distribution


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty directory standing for a site-packages."""
    path = tmp_path / "site"
    path.mkdir()
    return path


@pytest.fixture
def good_plugin(site: Path) -> Path:
    return write_distribution(
        site, "opcore-good", "1.2.0",
        {"opcore_good/__init__.py": "", "opcore_good/plugin.py": GOOD_PLUGIN,
         "opcore_good/api.py": GOOD_API, "opcore_good/sub.py": "VALUE = 42\n",
         "opcore_good/linker.py": "class GoodLinker:\n    pass\n"},
        {"good": "opcore_good.plugin"})
