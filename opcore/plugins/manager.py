"""The plugin host: discovery, isolated loading, hook calls and backend choice.

Nothing here runs at ``import opcore``: :func:`get_host` builds the host and
:meth:`PluginHost.ensure_loaded` scans the ``opcore`` entry points the first time something needs
them (a compile, a plugin namespace, a CLI command).

Environment:

- ``OPCORE_PLUGINS``: comma list of entry-point names to load (set but empty: none).  The built-in
  ``core`` plugin always loads.
- ``OPCORE_DISABLE_PLUGINS``: comma list of entry-point names not to load.
- ``OPCORE_STRICT_PLUGINS=1``: any plugin problem raises :class:`PluginError` (CI uses it).
- ``OPCORE_TRACE_PLUGINS=1``: print every hook call to stderr.
- ``OPCORE_PLUGIN_TRACE=1``: print each plugin's import, with its time, to stderr.  Whatever it
  says, an import still running after :data:`SLOW_IMPORT_SECONDS` is reported by name on stderr
  while it runs, and ``opcore doctor`` names the plugins whose import was that slow.
- ``OPCORE_PLUGIN_IMPORT_TIMEOUT=SECONDS`` (default 60, ``0`` = none): a plugin import still
  running then is abandoned and the plugin recorded as failed, so a plugin that hangs at import
  cannot hang the process (main thread, when no other SIGALRM timer is in use).

Load order: the core, then opcore's own plugin distributions, then third parties (each group by
entry-point name), so a name (namespace, backend, command...) claimed by opcore itself stays
opcore's; a second claim is an error on the later plugin naming both.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

import pluggy

from opcore._lazy import LazyModule
from opcore.config import FlagValueError, config as global_config
from opcore.plugins import WELL_KNOWN_BACKENDS, flag_install_hint, hookspecs, install_hint
from opcore.plugins.discovery import FoundEntryPoint, discover
from opcore.plugins.registries import (
    Backend,
    BackendError,
    BackendRegistry,
    CommandRegistry,
    ConfigView,
    DoctorReport,
    ImplRegistry,
    NamespaceRegistry,
    PluginError,
    PluginWarning,
    RegistrationClash,
    RewriteRegistry,
)

ENTRY_POINT_GROUP = "opcore"

#: only a misspelt hook name needs it (a suggestion): imported then
difflib = LazyModule("difflib")

#: A plugin import slower than this (seconds) is reported by name (stderr, ``opcore doctor``).
SLOW_IMPORT_SECONDS = 3.0

#: opcore's own distributions: loaded before third parties, so their registrations win.
FIRST_PARTY_DISTRIBUTIONS = frozenset({"opcore", "opcore-cpu-c", "opcore-gpu-cuda", "opcore-nnet",
                                       "opcore-sparse"})

#: The registration hooks, in the order the host calls them, with the registry each receives.
REGISTRATION_HOOKS = (
    ("opcore_register_config", "config"),
    ("opcore_register_ops", "namespaces"),
    ("opcore_register_rewrites", "rewrites"),
    ("opcore_register_backends", "backends"),
    ("opcore_register_impls", "impls"),
    ("opcore_register_commands", "commands"),
)


@dataclass
class PluginRecord:
    """What the host knows about one plugin (one line of ``opcore plugins``)."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    status: str = "pending"  # loaded | failed | disabled
    errors: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    exception: BaseException | None = None
    import_seconds: float | None = None

    @property
    def error(self) -> str | None:
        """All problems of this plugin on one line, or ``None``."""
        return "; ".join(self.errors) if self.errors else None

    def fail(self, message: str, hint: str = "", exc: BaseException | None = None,
             fatal: bool = True) -> None:
        if fatal:
            self.status = "failed"
        self.errors.append(message)
        if hint:
            self.hints.append(hint)
        if exc is not None and self.exception is None:
            self.exception = exc

    def describe(self) -> str:
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        return f"plugin {self.name!r}{dist}"


