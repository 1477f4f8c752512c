"""The Op package template: ``opcore new-op NAME`` renders ``op_templates/`` with cookiecutter.

:func:`render` is the Python entry (the CLI in :mod:`opcore.templates.cli` wraps it);
:func:`template_dir` finds the template (the repository's ``op_templates/`` next to the package,
else the copy installed as package data).
"""

from __future__ import annotations

from opcore.templates.render import (
    CookiecutterMissing, TemplateNotFound, render, template_dir,
)
from opcore.templates.names import BadOpName, check_op_name

__all__ = ["BadOpName", "CookiecutterMissing", "TemplateNotFound", "check_op_name", "render",
           "template_dir"]
