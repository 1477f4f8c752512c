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

from opcore.graph.rewriting import set_rule_source

if TYPE_CHECKING:
    from opcore.plugins.manager import PluginHost
    from opcore.plugins.registries import Backend

# Plugin namespaces every opcore user may import, and the distribution that provides each.
WELL_KNOWN_NAMESPACES = {
    "opcore.tensor.nnet": "opcore-nnet",
    "opcore.tensor.signal": "opcore-nnet",
    "opcore.sparse": "opcore-sparse",
}
# What the first-party plugins provide, so that an error about a missing backend, command or flag
# names the package to install (or says why the installed one is not loaded).
WELL_KNOWN_BACKENDS = {"c": "opcore-cpu-c", "gpu": "opcore-gpu-cuda"}
WELL_KNOWN_COMMANDS = {"gpu-info": "opcore-gpu-cuda"}
WELL_KNOWN_FLAG_PREFIXES = {"cpu_c__": "opcore-cpu-c", "gpuarray__": "opcore-gpu-cuda",
                            "gpu_cuda__": "opcore-gpu-cuda", "nnet__": "opcore-nnet",
                            "sparse__": "opcore-sparse"}
# Where each first-party distribution lives in a checkout of the opcore repository.
CHECKOUT_PATHS = {"opcore-cpu-c": "plugins/cpu_c", "opcore-gpu-cuda": "plugins/gpu_cuda",
                  "opcore-nnet": "plugins/nnet", "opcore-sparse": "plugins/sparse"}


def install_hint(distribution: str, host: Any = None) -> str:
    """Why the plugin distribution ``distribution`` provides nothing now, and what to do.

    Installed but switched off (``OPCORE_DISABLE_PLUGINS`` / ``OPCORE_PLUGINS``) or failed to
    load: says so with the reason. Otherwise: the ``pip install`` command (and the checkout path).
    ``host`` is a loaded :class:`PluginHost` (default: the process's host when already loaded).
    """
    if host is None:
        host = sys.modules.get("opcore.plugins.manager") and get_host()
    records = getattr(host, "records", {}) if host is not None else {}
    wanted = distribution.replace("_", "-").lower()
    for record in records.values():
        if (record.distribution or "").replace("_", "-").lower() != wanted:
            continue
        if record.status == "disabled":
            return (f"plugin {record.name!r} ({distribution}) is installed but disabled: "
                    f"{'; '.join(record.hints)}")
        if record.status == "failed":
            return f"plugin {record.name!r} ({distribution}) failed to load: {record.error}"
    path = CHECKOUT_PATHS.get(distribution)
    where = f" (in a checkout of opcore: pip install -e {path})" if path else ""
    return f"{distribution} is not installed: pip install {distribution}{where}"


def flag_install_hint(flag: str, host: Any = None) -> str:
    """For an unknown config flag owned by a first-party plugin, :func:`install_hint`; else ''."""
    for prefix, dist in WELL_KNOWN_FLAG_PREFIXES.items():
        if flag.startswith(prefix):
            return f"; flag {flag!r} belongs to {dist}: " + install_hint(dist, host)
    return ""

# The registry records are imported on first use: `import opcore` needs only the import hook.
_FROM_REGISTRIES = ("Backend", "BackendError", "Command", "NamespaceNotInstalled", "PluginError",
                    "PluginWarning", "RegistrationClash", "RewriteEntry", "UnknownBackend",
                    "UnsupportedOp")

__all__ = [
    "Backend", "BackendError", "Command", "NamespaceNotInstalled", "PluginError", "PluginHost",
    "PluginWarning", "RegistrationClash", "RewriteEntry", "get_host", "hookimpl", "hookspec",
    "UnknownBackend", "UnsupportedOp", "resolve_namespace", "select_backend",
]


def get_host() -> PluginHost:
    """The process-wide plugin host; call ``.ensure_loaded()`` before reading its registries."""
    from opcore.plugins.manager import get_host as _get_host

    return _get_host()


def loaded_rewrites() -> Any:
    """The rewrite registry of the loaded host: what the rewrite engine runs by default."""
    return get_host().ensure_loaded().rewrites


set_rule_source(loaded_rewrites)


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
    if name in _FROM_REGISTRIES:
        from opcore.plugins import registries

        value = getattr(registries, name)
        globals()[name] = value
        return value
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

    Two instances are installed.  The first on ``sys.meta_path`` claims only plugin namespaces
    already known (the well-known ones, and every registered one once plugins are loaded), so a
    submodule of a namespace is the plugin's module, never a second copy.  The last
    (``fallback=True``) is asked only about ``opcore.*`` names no other finder found; it loads the
    plugins and looks again, so a third-party namespace imports before anything else loaded them.
    """

    def __init__(self, fallback: bool = False) -> None:
        self.fallback = fallback

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("opcore."):
            return None
        # Read the host without importing the manager (and pluggy) for every core import.
        manager = sys.modules.get("opcore.plugins.manager")
        host = getattr(manager, "_host", None)
        if self.fallback:
            if _opcore_initializing() or getattr(host, "_loading", False):
                return None  # `import opcore` itself never triggers plugin discovery
            host = get_host().ensure_loaded()
        elif host is not None and not host.loaded:
            host = None
        namespace = self._namespace_of(fullname, host)
        if namespace is None:
            return None
        if fullname == namespace:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(namespace, None))
        # a submodule: opcore.tensor.nnet.conv -> <plugin module>.conv
        base = get_host().ensure_loaded().namespaces.target(namespace)
        if base is None:
            return None
        target_name = base + fullname[len(namespace):]
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, target_name))

    @staticmethod
    def _namespace_of(fullname: str, host: Any) -> str | None:
        names = set(WELL_KNOWN_NAMESPACES)
        if host is not None:
            names.update(host.namespaces.names())
        matches = [n for n in names if fullname == n or fullname.startswith(n + ".")]
        return max(matches, key=len) if matches else None


def _opcore_initializing() -> bool:
    module = sys.modules.get("opcore")
    spec = getattr(module, "__spec__", None)
    return module is None or bool(getattr(spec, "_initializing", False))


def install_namespace_finder() -> None:
    """Install the two :class:`NamespaceFinder` instances on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, NamespaceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, NamespaceFinder())
        sys.meta_path.append(NamespaceFinder(fallback=True))


install_namespace_finder()
