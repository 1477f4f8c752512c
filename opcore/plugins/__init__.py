"""The plugin host: how backends, op families and tools reach opcore.

Plugin authors: see ``docs/plugins.md`` and :mod:`opcore.plugins.hookspecs`.  A plugin module::

    from opcore.plugins import Backend, hookimpl

    @hookimpl
    def opcore_register_backends(backends):
        backends.register(Backend("mine", priority=5, linker_factory=make_linker))

Importing this package is cheap (no pluggy, no entry-point scan); plugins are discovered the first
time :func:`get_host` ``().ensure_loaded()`` runs.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from opcore.plugins.registries import (
    WELL_KNOWN_NAMESPACES,
    Backend,
    BackendError,
    Command,
    NamespaceNotInstalled,
    PluginError,
    PluginWarning,
    RegistrationClash,
    RewriteEntry,
)

if TYPE_CHECKING:
    from opcore.plugins.manager import PluginHost

__all__ = [
    "Backend", "BackendError", "Command", "NamespaceNotInstalled", "PluginError", "PluginHost",
    "PluginWarning", "RegistrationClash", "RewriteEntry", "get_host", "hookimpl", "hookspec",
    "resolve_namespace", "select_backend",
]


def get_host() -> PluginHost:
    """The process-wide plugin host; call ``.ensure_loaded()`` before reading its registries."""
    from opcore.plugins.manager import get_host as _get_host

    return _get_host()


def select_backend(name: str | None = None) -> Backend:
    """Shortcut for ``get_host().select_backend(name)``."""
    return get_host().select_backend(name)


def resolve_namespace(namespace: str) -> ModuleType:
    """The module a plugin registered for ``namespace`` (``"opcore.tensor.nnet"``).

    Loads plugins if needed; raises :class:`NamespaceNotInstalled` (a ``ModuleNotFoundError``)
    naming the package to install when none provides it.
    """
    return get_host().ensure_loaded().namespaces.resolve(namespace)


def __getattr__(name: str) -> Any:
    # pluggy (and importlib.metadata under it) is imported only when a plugin needs the markers.
    if name in ("hookimpl", "hookspec"):
        from opcore.plugins import hookspecs

        return getattr(hookspecs, name)
    if name == "PluginHost":
        from opcore.plugins.manager import PluginHost

        return PluginHost
    raise AttributeError(f"module 'opcore.plugins' has no attribute {name!r}")


class _AliasLoader:
    """Loads a plugin namespace as the plugin's own module object.

    ``exec_module`` swaps the placeholder in ``sys.modules`` for the real module; the import system
    then returns what ``sys.modules`` holds, and the plugin module's own ``__spec__`` is untouched.
    """

    def __init__(self, namespace: str, target: str | None) -> None:
        self.namespace = namespace
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a throw-away placeholder

    def exec_module(self, module: ModuleType) -> None:
        if self.target is None:
            real = resolve_namespace(self.namespace)
        else:
            real = importlib.import_module(self.target)
        sys.modules[module.__name__] = real


class NamespaceFinder:
    """Lets ``import opcore.tensor.nnet`` (and its submodules) find a plugin's module.

    Only plugin namespaces are looked at: well-known ones (which load plugins on demand) and, once
    plugins are loaded, every registered namespace.  Core modules never reach plugin loading.
    """

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("opcore."):
            return None
        # Read the host without importing the manager (and pluggy) for every core import.
        manager = sys.modules.get("opcore.plugins.manager")
        host = getattr(manager, "_host", None)
        loaded = host is not None and host.loaded
        for namespace in self._candidates(fullname, host if loaded else None):
            if fullname == namespace:
                loader = _AliasLoader(namespace, None)
                return importlib.machinery.ModuleSpec(fullname, loader)
            # a submodule: opcore.tensor.nnet.conv -> <target>.conv
            base = get_host().ensure_loaded().namespaces.target(namespace)
            if base is None:
                return None
            rest = fullname[len(namespace):]
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, base + rest))
        return None

    @staticmethod
    def _candidates(fullname: str, host: Any) -> list[str]:
        names = set(WELL_KNOWN_NAMESPACES)
        if host is not None:
            names.update(host.namespaces.names())
        return [n for n in names if fullname == n or fullname.startswith(n + ".")]


def install_namespace_finder() -> None:
    """Put :class:`NamespaceFinder` first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, NamespaceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, NamespaceFinder())


install_namespace_finder()
