"""Modes: which rewrites run and which backend links the result."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable, Self, Sequence

from typing import TypedDict

from opcore.config import config
from opcore import plugins  # plugins.Backend in annotations: the registries load with the plugins
from opcore.plugins import get_host

if TYPE_CHECKING:
    from opcore.compile.linker import Linker

# Theano's linker names and what they mean here: a backend name, or 'auto' (best healthy).
LINKER_NAMES = {
    "py": "py", "vm": "auto", "cvm": "auto", "c|py": "c|py", "c": "c", "cvm_nogc": "auto",
    "vm_nogc": "auto", "c|py_nogc": "c|py", "auto": "auto",
}

OPTIMIZERS = {
    "fast_run": (("fast_run",), ()),
    "fast_compile": (("fast_compile",), ()),
    "merge": (("merge",), ()),
    "None": ((), ()),
    None: ((), ()),
    "o1": (("fast_compile",), ()),
    "o4": (("fast_run",), ()),
}


class RewriteSettings(TypedDict):
    """The rewrite engine's settings (keyword arguments of ``rewrite_graph``)."""

    trace: bool
    raise_errors: bool


def rewrite_settings() -> RewriteSettings:
    """The rewrite engine's settings from the config flags, read when a function compiles:
    ``trace`` is ``config.rewrite_trace``; ``raise_errors`` is ``config.rewrite_raise`` or
    Theano's ``config.on_opt_error == 'raise'``.

    >>> import opcore
    >>> with opcore.config.change_flags(on_opt_error='raise'):
    ...     rewrite_settings()['raise_errors']
    True
    """
    return {"trace": bool(config.rewrite_trace),
            "raise_errors": bool(config.rewrite_raise) or str(config.on_opt_error) == "raise"}


class Mode:
    """A rewrite query plus a backend.

    ``linker`` takes a backend name or one of Theano's linker names ('py', 'vm', 'cvm', 'c',
    'c|py'); ``optimizer`` is 'fast_run', 'fast_compile', 'merge' or None.

    >>> from opcore.compile import Mode
    >>> Mode(linker='py', optimizer='fast_run').excluding('fusion').exclude
    ('fusion',)

    ``call_time`` (float, seconds) adds up the time spent in calls of the functions compiled with
    this mode, as Theano's ``Mode.call_time`` does; ``fn_time`` is kept at 0.0 for Theano code that
    reads it.
    """

    call_time = 0.0
    fn_time = 0.0

    def __init__(self, linker: str | Linker | None = None, optimizer: str | None = "fast_run",
                 backend: str | None = None, include: Sequence[str] = (),
                 exclude: Sequence[str] = (), require: Sequence[str] = (), name: str | None = None,
                 debug: bool = False) -> None:
        self.linker_obj: Linker | None = None
        if linker is not None and not isinstance(linker, str):
            # a linker object given directly
            self.linker_obj = linker
            linker = str(getattr(linker, "backend_name", "py"))
        if linker is None:
            linker = str(config.linker)
        if linker in LINKER_NAMES:
            target = LINKER_NAMES[linker]
        else:

            host = get_host()
            host.ensure_loaded()
            known = sorted(set(LINKER_NAMES) | set(host.backends.names()))
            if linker not in host.backends:
                raise ValueError(f"unknown linker {linker!r}; valid names: {', '.join(known)}")
            target = linker
        self.linker = linker
        self.backend: str | None = backend or (None if target in ("auto", "c|py") else target)
        self.fallback_py = target == "c|py"
        if target == "c|py":
            self.backend = None
            self._prefer: str | None = "c"
        else:
            self._prefer = None
        if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; valid: fast_run, fast_compile, merge, None")
        self.optimizer = optimizer
        base_inc, base_exc = OPTIMIZERS[optimizer]
        self.include = tuple(dict.fromkeys(base_inc + tuple(include)))
        self.exclude = tuple(dict.fromkeys(exclude))
        self.require = tuple(require)
        self.name = name
        self.debug = debug
        self.call_time = 0.0
        self.fn_time = 0.0

    def _copy(self, **kw: Any) -> Self:
        # the same class: a MonitorMode / NanGuardMode / DebugMode stays one (Theano's clone)
        m = type(self).__new__(type(self))
        m.__dict__.update(self.__dict__)
        m.__dict__.update(kw)
        m.call_time = m.fn_time = 0.0
        return m

    def including(self, *tags: str) -> Self:
        """The same mode with rewrites carrying ``tags`` switched on."""
        return self._copy(include=tuple(dict.fromkeys(self.include + tags)),
                          exclude=tuple(t for t in self.exclude if t not in tags))

    def excluding(self, *tags: str) -> Self:
        """The same mode without rewrites carrying ``tags`` (or named so)."""
        return self._copy(exclude=tuple(dict.fromkeys(self.exclude + tags)))

    def requiring(self, *tags: str) -> Self:
        return self._copy(require=tuple(dict.fromkeys(self.require + tags)))

    def select_backend(self) -> plugins.Backend:

        host = get_host()
        if self.backend is not None:
            return host.select_backend(self.backend)
        if self._prefer is not None and self._prefer in host.backends:
            b = host.backends[self._prefer]
            ok, _ = host.health(b)
            if ok:
                return b
        return host.select_backend(config.backend or None)

    def __repr__(self) -> str:
        return (f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}, backend={self.backend!r},"
                f" include={self.include}, exclude={self.exclude})")


