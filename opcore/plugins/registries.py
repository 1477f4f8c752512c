"""The registry objects handed to plugin hooks, and the records they hold.

Every hook receives a registry rather than returning values: the host tells the registry which
plugin is calling (:meth:`_Registry.owned_by`), so each record remembers its plugin and a name
registered twice is reported with *both* plugins named.

This module imports nothing heavy (no pluggy, no importlib.metadata): ``opcore.compile`` imports
:class:`Backend` from here while ``import opcore`` runs.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterator, NamedTuple


class PluginError(RuntimeError):
    """A plugin failed to load or registered something inconsistent."""


class RegistrationClash(PluginError):
    """Two plugins registered the same name."""


class BackendError(RuntimeError):
    """A backend was requested that is unknown or unavailable here."""


class UnknownBackend(BackendError, ValueError):
    """An implementation was registered for a backend name no plugin registered."""


class UnsupportedOp(NotImplementedError):
    """A backend was asked to run an op it does not implement (the test tooling xfails on it)."""

    def __init__(self, backend: str, op: Any, reason: str) -> None:
        self.backend = backend
        self.op = op
        self.reason = reason
        super().__init__(f"backend {backend!r} does not support {op}: {reason}")


class PluginWarning(UserWarning):
    """A plugin failed to load, or an installed backend is skipped; the message says why."""


class NamespaceNotInstalled(ModuleNotFoundError):
    """A plugin namespace (``opcore.tensor.nnet``, ``opcore.sparse``) that no plugin provides."""


def _always_available() -> tuple[bool, str]:
    return True, ""


@dataclass(frozen=True)
class Backend:
    """A way to run compiled graphs, contributed by ``opcore_register_backends``.

    ``available()`` returns ``(ok, reason)``; ``reason`` says how to fix it when ``ok`` is false
    (``"no C compiler found: install gcc"``).  ``linker_factory(mode)`` returns the Linker that
    builds thunks.  ``requires``/``incompatible`` are rewrite tags the mode must include/exclude.
    ``supports(op) -> (ok, reason)`` is optional: it tells the test tooling which ops the backend
    can run (``None``: every op, e.g. through ``perform``).  ``implements(op) -> (ok, reason)`` is
    optional too: whether the backend has its *own* implementation of ``op`` rather than running
    its ``perform`` (``None``: what ``supports`` says); ``OPCORE_TEST_BACKEND`` xfails the tests
    of the ops it lacks, with its reason.  ``owns_type(type) -> bool``
    is optional: variable types only this backend can run (``GpuArrayType``); a node with such a
    type runs on this backend even inside another backend's function (see ``ImplRegistry``).

    >>> Backend("py", priority=0, linker_factory=lambda mode: None).name
    'py'
    """

    name: str
    priority: int = 0
    available: Callable[[], tuple[bool, str]] = _always_available
    linker_factory: Callable[[Any], Any] | None = None
    requires: tuple[str, ...] = ()
    incompatible: tuple[str, ...] = ()
    doc: str = ""
    supports: Callable[[Any], tuple[bool, str]] | None = None
    owns_type: Callable[[Any], bool] | None = None
    implements: Callable[[Any], tuple[bool, str]] | None = None

    def check(self) -> tuple[bool, str]:
        """Run the health check; an exception counts as unhealthy and its text is the reason."""
        try:
            result = self.available()
        except Exception as exc:  # a broken health check must not break compilation
            return False, f"health check raised {type(exc).__name__}: {exc}"
        if isinstance(result, bool):
            return result, "" if result else "unavailable (no reason given)"
        ok, reason = result
        return bool(ok), str(reason or "")

    def supports_op(self, op: Any) -> tuple[bool, str]:
        """``(True, "")`` when this backend can run ``op`` (see :attr:`supports`)."""
        return self._ask(self.supports, "supports", op)

    def implements_op(self, op: Any) -> tuple[bool, str]:
        """``(True, "")`` when this backend has its own implementation of ``op`` (see
        :attr:`implements`; ``supports`` when that is not given)."""
        if self.implements is None:
            return self.supports_op(op)
        return self._ask(self.implements, "implements", op)

    @staticmethod
    def _ask(check: Callable[[Any], tuple[bool, str]] | None, what: str,
             op: Any) -> tuple[bool, str]:
        if check is None:
            return True, ""
        try:
            ok, reason = check(op)
        except Exception as exc:
            return False, f"{what}() raised {type(exc).__name__}: {exc}"
        return bool(ok), str(reason or "")


class _Registry:
    """Shared machinery: the calling plugin and what each plugin registered."""

    kind = "entry"

    def __init__(self) -> None:
        self._owner = "core"
        self.by_plugin: dict[str, list[str]] = {}
        self.clash_handler: Callable[[RegistrationClash, str], None] | None = None

    @contextlib.contextmanager
    def owned_by(self, plugin: str) -> Iterator[None]:
        """Attribute registrations made inside the block to ``plugin``."""
        saved, self._owner = self._owner, plugin
        try:
            yield
        finally:
            self._owner = saved

    def _note(self, label: str) -> None:
        self.by_plugin.setdefault(self._owner, []).append(label)

    def _clash(self, label: str, first: str) -> None:
        msg = (f"{self.kind} {label} is registered by both plugin {first!r} and plugin "
               f"{self._owner!r}; uninstall or disable one of them (OPCORE_DISABLE_PLUGINS)")
        exc = RegistrationClash(msg)
        if self.clash_handler is None:
            raise exc
        self.clash_handler(exc, self._owner)

    def forget(self, plugin: str) -> None:
        """Drop everything ``plugin`` registered (used when a plugin fails half-way)."""
        self.by_plugin.pop(plugin, None)


# -- backends ---------------------------------------------------------------------------------
class BackendRegistry(_Registry):
    """``backends.register(Backend(...))`` from ``opcore_register_backends``."""

    kind = "backend"

    def __init__(self) -> None:
        super().__init__()
        self._backends: dict[str, tuple[Backend, str]] = {}

    def register(self, backend: Backend) -> None:
        """Add a backend; a name already taken by another plugin is a clash."""
        if not isinstance(backend, Backend):
            raise TypeError(f"backends.register() takes an opcore.plugins.Backend, got {backend!r}")
        if backend.name in self._backends:
            self._clash(repr(backend.name), self._backends[backend.name][1])
            return
        self._backends[backend.name] = (backend, self._owner)
        self._note(backend.name)

    def get(self, name: str) -> Backend | None:
        entry = self._backends.get(name)
        return entry[0] if entry else None

    def plugin_of(self, name: str) -> str | None:
        entry = self._backends.get(name)
        return entry[1] if entry else None

    def names(self) -> list[str]:
        return sorted(self._backends)

    def by_priority(self) -> list[Backend]:
        """Backends, best first (highest priority; ties by name for a stable order)."""
        return sorted((b for b, _ in self._backends.values()), key=lambda b: (-b.priority, b.name))

    def forget(self, plugin: str) -> None:
        super().forget(plugin)
        for name in [n for n, (_, p) in self._backends.items() if p == plugin]:
            del self._backends[name]

    def __contains__(self, name: object) -> bool:
        return name in self._backends

    def __getitem__(self, name: str) -> Backend:
        try:
            return self._backends[name][0]
        except KeyError:
            raise KeyError(f"unknown backend {name!r}; known: {', '.join(self.names())}") from None

    def __iter__(self) -> Iterator[Backend]:
        return iter(self.by_priority())

    def __len__(self) -> int:
        return len(self._backends)


# -- implementations --------------------------------------------------------------------------
class ImplRegistry(_Registry):
    """``impls.register(backend_name, op_type, impl)`` from ``opcore_register_impls``.

    One table per backend.  What ``impl`` is depends on the backend: a thunk maker
    ``impl(node, storage_map)`` for ``py``, an object with the C protocol methods for ``c``, a
    ``GpuRule`` for ``gpu``.  Ops that carry a backend's protocol themselves (Theano's ``c_code``,
    ``gpu_kernels``) reach the same table through the backend's *adapter*
    (:meth:`register_adapter`), so there is one precedence rule, used by every backend:

    **walk ``type(op).__mro__``; the first class that either defines the adapter's method itself
    or has a registered implementation gives the implementation (the op's own method first when a
    class has both).**

    So an op's own ``c_code`` beats an implementation registered for one of its base classes, and
    an implementation registered for a subclass beats the ``c_code`` it inherits.

    A backend name must be one a plugin registered with ``opcore_register_backends``: once the host
    has called that hook, :meth:`register` raises :class:`UnknownBackend` for any other name,
    listing the known ones; a registration made before (at a plugin's import) is checked by
    :meth:`check_backends` when loading ends.  ``lookup`` given a node also looks at the node's
    types: a node whose variables have a type another backend owns (``Backend.owns_type``) has no
    implementation here, and :meth:`owner` names the backend that runs it.
    """

    kind = "implementation"

    def __init__(self, backends: BackendRegistry | None = None) -> None:
        super().__init__()
        self._table: dict[str, dict[type, tuple[Any, str]]] = {}
        self._adapters: dict[str, tuple[str, Callable[[Any], Any], str]] = {}
        self._cache: dict[tuple[str, type], Any] = {}
        self._deferred: dict[str, list[tuple[Callable[[Any], None], str]]] = {}
        #: the backends registry names are checked against (``None``: no check, for tests)
        self.backends = backends
        #: set by the host once ``opcore_register_backends`` has run for every plugin
        self.backends_final = False

    def _check_name(self, backend_name: str, what: str) -> None:
        if self.backends is None or not self.backends_final or backend_name in self.backends:
            return
        raise UnknownBackend(
            f"{what}: unknown backend {backend_name!r}; known backends: "
            f"{', '.join(self.backends.names()) or 'none'}")

    def register(self, backend_name: str, op_type: type, impl: Any) -> None:
        """Give ``backend_name`` an implementation of ``op_type`` (a class, not an instance).

        Raises ``TypeError`` when ``op_type`` is not a class and :class:`UnknownBackend` when no
        plugin registered a backend of that name."""
        if not isinstance(op_type, type):
            raise TypeError(f"impls.register() needs an op class, got {op_type!r}")
        self._check_name(backend_name,
                         f"impls.register({backend_name!r}, {op_type.__qualname__}, ...)")
        table = self._table.setdefault(backend_name, {})
        if op_type in table:
            label = f"{op_type.__module__}.{op_type.__qualname__} for backend {backend_name!r}"
            self._clash(label, table[op_type][1])
            return
        table[op_type] = (impl, self._owner)
        self._cache.clear()
        self._note(f"{backend_name}:{op_type.__qualname__}")

    def register_adapter(self, backend_name: str, method: str, adapt: Callable[[Any], Any]) -> None:
        """Ops whose class defines ``method`` (``"c_code"``) are their own implementation for
        ``backend_name``: ``adapt(op)`` returns it (``None``: this op has none after all)."""
        self._check_name(backend_name, f"impls.register_adapter({backend_name!r}, {method!r})")
        if backend_name in self._adapters:
            self._clash(f"adapter for backend {backend_name!r}", self._adapters[backend_name][2])
            return
        self._adapters[backend_name] = (method, adapt, self._owner)
        self._cache.clear()
        self._note(f"{backend_name}:<ops defining {method}>")

    def defer(self, backend_name: str, register: Callable[[Any], None]) -> None:
        """Call ``register(impls)`` when ``backend_name``'s implementations are first needed (a
        lookup for that backend, a listing), not now: a backend whose implementations import a
        lot (the GPU kernels) costs nothing to a process that never uses it.  What it registers
        is attributed to the calling plugin; if it raises, a :class:`PluginWarning` names the
        plugin and the backend goes on without those implementations."""
        self._check_name(backend_name, f"impls.defer({backend_name!r}, ...)")
        self._deferred.setdefault(backend_name, []).append((register, self._owner))
        self._cache = {k: v for k, v in self._cache.items() if k[0] != backend_name}

    def resolve_deferred(self, backend_name: str | None = None) -> None:
        """Run the deferred registrations of ``backend_name`` (default: of every backend)."""
        names = list(self._deferred) if backend_name is None else [backend_name]
        for name in names:
            pending = self._deferred.pop(name, ())
            for register, plugin in pending:
                with self.owned_by(plugin):
                    try:
                        register(self)
                    except Exception as exc:
                        warnings.warn(f"opcore: plugin {plugin!r}: the deferred implementations "
                                      f"of backend {name!r} failed to register: "
                                      f"{type(exc).__name__}: {exc}", PluginWarning, stacklevel=3)
            if pending:
                self._cache = {k: v for k, v in self._cache.items() if k[0] != name}

    def owner(self, node: Any) -> str | None:
        """The backend owning one of ``node``'s variable types (``Backend.owns_type``), or None."""
        if self.backends is None:
            return None
        for backend in self.backends.by_priority():
            owns = backend.owns_type
            if owns is not None and any(owns(v.type) for v in (*node.inputs, *node.outputs)):
                return backend.name
        return None

    def lookup(self, backend_name: str, op: Any) -> Any | None:
        """The implementation for ``backend_name`` of ``op`` (an op, an op class or a node).

        Given a node (anything with ``.op``, ``.inputs`` and ``.outputs``), returns ``None`` when
        another backend owns one of its variable types (see :meth:`owner`)."""
        if hasattr(op, "op") and hasattr(op, "inputs") and hasattr(op, "outputs"):
            owner = self.owner(op)
            if owner is not None and owner != backend_name:
                return None
            op = op.op
        cls = op if isinstance(op, type) else type(op)
        key = (backend_name, cls)
        try:
            found = self._cache[key]
        except KeyError:
            if backend_name in self._deferred:
                self.resolve_deferred(backend_name)
            found = self._cache[key] = self._find(backend_name, cls)
        if found is _ADAPT:
            return None if isinstance(op, type) else self._adapters[backend_name][1](op)
        return found

    def _find(self, backend_name: str, cls: type) -> Any:
        table = self._table.get(backend_name, {})
        method = self._adapters.get(backend_name, ("", None, ""))[0]
        for klass in cls.__mro__:
            if method and method in vars(klass):
                return _ADAPT
            if klass in table:
                return table[klass][0]
        return None

    def implementations(self, op: Any) -> dict[str, Any]:
        """Every backend's implementation of ``op`` (DebugMode compares them all)."""
        self.resolve_deferred()
        out = {}
        for backend_name in self._table:
            impl = self.lookup(backend_name, op)
            if impl is not None:
                out[backend_name] = impl
        return out

    def by_backend(self) -> dict[str, dict[str, Any]]:
        """Per backend: the op types it has implementations of, and its adapter's method.

        ``{"c": {"ops": ["opcore.tensor.elemwise.Elemwise", ...], "adapter": "c_code",
        "plugins": {"Elemwise": "cpu_c", ...}}}`` (shown by ``opcore plugins``)."""
        self.resolve_deferred()
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(set(self._table) | set(self._adapters)):
            table = self._table.get(name, {})
            ops = sorted(table, key=lambda t: (t.__module__, t.__qualname__))
            out[name] = {
                "ops": [f"{t.__module__}.{t.__qualname__}" for t in ops],
                "plugins": {f"{t.__module__}.{t.__qualname__}": table[t][1] for t in ops},
                "adapter": self._adapters[name][0] if name in self._adapters else None,
            }
        return out

    def check_backends(self) -> list[tuple[str, str]]:
        """Drop registrations for backends nobody registered; returns ``(plugin, message)`` each.

        The host calls this when loading ends (registrations made at a plugin's import, or for
        the backend of a plugin that failed afterwards)."""
        problems: list[tuple[str, str]] = []
        if self.backends is None:
            return problems
        known = ", ".join(self.backends.names()) or "none"
        for name in [n for n in self._table if n not in self.backends]:
            for op_type, (_, plugin) in self._table.pop(name).items():
                problems.append((plugin, f"implementation of {op_type.__qualname__} registered "
                                         f"for unknown backend {name!r}; known backends: {known}"))
        for name in [n for n in self._adapters if n not in self.backends]:
            method, _, plugin = self._adapters.pop(name)
            problems.append((plugin, f"adapter for {method!r} registered for unknown backend "
                                     f"{name!r}; known backends: {known}"))
        self._cache.clear()
        return problems

    def forget(self, plugin: str) -> None:
        super().forget(plugin)
        for table in self._table.values():
            for op_type in [t for t, (_, p) in table.items() if p == plugin]:
                del table[op_type]
        self._adapters = {n: a for n, a in self._adapters.items() if a[2] != plugin}
        self._deferred = {n: [d for d in pending if d[1] != plugin]
                          for n, pending in self._deferred.items()}
        self._cache.clear()