def _env_list(name: str) -> list[str] | None:
    """``None`` when unset; else the comma-separated names (empty list when set but empty)."""
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [p.strip() for p in raw.split(",") if p.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _import_hint(record: PluginRecord, exc: BaseException) -> str:
    dist = record.distribution or record.name
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (f"missing module {exc.name!r}: `pip install --force-reinstall {dist}`, or "
                f"`pip uninstall {dist}` if you do not need it")
    return (f"report it to the maintainers of {dist}; meanwhile disable it with "
            f"OPCORE_DISABLE_PLUGINS={record.name} or `pip uninstall {dist}`")


class _Manager(pluggy.PluginManager):
    """pluggy's manager, also taking plain ``opcore_*`` functions as hook implementations.

    Without this, a misspelt undecorated hook (``opcore_register_backend``) would be ignored
    silently; with it, :meth:`PluginHost._check_pending` reports it against its plugin.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str):  # type: ignore[override]
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("opcore_"):
            method = getattr(plugin, name, None)
            if callable(method) and not isinstance(method, type):
                return {}  # pluggy fills in the defaults
        return opts


class PluginHost:
    """The one plugin host of a process (see :func:`get_host`).

    Registries (filled by the hooks): :attr:`config`, :attr:`namespaces`, :attr:`rewrites`,
    :attr:`backends`, :attr:`impls`, :attr:`commands`.
    """

    def __init__(self, config: Any = None, builtin: Any = None) -> None:
        if config is None:

            config = global_config
        self.pm = _Manager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        if _env_flag("OPCORE_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()
        self.config = ConfigView(config)
        # an unknown first-party flag (cpu_c__blas) names the package that declares it
        sys.modules["opcore.config"].unknown_flag_hint = (
            lambda name: flag_install_hint(name, self))
        self.namespaces = NamespaceRegistry()
        self.rewrites = RewriteRegistry()
        self.backends = BackendRegistry()
        self.impls = ImplRegistry(self.backends)
        self.commands = CommandRegistry()
        self.records: dict[str, PluginRecord] = {}
        self.loaded = False
        self._loading = False
        self._builtin = builtin
        self._lock = threading.RLock()
        self._strict_error: PluginError | None = None
        self._flag_error: FlagValueError | None = None
        self._health: dict[tuple[str, str], tuple[bool, str]] = {}
        self._noticed: set[str] = set()
        self._warned_failures = False
        #: version of the ``opcore`` distribution (None: not installed, e.g. a bare checkout)
        self.core_version: str | None = None
        for registry in self._registries().values():
            registry.clash_handler = self._on_clash
        self.namespaces.before_resolve = self.ensure_loaded

    # -- registries ----------------------------------------------------------------------------
    def _registries(self) -> dict[str, Any]:
        return {"config": self.config, "namespaces": self.namespaces, "rewrites": self.rewrites,
                "backends": self.backends, "impls": self.impls, "commands": self.commands}

    def _on_clash(self, exc: RegistrationClash, plugin: str) -> None:
        record = self.records.get(plugin)
        if record is None:
            raise exc
        hint = "keep one of the two plugins (pip uninstall / OPCORE_DISABLE_PLUGINS)"
        record.fail(str(exc), hint, exc, fatal=False)

    @property
    def plugins(self) -> list[PluginRecord]:
        """Every plugin seen (loaded, failed or disabled), in load order."""
        return list(self.records.values())

    # -- loading -------------------------------------------------------------------------------
    def ensure_loaded(self, strict: bool | None = None, warn: bool = True) -> PluginHost:
        """Discover and load plugins once; later calls return at once.

        With ``strict`` (default: ``OPCORE_STRICT_PLUGINS``), any plugin problem raises
        :class:`PluginError` listing them all; otherwise problems are recorded, reported once as a
        :class:`PluginWarning` (unless ``warn`` is false) and shown by ``opcore plugins``.
        """
        if strict is None:
            strict = _env_flag("OPCORE_STRICT_PLUGINS")
        if not self.loaded:
            with self._lock:
                if self._loading:
                    return self  # re-entered from a plugin's import: keep going with what is there
                if not self.loaded:
                    self._loading = True
                    try:
                        self._load()
                    finally:
                        self.loaded = True
                        self._loading = False
        if self._flag_error is not None:
            raise self._flag_error
        if strict and self._strict_error is not None:
            raise self._strict_error
        if not strict and warn:
            self._warn_failures()
        return self

    def _load(self) -> None:
        pm = self.pm
        pm.hook.opcore_addhooks.call_historic(kwargs={"pluginmanager": pm})
        found = discover(ENTRY_POINT_GROUP)
        self.core_version = found.core_version
        self._register_builtin()
        for ep in sorted(found.entry_points, key=lambda ep: (not _first_party(ep), ep.name)):
            self._load_entry_point(ep)
        self._check_pending()
        self._call_registration_hooks()
        problems = [f"{r.describe()}: {e}" for r in self.records.values() for e in r.errors]
        if problems:
            self._strict_error = PluginError(
                "opcore plugin problems (OPCORE_STRICT_PLUGINS is set):\n  "
                + "\n  ".join(problems))

    def _register_builtin(self) -> None:

        builtin = self._builtin or import_module("opcore.core_plugin")
        record = PluginRecord("core", "opcore", self.core_version or _fallback_version(),
                              builtin.__name__, "loaded")
        self.records["core"] = record
        self.pm.register(builtin, name="core")

    def _load_entry_point(self, ep: FoundEntryPoint) -> None:
        dist_name, version = ep.distribution, ep.version
        record = PluginRecord(ep.name, dist_name, version, ep.value)
        if ep.name in self.records:
            first = self.records[ep.name]
            record.fail(f"entry point name {ep.name!r} is used by both {first.distribution!r} "
                        f"and {dist_name!r}; only the first is loaded",
                        "uninstall one of the two distributions")
            self.records[f"{ep.name}@{dist_name}"] = record
            return
        self.records[ep.name] = record
        allow = _env_list("OPCORE_PLUGINS")
        if allow is not None and ep.name not in allow:
            record.status = "disabled"
            record.hints.append("not listed in OPCORE_PLUGINS")
            return
        if ep.name in (_env_list("OPCORE_DISABLE_PLUGINS") or []):
            record.status = "disabled"
            record.hints.append("listed in OPCORE_DISABLE_PLUGINS")
            return
        try:
            module = _timed_import(ep, record)
            self.pm.register(module, name=ep.name)
        except pluggy.PluginValidationError as exc:
            self._unregister(ep.name)
            record.fail(f"invalid hook implementation: {exc}",
                        "fix the hook's signature to match opcore.plugins.hookspecs", exc)
            return
        except (Exception, SystemExit) as exc:
            self._unregister(ep.name)
            record.fail(f"import failed: {type(exc).__name__}: {exc}", _import_hint(record, exc),
                        exc)
            return
        record.status = "loaded"

    def _unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin=plugin, name=name)

    def _check_pending(self) -> None:
        """pluggy's ``check_pending``, reported per plugin instead of raising at the first."""
        known = [n for n, c in vars(self.pm.hook).items()
                 if isinstance(c, pluggy.HookCaller) and c.has_spec()]
        for name, caller in list(vars(self.pm.hook).items()):
            if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "see docs/plugins.md"
                record = self.records.get(impl.plugin_name)
                if record is None:
                    raise PluginError(f"unknown hook {name!r} in {impl.plugin_name!r}")
                record.fail(f"unknown hook {name!r} ({hint})", hint, fatal=False)

    def _ordered_impls(self, hook_name: str) -> list[Any]:
        order = {name: i for i, name in enumerate(self.records)}
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        return sorted(impls, key=lambda impl: order.get(impl.plugin_name, len(order)))

    def _call_registration_hooks(self) -> None:
        registries = self._registries()
        failed: set[str] = set()
        for hook_name, arg in REGISTRATION_HOOKS:
            registry = registries[arg]
            for impl in self._ordered_impls(hook_name):
                plugin = impl.plugin_name
                if plugin in failed:
                    continue
                kwargs = {a: registry for a in impl.argnames if a == arg}
                try:
                    with registry.owned_by(plugin):
                        impl.function(**kwargs)
                except FlagValueError as exc:
                    # the user set a value the flag does not accept: their error, not the plugin's
                    self._flag_error = exc
                    raise
                except Exception as exc:
                    if plugin == "core":
                        raise  # a bug in opcore itself: never hide it
                    failed.add(plugin)
                    self._drop(plugin)
                    record = self.records[plugin]
                    record.fail(f"{hook_name} raised {type(exc).__name__}: {exc}",
                                _import_hint(record, exc), exc)
            if hook_name == "opcore_register_backends":
                self.impls.backends_final = True  # from now on impls.register checks the name
        for plugin, message in self.impls.check_backends():
            record = self.records.get(plugin)
            if record is None:
                raise PluginError(message)
            record.fail(message, "register for one of the known backends (see `opcore plugins`)",
                        fatal=False)

    def _drop(self, plugin: str) -> None:
        """Forget what a failing plugin registered (config flags stay: they cannot be removed)."""
        for name, registry in self._registries().items():
            if name != "config":
                registry.forget(plugin)
        self._unregister(plugin)

    def _warn_failures(self) -> None:
        if self._warned_failures:
            return
        self._warned_failures = True
        for record in self.records.values():
            if record.errors:
                warnings.warn(f"opcore: {record.describe()}: {record.error} (see `opcore plugins`)",
                              PluginWarning, stacklevel=4)

    # -- backends ------------------------------------------------------------------------------
    def health(self, backend: Backend | str) -> tuple[bool, str]:
        """``(ok, reason)`` of a backend, checked once per process."""
        self.ensure_loaded()
        if isinstance(backend, str):
            found = self.backends.get(backend)
            if found is None:
                return False, f"unknown backend {backend!r}"
            backend = found

        # a GPU backend's health depends on config.device, which tests and users change
        key = (backend.name, str(getattr(global_config, "device", "")))
        if key not in self._health:
            self._health[key] = backend.check()
        return self._health[key]

    def healthy_backends(self) -> list[Backend]:
        """Healthy backends, best first."""
        self.ensure_loaded()
        return [b for b in self.backends.by_priority() if self.health(b)[0]]

    def select_backend(self, name: str | None = None) -> Backend:
        """The backend to compile with.

        With ``name=None``: the healthy backend of highest priority; an installed but unhealthy one
        is skipped with a one-line :class:`PluginWarning` (once per process).  With a name: that
        backend, or :class:`BackendError` saying why not.
        """
        self.ensure_loaded()
        if name is not None:
            return self._named_backend(name)
        for backend in self.backends.by_priority():
            ok, reason = self.health(backend)
            if ok:
                return backend
            # "inactive: ..." = off by configuration (e.g. gpu with device=cpu): no warning
            if backend.name not in self._noticed and not reason.startswith("inactive:"):
                self._noticed.add(backend.name)
                plugin = self.backends.plugin_of(backend.name)
                warnings.warn(f"opcore: backend {backend.name!r} (plugin {plugin!r}) is installed "
                              f"but unavailable, skipped: {reason}", PluginWarning, stacklevel=3)
        raise BackendError("no healthy backend: " + "; ".join(
            f"{b.name}: {self.health(b)[1]}" for b in self.backends.by_priority()) or "none")

    def _named_backend(self, name: str) -> Backend:
        backend = self.backends.get(name)
        if backend is None:
            failed = [r for r in self.records.values() if r.name == name and r.status != "loaded"]
            extra = ""
            if failed:
                why = failed[0].error or "; ".join(failed[0].hints)
                extra = f" (plugin {name!r} is {failed[0].status}: {why})"
            elif name in WELL_KNOWN_BACKENDS:
                extra = (f" (backend {name!r} comes with {WELL_KNOWN_BACKENDS[name]}: "
                         f"{install_hint(WELL_KNOWN_BACKENDS[name], self)})")
            raise BackendError(f"unknown backend {name!r}{extra}; known backends: "
                               + ", ".join(self.backends.names()))
        ok, reason = self.health(backend)
        if not ok:
            raise BackendError(f"backend {name!r} is unavailable: {reason}")
        return backend

    # -- reporting -----------------------------------------------------------------------------
    def report(self) -> list[dict[str, Any]]:
        """One dict per plugin, the public schema of ``opcore plugins --json`` (docs/plugins.md)."""
        self.ensure_loaded(strict=False, warn=False)
        self.impls.resolve_deferred()  # what each plugin registers, the deferred included
        out = []
        for key, record in self.records.items():
            owner = key if record.status == "loaded" else None
            regs = {
                "ops": list(self.namespaces.ops_by_plugin.get(owner, [])),
                "namespaces": list(self.namespaces.by_plugin.get(owner, [])),
                "rewrites": list(self.rewrites.by_plugin.get(owner, [])),
                "backends": list(self.backends.by_plugin.get(owner, [])),
                "impls": list(self.impls.by_plugin.get(owner, [])),
                "flags": list(self.config.by_plugin.get(owner, [])),
                "commands": list(self.commands.by_plugin.get(owner, [])),
            }
            out.append({
                "name": record.name,
                "distribution": record.distribution,
                "version": record.version,
                "module": record.module,
                "status": record.status,
                "registers": regs,
                "health": self._plugin_health(record, regs["backends"]),
                "error": record.error,
                "hint": "; ".join(record.hints) or None,
                "import_seconds": record.import_seconds,
            })
        return out

    def doctor_checks(self) -> list[dict[str, str]]:
        """The lines plugins add to ``opcore doctor`` (hook ``opcore_doctor_checks``), in load
        order; a hook that raises gives one ``problem`` line naming its plugin."""
        self.ensure_loaded(strict=False, warn=False)
        report = DoctorReport()
        for impl in self._ordered_impls("opcore_doctor_checks"):
            plugin = impl.plugin_name
            try:
                with report.owned_by(plugin):
                    impl.function(**{a: report for a in impl.argnames if a == "report"})
            except Exception as exc:
                if plugin == "core":
                    raise
                with report.owned_by(plugin):
                    report.add(f"plugin {plugin}", "problem",
                               f"opcore_doctor_checks raised {type(exc).__name__}: {exc}",
                               _import_hint(self.records[plugin], exc))
        return report.checks

    def _plugin_health(self, record: PluginRecord, backends: list[str]) -> dict[str, Any]:
        if record.status == "disabled":
            return {"ok": True, "reason": "disabled: " + "; ".join(record.hints)}
        if record.errors:
            return {"ok": False, "reason": record.error}
        bad = []
        for name in backends:
            ok, reason = self.health(name)
            if not ok and not reason.startswith("inactive:"):
                bad.append(f"{name}: {reason}")
        return {"ok": not bad, "reason": "; ".join(bad)}


def _first_party(ep: FoundEntryPoint) -> bool:
    return str(ep.distribution or "").replace("_", "-").lower() in FIRST_PARTY_DISTRIBUTIONS


class PluginImportTimeout(Exception):
    """A plugin's import ran past ``OPCORE_PLUGIN_IMPORT_TIMEOUT``."""


def _import_timeout() -> float:
    raw = os.environ.get("OPCORE_PLUGIN_IMPORT_TIMEOUT", "60")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise PluginError(f"OPCORE_PLUGIN_IMPORT_TIMEOUT={raw!r}: accepted values: a finite "
                          "number of seconds >= 0 (0 = no limit)")
    return value


def _alarm_free() -> bool:
    """Whether this thread may time the import with SIGALRM without disturbing anyone's timer."""
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


class _SlowImportWatch:
    """One daemon thread naming, on stderr, an import still running after
    :data:`SLOW_IMPORT_SECONDS` (a hung plugin is named, not silent).  Started at the first
    plugin import of a process and kept: a thread start per plugin cost more than the imports of
    small plugins."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._current: tuple[str, str, float] | None = None
        self._thread: threading.Thread | None = None

    def begin(self, name: str, value: str) -> None:
        with self._cond:
            self._current = (name, value, time.monotonic() + SLOW_IMPORT_SECONDS)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="opcore-import-watch",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def end(self) -> None:
        with self._cond:
            self._current = None
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                current = self._current
                if current is None:
                    self._cond.wait()
                    continue
                left = current[2] - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                _report_slow(current[0], current[1])
                self._current = None  # once per import


_watch = _SlowImportWatch()


def _timed_import(ep: Any, record: PluginRecord) -> Any:
    """``ep.load()``, timed into ``record.import_seconds``; an import still running after
    :data:`SLOW_IMPORT_SECONDS` is reported by name on stderr while it runs (a hung plugin is
    then named, not silent), and ``OPCORE_PLUGIN_TRACE=1`` prints every import's time."""
    trace = _env_flag("OPCORE_PLUGIN_TRACE")
    if trace:
        print(f"opcore: importing plugin {ep.name!r} ({ep.value})", file=sys.stderr, flush=True)
    limit = _import_timeout()
    alarm = limit > 0 and _alarm_free()

    def expire(signum: int, frame: Any) -> None:
        raise PluginImportTimeout(f"the import of {ep.value} did not finish in {limit:g} s "
                                  "(OPCORE_PLUGIN_IMPORT_TIMEOUT); it was abandoned")

    if alarm:
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, limit)
    _watch.begin(ep.name, ep.value)
    start = time.perf_counter()
    try:
        return ep.load()
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
        _watch.end()
        record.import_seconds = time.perf_counter() - start
        if trace:
            print(f"opcore: plugin {ep.name!r} imported in {record.import_seconds:.3f} s",
                  file=sys.stderr, flush=True)


