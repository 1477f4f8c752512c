"""Sphinx configuration of opcore's documentation site.

Build: ``python -m sphinx -W -b html docs build/site`` (the test suite does this with warnings as
errors). The pages are the Markdown files of this folder (read by MyST); the API reference is
generated from the docstrings by autodoc, which reads them as the reStructuredText they are
written in (``literals``, :class: roles, doctest blocks).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for sub in ("", "plugins/cpu_c", "plugins/nnet", "plugins/sparse", "plugins/gpu_cuda"):
    path = os.path.join(ROOT, sub)
    if path not in sys.path:
        sys.path.insert(0, path)

project = "opcore"
author = "opcore developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
master_doc = "index"
exclude_patterns = ["_build", "images/*.md"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
html_title = "opcore"
# Links from a page to files of the repository outside docs/ (examples, scripts) are fine on a
# code host but have no page in the site.
suppress_warnings = ["myst.xref_missing"]
