"""Locate the cookiecutter template and render it (cookiecutter is imported only here)."""

from __future__ import annotations

import os
from pathlib import Path

from opcore.templates.names import check_class_name, check_op_name

PIP_COMMAND = "pip install 'cookiecutter>=2.1'   (or: pip install 'opcore[templates]')"


class CookiecutterMissing(ImportError):
    """cookiecutter, needed only by ``opcore new-op``, is not installed."""


class TemplateNotFound(FileNotFoundError):
    """Neither the repository's ``op_templates/`` nor the packaged copy exists."""


def _is_template(path: Path) -> bool:
    return (path / "cookiecutter.json").is_file()


def template_dir() -> Path:
    """The template directory: ``$OPCORE_OP_TEMPLATE``, the repository's ``op_templates/`` (an
    editable or source checkout), or the copy installed with the package
    (``opcore/templates/op_template``)."""
    env = os.environ.get("OPCORE_OP_TEMPLATE")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates += [here.parent.parent / "op_templates", here / "op_template"]
    for c in candidates:
        if _is_template(c):
            return c
    raise TemplateNotFound("the Op template was not found (looked in "
                           + ", ".join(str(c) for c in candidates)
                           + "); reinstall opcore or set OPCORE_OP_TEMPLATE")


def default_opcore_source() -> str:
    """The checkout this opcore runs from (when it has ``plugins/``), else ``""`` (the index)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "opcore" / "__init__.py").exists() and (root / "plugins").is_dir():
        return str(root)
    return ""


def render(name: str, output_dir: str | os.PathLike = ".", with_c: bool = False,
           with_gpu: bool = False, no_input: bool = True, class_name: str | None = None,
           extra: dict | None = None, overwrite: bool = False,
           check_installed: bool = True, opcore_source: str | None = None) -> Path:
    """Render ``opcore-<name>`` into ``output_dir`` and return the new project's directory.

    Raises :class:`~opcore.templates.names.BadOpName` before writing anything when the name is
    unusable, :class:`CookiecutterMissing` (with the pip command) without cookiecutter, and
    ``FileExistsError`` when the project directory already exists (unless ``overwrite``).
    ``check_installed=False`` skips the clash checks against installed packages (to re-render a
    package that is installed). ``opcore_source`` is where the package's ``install_opcore.py``
    installs opcore from (a checkout path or VCS URL; ``""`` the package index); default
    :func:`default_opcore_source`.
    """
    check_op_name(name, check_installed=check_installed)
    if class_name is not None:
        check_class_name(class_name)
    try:
        from cookiecutter.main import cookiecutter
    except ImportError:
        raise CookiecutterMissing("`opcore new-op` needs cookiecutter, which is not installed: "
                                  + PIP_COMMAND) from None
    slug = "opcore-" + name.replace("_", "-")
    out = Path(output_dir).resolve()
    target = out / slug
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists: choose another -o DIR or remove it")
    context = {"op_name": name, "with_c": "yes" if with_c else "no",
               "with_gpu": "yes" if with_gpu else "no",
               "_check_installed": "yes" if check_installed else "no"}
    if class_name is not None:
        context["op_class"] = class_name
    context["opcore_source"] = (default_opcore_source() if opcore_source is None
                                else opcore_source)
    context.update(extra or {})
    out.mkdir(parents=True, exist_ok=True)
    result = cookiecutter(str(template_dir()), no_input=no_input, extra_context=context,
                          output_dir=str(out), overwrite_if_exists=overwrite)
    return Path(result)