_ADAPT = object()  # ImplRegistry's cache marker: "the op's own method, through the adapter"


# -- rewrites ---------------------------------------------------------------------------------
class RewriteEntry(NamedTuple):
    """One rewrite as a plugin registered it; the rewrite engine reads these.  A named tuple: the
    first compile of every process creates this class (a frozen dataclass costs ~10x more)."""

    name: str
    fn: Callable
    tags: tuple[str, ...]
    phase: str
    after: tuple[str, ...]
    before: tuple[str, ...]
    plugin: str


class RewriteRegistry(_Registry):
    """``rewrites.register(name, fn, *tags, phase=..., after=(), before=())``.

    ``fn(fgraph, node)`` returns replacements (a list, a dict old -> new) or ``None``/``False``.
    The engine in ``opcore.graph.rewriting`` reads :attr:`entries` in registration order.
    """

    kind = "rewrite"

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[RewriteEntry] = []
        self._names: dict[str, str] = {}
        self.listeners: list[Callable[[RewriteEntry], None]] = []
        #: plugin phase -> the phase it runs after (see :meth:`declare_phase`)
        self.phase_slots: dict[str, str] = {}

    def declare_phase(self, phase: str, after: str) -> None:
        """Declare a plugin's own phase ``phase``, run right after phase ``after``.

        The core's phases are ``canonicalize``, ``stabilize``, ``specialize``, ``fusion``,
        ``inplace``; an undeclared phase runs just before ``fusion``.  Declaring a phase again
        with another slot raises ``ValueError``.
        """
        known = self.phase_slots.get(phase)
        if known is not None and known != after:
            raise ValueError(f"rewrites.declare_phase({phase!r}, after={after!r}): already "
                             f"declared to run after {known!r}")
        self.phase_slots[phase] = after

    def register(self, name: str, fn: Callable, *tags: str, phase: str = "canonicalize",
                 after: tuple[str, ...] | list[str] = (),
                 before: tuple[str, ...] | list[str] = ()) -> Callable:
        """Record a rewrite; returns ``fn`` so it also works as a plain call in a decorator."""
        if not callable(fn):
            raise TypeError(f"rewrites.register({name!r}, ...): {fn!r} is not callable")
        if name in self._names:
            self._clash(repr(name), self._names[name])
            return fn
        entry = RewriteEntry(name, fn, tuple(tags), phase, tuple(after), tuple(before),
                             self._owner)
        self._names[name] = self._owner
        self.entries.append(entry)
        self._note(name)
        for listener in self.listeners:
            listener(entry)
        return fn

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def forget(self, plugin: str) -> None:
        super().forget(plugin)
        self.entries = [e for e in self.entries if e.plugin != plugin]
        self._names = {n: p for n, p in self._names.items() if p != plugin}


