"""Validation of the names ``opcore new-op`` and the template's ``pre_gen_project`` hook accept.

Kept free of opcore imports so the cookiecutter hook can use it from a bare interpreter.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import keyword
import re

#: Names owned by opcore itself or by the plugins of its repository: an op package must not take
#: ``opcore.<name>``, ``opcore_<name>`` or ``opcore-<name>`` from them.
RESERVED = frozenset({
    "core", "opcore", "compile", "config", "gradient", "graph", "ifelse", "plugins", "printing",
    "scalar", "scan", "sparse", "tensor", "templates", "testing", "cli", "nnet", "cpu_c",
    "gpu_cuda", "gpu", "c", "py", "sandbox", "misc", "typed_list",
})

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class BadOpName(ValueError):
    """The op name cannot be used for a new package (the message says why and what to do)."""


def _normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def installed_distributions() -> set[str]:
    """Normalised names of the installed distributions."""
    out = set()
    for d in importlib.metadata.distributions():
        name = d.metadata["Name"] if d.metadata else None
        if name:
            out.add(_normalise(name))
    return out


def opcore_entry_point_names() -> set[str]:
    """Names of the entry points in the ``opcore`` group (one per installed plugin)."""
    return {ep.name for ep in importlib.metadata.entry_points(group="opcore")}


def check_op_name(name: str, check_installed: bool = True) -> str:
    """Return ``name`` when it can name a new op package, else raise :class:`BadOpName`.

    The name must be a lowercase Python identifier (it becomes the module ``opcore_<name>``, the
    distribution ``opcore-<name>``, the entry point ``<name>`` and the namespace
    ``opcore.<name>``), not a keyword, not one of opcore's own names, and, with
    ``check_installed``, not already taken by an installed distribution, module or plugin.
    """
    if not isinstance(name, str) or not name:
        raise BadOpName("the op name is empty: give a lowercase identifier such as 'axpb'")
    if not name.isidentifier():
        raise BadOpName(f"op name {name!r} is not a Python identifier: use letters, digits and "
                        "underscores, starting with a letter (for example 'my_op')")
    if not _NAME.match(name):
        raise BadOpName(f"op name {name!r} must be lowercase and start with a letter "
                        f"(try {name.strip('_').lower() or 'my_op'!r}); the class name is "
                        "derived from it")
    if keyword.iskeyword(name):
        raise BadOpName(f"op name {name!r} is a Python keyword")
    dist = f"opcore-{name.replace('_', '-')}"
    if name in RESERVED:
        raise BadOpName(f"op name {name!r} clashes with opcore's own 'opcore.{name}' / "
                        f"'{dist}': choose another name")
    if not check_installed:
        return name
    if _normalise(dist) in installed_distributions():
        raise BadOpName(f"op name {name!r} clashes with the installed distribution {dist!r}: "
                        f"choose another name (or 'pip uninstall {dist}' first)")
    module = f"opcore_{name}"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        raise BadOpName(f"op name {name!r} clashes with the importable module {module!r} "
                        f"({spec.origin or 'a namespace package'}): choose another name")
    if name in opcore_entry_point_names():
        raise BadOpName(f"op name {name!r} clashes with the installed opcore plugin entry point "
                        f"{name!r}: choose another name")
    return name


def check_class_name(name: str) -> str:
    """Return ``name`` when it is a usable Python class name, else raise :class:`BadOpName`."""
    if not name.isidentifier() or keyword.iskeyword(name) or not name[:1].isupper():
        raise BadOpName(f"op class name {name!r} must be a Python identifier starting with an "
                        "uppercase letter (for example 'AXPB')")
    return name