def _report_slow(name: str, value: str) -> None:
    print(f"opcore: importing plugin {name!r} ({value}) has taken more than "
          f"{SLOW_IMPORT_SECONDS:g} s and is still running (disable it with "
          f"OPCORE_DISABLE_PLUGINS={name})", file=sys.stderr, flush=True)


def _fallback_version() -> str:
    """``opcore.__version__`` (the distribution is not installed: a bare checkout)."""
    return str(getattr(sys.modules.get("opcore"), "__version__", "0+unknown"))


def _core_version() -> str:
    """The installed ``opcore`` distribution's version (from the cached discovery)."""
    return discover(ENTRY_POINT_GROUP).core_version or _fallback_version()


_host: PluginHost | None = None
_host_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide :class:`PluginHost` (created on first call; plugins load on first use)."""
    global _host
    if _host is None:
        with _host_lock:
            if _host is None:
                _host = PluginHost()
    return _host


def _reset_host(host: PluginHost | None = None) -> PluginHost | None:
    """Replace the process-wide host (tests only); returns the previous one."""
    global _host
    previous, _host = _host, host
    return previous


def load_hook_caller(hook_name: str) -> Callable[..., list[Any]]:
    """The pluggy caller of a hook (for plugins that add hooks via ``opcore_addhooks``)."""
    return getattr(get_host().ensure_loaded().pm.hook, hook_name)