# -- namespaces -------------------------------------------------------------------------------
#: Namespaces the core knows about, with the distribution to install when nobody provides them.
from opcore.plugins import WELL_KNOWN_NAMESPACES, install_hint  # noqa: E402  (light package)


class NamespaceRegistry(_Registry):
    """``namespaces.add("opcore.tensor.nnet", "opcore_nnet.api")`` from ``opcore_register_ops``.

    Nothing is imported at registration time: the module is imported by :meth:`resolve`, the first
    time someone touches the namespace.
    """

    kind = "namespace"

    def __init__(self) -> None:
        super().__init__()
        self._targets: dict[str, tuple[str, str]] = {}
        self.ops_by_plugin: dict[str, list[str]] = {}
        #: called before each resolve; the host sets it to its ``ensure_loaded``
        self.before_resolve: Callable[[], Any] | None = None

    def add(self, namespace: str, module: str, ops: tuple[str, ...] | list[str] = ()) -> None:
        """Make ``namespace`` (e.g. ``opcore.tensor.nnet``) resolve to the module named ``module``.

        ``ops`` optionally names the op classes it offers (shown by ``opcore plugins``).
        """
        if not namespace.startswith("opcore."):
            raise ValueError(f"namespace {namespace!r} must live under 'opcore.'")
        if namespace in self._targets:
            self._clash(repr(namespace), self._targets[namespace][1])
            return
        self._targets[namespace] = (module, self._owner)
        self._note(namespace)
        self.ops_by_plugin.setdefault(self._owner, []).extend(ops)

    def target(self, namespace: str) -> str | None:
        entry = self._targets.get(namespace)
        return entry[0] if entry else None

    def names(self) -> list[str]:
        return sorted(self._targets)

    def resolve(self, namespace: str) -> ModuleType:
        """Import and return the module behind ``namespace``; say what to install when none."""
        if self.before_resolve is not None:
            self.before_resolve()
        entry = self._targets.get(namespace)
        if entry is None:
            dist = WELL_KNOWN_NAMESPACES.get(namespace)
            if dist:
                hint = install_hint(dist)
                msg = f"{namespace} is provided by the plugin package {dist}, and {hint}"
                if hint.startswith(dist):  # "<dist> is not installed: pip install ..."
                    msg = f"{namespace} is provided by a plugin: {hint}"
            else:
                msg = (f"{namespace} is provided by a plugin and none is installed: install the "
                       "plugin that provides it (see `opcore plugins`)")
            raise NamespaceNotInstalled(msg, name=namespace)
        module = importlib.import_module(entry[0])
        sys.modules.setdefault(namespace, module)
        parent_name, _, attr = namespace.rpartition(".")
        parent = sys.modules.get(parent_name)
        # vars(), not hasattr(): the parent's module __getattr__ may call resolve() itself
        if parent is not None and attr not in vars(parent):
            setattr(parent, attr, module)
        return module

    def forget(self, plugin: str) -> None:
        super().forget(plugin)
        self.ops_by_plugin.pop(plugin, None)
        self._targets = {n: e for n, e in self._targets.items() if e[1] != plugin}