FAST_RUN = "FAST_RUN"
FAST_COMPILE = "FAST_COMPILE"

#: mode names ``get_mode`` resolves besides FAST_RUN / FAST_COMPILE / DebugMode (upper-cased)
PREDEFINED_MODES: dict[str, Callable[[], Mode]] = {}
_MODE_NAMES: dict[str, str] = {}  # upper-cased -> as registered
#: opcore's checking modes register themselves when their module is imported, which happens the
#: first time one is named (``import opcore`` does not load them)
_MODE_MODULES = {"DEBUGMODE": "opcore.compile.debugmode", "DEBUG_MODE": "opcore.compile.debugmode",
                 "MONITORMODE": "opcore.compile.monitormode",
                 "NANGUARDMODE": "opcore.compile.nanguardmode"}


def register_mode(name: str, factory: Callable[[], Mode]) -> None:
    """Let ``mode=name`` (any case) build ``factory()`` (Theano's ``register_mode``)."""
    PREDEFINED_MODES[name.upper()] = factory
    _MODE_NAMES[name.upper()] = name


#: the Mode objects FAST_RUN / FAST_COMPILE / Mode resolve to, per flag setting (see get_mode)
_NAMED_MODES: dict = {}


def get_mode(mode: str | Mode | None) -> Mode:
    """Resolve None / a mode name / a Mode instance.

    As in Theano, a name resolves to the same ``Mode`` object each time while the flags it
    depends on (``linker``, ``optimizer``, ``optimizer_including``/``_excluding``/``_requiring``)
    stay the same, so ``get_default_mode().call_time`` counts the calls of every function
    compiled with the default mode.
    """
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        key = mode.upper()
        if key in ("FAST_RUN", "FAST_COMPILE", "MODE"):
            flags = (key, config.linker, config.optimizer, config.optimizer_including,
                     config.optimizer_excluding, config.optimizer_requiring)
            if flags not in _NAMED_MODES:
                _NAMED_MODES[flags] = _named_mode(key)
            return _NAMED_MODES[flags]
        if key not in PREDEFINED_MODES:
            # an unknown name loads them all, so that the error below lists every mode
            wanted = _MODE_MODULES.get(key)
            for module in sorted({wanted} if wanted else set(_MODE_MODULES.values())):
                importlib.import_module(module)
        if key in PREDEFINED_MODES:  # DebugMode, MonitorMode, NanGuardMode register themselves
            return PREDEFINED_MODES[key]()
        names = sorted({_MODE_NAMES[k] for k in PREDEFINED_MODES if k != "DEBUG_MODE"})
        raise ValueError(f"unknown mode {mode!r}; valid: FAST_RUN, FAST_COMPILE, "
                         f"{', '.join(names)} or a Mode")
    raise TypeError(f"mode must be a string or a Mode, got {type(mode).__name__}")


def _named_mode(key: str) -> Mode:
    """A new Mode for FAST_RUN, FAST_COMPILE or Mode (upper-cased) under the current flags."""
    if key == "FAST_RUN":
        return _with_config_tags(Mode(optimizer="fast_run", name="FAST_RUN"))
    if key == "FAST_COMPILE":
        return _with_config_tags(Mode(linker="py", optimizer="fast_compile",
                                      name="FAST_COMPILE"))
    # "MODE": Theano's default, built from the linker and optimizer flags
    opt = None if config.optimizer == "None" else config.optimizer
    return _with_config_tags(Mode(linker=config.linker, optimizer=opt, name="Mode"))


def _with_config_tags(mode: Mode) -> Mode:
    """Apply ``config.optimizer_including``/``_excluding``/``_requiring`` (':'-separated tags)."""
    inc = [t for t in config.optimizer_including.split(":") if t]
    exc = [t for t in config.optimizer_excluding.split(":") if t]
    req = [t for t in config.optimizer_requiring.split(":") if t]
    if inc:
        mode = mode.including(*inc)
    if exc:
        mode = mode.excluding(*exc)
    if req:
        mode = mode.requiring(*req)
    return mode


def get_default_mode() -> Mode:
    """The mode ``function`` uses when none is given (``config.mode``)."""
    return get_mode(None)


#: Theano's names of the predefined modes
predefined_modes = {"FAST_RUN": FAST_RUN, "FAST_COMPILE": FAST_COMPILE}
