"""Run unmodified Theano programs on opcore: ``import theano`` served by opcore, opt-in.

From the command line (``-m`` runs a module, e.g. ``-m pytest tests/``)::

    python -m opcore.compat.theano script.py [args]
    python -m opcore.compat.theano -m module [args]

or, inside a running interpreter, :func:`install`.  Once installed, ``import theano`` gives
``opcore`` itself and every ``theano.X.Y`` the opcore module of the same path (``theano.tensor is
opcore.tensor``), except the renamings of :mod:`opcore.compat.theano.modmap`; a Theano module opcore
cannot honour raises an ``ImportError`` saying why.  ``THEANO_FLAGS`` and ``~/.theanorc`` are mapped
onto opcore's flags (:mod:`opcore.compat.theano.flags`).

A real Theano installed in the environment is never shadowed silently: :func:`install` raises
:class:`TheanoShadowError` unless ``shadow=True`` (``--shadow-theano`` on the command line, or
``OPCORE_SHADOW_THEANO=1``).

>>> import opcore.compat.theano as compat
>>> compat.install()
>>> import theano, theano.tensor as T, opcore
>>> theano is opcore and T is opcore.tensor
True
>>> compat.uninstall()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType
from typing import Any

from opcore.compat.theano import flags as theano_flags
from opcore.config import config
from opcore.compat.theano.modmap import (CONTAINER_PACKAGES, OPCORE_SPELLING_RENAMED,
                                         missing_why, opcore_name, refused)

__all__ = ["TheanoModuleUnavailable", "TheanoShadowError", "TheanoFinder", "install", "installed", "uninstall",
           "real_theano_location"]


class TheanoShadowError(RuntimeError):
    """A real Theano is installed (or imported) and the caller did not choose opcore over it."""


class TheanoModuleUnavailable(ImportError):
    """A Theano module opcore refuses or does not have; the message says why.

    An ``ImportError`` but not a ``ModuleNotFoundError``, so that ``from theano.sandbox import
    cuda`` reports the reason instead of "cannot import name".
    """


class _AliasLoader(importlib.abc.Loader):
    """Loads ``theano.X`` as the opcore module itself (``sys.modules`` holds one object)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        try:
            real = importlib.import_module(self.target)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing and (self.target == missing or self.target.startswith(missing + ".")):
                if name in CONTAINER_PACKAGES and missing == self.target:
                    # theano.sandbox holds modules opcore serves or refuses one by one
                    module.__doc__ = f"{name}: Theano's container package (opcore has no "
                    module.__doc__ += f"{self.target}); its modules are served one by one"
                    return
                sys.modules.pop(name, None)
                raise TheanoModuleUnavailable(
                    f"No module named {name!r}: opcore serves it as {self.target!r}, which this "
                    f"installation does not have ({missing_why(self.target)})", name=name) from None
            raise
        sys.modules[name] = real


class _RefusingLoader(importlib.abc.Loader):
    def __init__(self, why: str) -> None:
        self.why = why

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        sys.modules.pop(name, None)
        raise TheanoModuleUnavailable(f"No module named {name!r}: {self.why}", name=name)


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: an ``opcore.*`` module nobody found (``from theano.tensor import
    no_such``) raises saying which opcore module serves the Theano name and why it is absent."""

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("opcore.") or "theano" not in sys.modules:
            return None
        theano_name = "theano." + fullname[len("opcore."):]
        why = (f"opcore serves {theano_name!r} as {fullname!r}, which this installation does "
               f"not have ({missing_why(fullname)})")
        return importlib.machinery.ModuleSpec(fullname, _RefusingLoader(why))


class TheanoFinder(importlib.abc.MetaPathFinder):
    """Serves ``theano`` and ``theano.*`` from opcore (see :mod:`~opcore.compat.theano.modmap`)."""

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.startswith("opcore."):
            # `from theano.sandbox import cuda` imports opcore.sandbox.cuda (the parent module's
            # own name): refusals and renamings apply under opcore's spelling too
            theano_name = "theano." + fullname[len("opcore."):]
            why = refused(theano_name)
            if why:
                return importlib.machinery.ModuleSpec(fullname, _RefusingLoader(why))
            for prefix, target in OPCORE_SPELLING_RENAMED.items():
                if fullname == prefix or fullname.startswith(prefix + "."):
                    target_name = target + fullname[len(prefix):]
                    spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))
                    spec.submodule_search_locations = []
                    return spec
            return None
        if fullname != "theano" and not fullname.startswith("theano."):
            return None
        why = refused(fullname)
        loader = _RefusingLoader(why) if why else _AliasLoader(opcore_name(fullname))
        spec = importlib.machinery.ModuleSpec(fullname, loader)
        if fullname == "theano" or why is None:
            spec.submodule_search_locations = []  # a package: submodules come back to us
        return spec


def real_theano_location() -> str | None:
    """Where a real ``theano`` package would be imported from (``None`` when there is none)."""
    mod = sys.modules.get("theano")
    if mod is not None and not _is_ours(mod):
        return getattr(mod, "__file__", None) or repr(mod)
    spec = importlib.machinery.PathFinder.find_spec("theano")
    if spec is None:
        return None
    return spec.origin or (list(spec.submodule_search_locations or []) or ["?"])[0]


def _is_ours(mod: ModuleType) -> bool:
    return getattr(mod, "__name__", "").split(".")[0] == "opcore"


def installed() -> bool:
    """True while :func:`install` is in effect."""
    return any(isinstance(f, TheanoFinder) for f in sys.meta_path)


def install(shadow: bool | None = None, read_flags: bool = True) -> None:
    """Serve ``import theano`` from opcore in this interpreter.

    ``shadow``: allow it although a real Theano is installed (default: the environment variable
    ``OPCORE_SHADOW_THEANO=1``); without it a real Theano makes this raise
    :class:`TheanoShadowError` saying how to choose.  ``read_flags``: map ``THEANO_FLAGS`` and
    ``~/.theanorc`` onto ``opcore.config`` (see :mod:`opcore.compat.theano.flags`).
    """
    if installed():
        return
    if shadow is None:
        shadow = os.environ.get("OPCORE_SHADOW_THEANO", "") not in ("", "0")
    where = real_theano_location()
    if where is not None and not shadow:
        raise TheanoShadowError(
            f"a real Theano is installed ({where}); opcore will not shadow it silently. To run "
            "this program on opcore, pass --shadow-theano (python -m opcore.compat.theano "
            "--shadow-theano ...), call install(shadow=True) or set OPCORE_SHADOW_THEANO=1; to "
            "run it on Theano, run it with plain python.")
    if where is not None:
        for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
            if not _is_ours(sys.modules[name]):
                del sys.modules[name]
    if read_flags:
        theano_flags.apply(config)
    sys.meta_path.insert(0, TheanoFinder())
    sys.meta_path.append(_MissingFinder())


def uninstall() -> None:
    """Undo :func:`install`: ``import theano`` is no longer served by opcore, and the flags it
    set from ``THEANO_FLAGS`` get their previous values back."""
    theano_flags.restore()
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, (TheanoFinder, _MissingFinder))]
    for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
        if _is_ours(sys.modules[name]):
            del sys.modules[name]