# -- CLI commands -----------------------------------------------------------------------------
def resolve_reference(ref: Any) -> Any:
    """``ref`` itself, or for a string ``"package.module:name"`` that module's attribute (imported
    now): registrations can name code that is imported only when it is used."""
    if not isinstance(ref, str):
        return ref
    module_name, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass
class Command:
    """An ``opcore <name>`` subcommand: ``configure(parser)`` adds arguments, ``run(args)`` runs.

    Both may be given as ``"module:function"`` strings, imported when the command is used
    (:meth:`resolved`): listing the commands then imports nothing."""

    name: str
    help: str
    run: Callable[[Any], int | None] | str
    configure: Callable[[Any], None] | str | None = None
    plugin: str = "core"

    def resolved(self) -> Command:
        """This command with ``run`` and ``configure`` imported (a string names its function)."""
        return Command(self.name, self.help, resolve_reference(self.run),
                       resolve_reference(self.configure), self.plugin)


class CommandRegistry(_Registry):
    """``commands.add(name, help, run, configure=None)`` from ``opcore_register_commands``."""

    kind = "command"

    def __init__(self) -> None:
        super().__init__()
        self.commands: dict[str, Command] = {}

    def add(self, name: str, help: str, run: Callable[[Any], int | None] | str,
            configure: Callable[[Any], None] | str | None = None) -> None:
        """Add ``opcore <name>``; ``run(args)`` returns the exit status (``None`` = 0).  ``run``
        and ``configure`` may be ``"module:function"`` strings, imported when the command runs."""
        if name in self.commands:
            self._clash(repr(name), self.commands[name].plugin)
            return
        self.commands[name] = Command(name, help, run, configure, self._owner)
        self._note(name)

    def forget(self, plugin: str) -> None:
        super().forget(plugin)
        self.commands = {n: c for n, c in self.commands.items() if c.plugin != plugin}


# -- config flags -----------------------------------------------------------------------------
class ConfigView(_Registry):
    """What ``opcore_register_config`` receives: ``config.add(...)`` with the owner filled in.

    Reading attributes (``config.cxx``) reads the real configuration.
    """

    kind = "config flag"

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    def add(self, name: str, doc: str, default: Any, **kwargs: Any) -> None:
        """``config.add`` with ``owner`` set to the calling plugin."""
        known = self.config.flags()
        if name in known and known[name].owner != self._owner:
            self._clash(repr(name), known[name].owner)
            return
        kwargs["owner"] = self._owner
        self.config.add(name, doc, default, **kwargs)
        self._note(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "config":
            raise AttributeError(name)
        return getattr(self.config, name)


# -- opcore doctor ----------------------------------------------------------------------------
DOCTOR_STATUSES = ("ok", "note", "problem")


class DoctorReport(_Registry):
    """``report.add(topic, status, detail, fix="")`` from ``opcore_doctor_checks``.

    ``status`` is ``"ok"``, ``"note"`` (an optional part is absent) or ``"problem"`` (something
    is broken: ``opcore doctor`` then exits 1).  Each line remembers the plugin that added it.
    """

    kind = "doctor check"

    def __init__(self) -> None:
        super().__init__()
        self.checks: list[dict[str, str]] = []

    def add(self, topic: str, status: str, detail: str, fix: str = "") -> None:
        """Add one line of ``opcore doctor``."""
        if status not in DOCTOR_STATUSES:
            raise ValueError(f"report.add({topic!r}): status must be one of {DOCTOR_STATUSES}, "
                             f"got {status!r}")
        self.checks.append({"topic": str(topic), "status": status, "detail": str(detail),
                            "fix": str(fix or ""), "plugin": self._owner})
        self._note(str(topic))
