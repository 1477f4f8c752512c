"""Configuration flags: declaration, sources and temporary overrides.

Flags are declared with :meth:`Config.add` (the core declares its own here, plugins declare theirs
through the ``opcore_register_config`` hook).  Values come, in increasing priority, from the
declared default, ``~/.opcorerc`` (or the file named by ``OPCORE_RC``), the ``OPCORE_FLAGS``
environment variable and :func:`change_flags`.

>>> import opcore
>>> with opcore.config.change_flags(floatX="float32"):
...     opcore.config.floatX
'float32'
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any, Callable


def _no_hint(name: str) -> str:
    return ""


# Set by the plugin host: for an unknown flag a first-party plugin owns (``cpu_c__blas``), the
# sentence saying which package declares it and how to get it (see opcore.plugins.install_hint).
unknown_flag_hint = _no_hint


class ConfigError(ValueError):
    """An unknown flag or a value a flag does not accept."""


class FlagValueError(ConfigError):
    """A value a declared flag does not accept (wrong type, out of range, not a choice)."""


class Flag:
    """One declared flag: its default, documentation, parser/validation and current value."""

    __slots__ = ("name", "default", "doc", "convert", "choices", "validate", "bounds", "accepts",
                 "owner", "value", "source")

    def __init__(self, name: str, default: Any, doc: str, convert: Callable[[str], Any] = str,
                 choices: tuple | None = None, validate: Callable[[Any], bool] | None = None,
                 owner: str = "opcore", bounds: tuple[float | None, float | None] | None = None,
                 accepts: str = "") -> None:
        self.name = name
        self.default = default
        self.doc = doc
        self.convert = convert
        self.choices = choices
        self.validate = validate
        self.bounds = bounds
        self.owner = owner
        self.accepts = accepts or self._describe_accepted()
        self.value = None
        self.source = "default"

    def _describe_accepted(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.convert is _bool:
            return "a boolean (true/false, 1/0, yes/no, on/off)"
        if self.convert in (int, float):
            kind = "an integer" if self.convert is int else "a finite number"
            lo, hi = self.bounds or (None, None)
            if lo is not None and hi is not None:
                return f"{kind} in [{lo:g}, {hi:g}]"
            if lo is not None:
                return f"{kind} >= {lo:g}"
            if hi is not None:
                return f"{kind} <= {hi:g}"
            return kind
        return ""

    def _error(self, value: Any, why: str) -> ConfigError:
        accepted = f"; accepted values: {self.accepts}" if self.accepts else ""
        return FlagValueError(f"config flag {self.name!r}: {value!r} {why}{accepted}")

    def __repr__(self) -> str:
        return f"Flag({self.name}={self.value!r}, owner={self.owner!r}, source={self.source!r})"

    def check(self, value: Any) -> Any:
        """``value`` converted and validated (type, range, choices); :class:`ConfigError` naming
        the flag and the accepted values otherwise."""
        if self.convert in (int, float, _bool) or (isinstance(value, str) and self.convert is not str):
            if self.convert is int and isinstance(value, float) and not value.is_integer():
                raise self._error(value, "is not an integer")
            if self.convert in (int, float) and isinstance(value, bool):
                raise self._error(value, "is a boolean, not a number")
            try:
                value = self.convert(value)
            except (TypeError, ValueError, OverflowError) as exc:
                raise self._error(value, f"cannot be read ({exc})") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self._error(value, "is not finite")
        if self.bounds is not None and isinstance(value, (int, float)):
            lo, hi = self.bounds
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise self._error(value, "is out of range")
        if self.choices is not None and value not in self.choices:
            raise self._error(value, "is not accepted")
        if self.validate is not None and not self.validate(value):
            raise self._error(value, "is not accepted")
        return value


def _bool(text: str) -> bool:
    low = str(text).strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected a boolean (True/False/1/0)")


#: The reader of boolean flags (``convert=parse_bool``): 1/0, true/false, yes/no, on/off.
parse_bool = _bool


def _parse_pairs(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ConfigError(f"{where}: expected NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace(".", "__")] = v.strip()
    return out


class Config:
    """The set of declared flags; read them as attributes (``config.floatX``)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_pending", {})
        object.__setattr__(self, "_sources_read", False)

    # -- declaration -------------------------------------------------------------------------
    def add(self, name: str, doc: str, default: Any, *, convert: Callable = str,
            choices: tuple | None = None, validate: Callable | None = None,
            owner: str = "opcore", bounds: tuple[float | None, float | None] | None = None,
            accepts: str = "") -> None:
        """Declare a flag.  A second declaration of the same name by another owner is an error.

        ``convert`` reads a string value (``int``, ``float``, a boolean reader...); ``bounds``
        ``(lo, hi)`` (either ``None``) is the closed range of a number (``float`` values must also
        be finite); ``choices`` the accepted values; ``validate`` a last predicate; ``accepts``
        says in words what is accepted (derived from the rest when empty).  Every value set later
        (rc file, ``OPCORE_FLAGS``, assignment, :func:`change_flags`) goes through these checks,
        and a rejected one raises :class:`ConfigError` naming the flag and the accepted values."""
        flags = self._flags
        if name in flags:
            if flags[name].owner != owner:
                raise ConfigError(
                    f"config flag {name!r} is declared by both {flags[name].owner!r} and {owner!r}"
                )
            return
        flag = Flag(name, default, doc, convert, choices, validate, owner, bounds, accepts)
        flag.value = flag.check(default)
        flags[name] = flag
        self._read_sources()
        if name in self._pending:
            text, source = self._pending.pop(name)
            flag.value = flag.check(text)
            flag.source = source

    def _read_sources(self) -> None:
        if self._sources_read:
            return
        object.__setattr__(self, "_sources_read", True)
        pending: dict[str, tuple[str, str]] = {}
        rc = os.environ.get("OPCORE_RC", os.path.expanduser("~/.opcorerc"))
        if rc and os.path.isfile(rc):
            import configparser  # only when there is a file to read

            parser = configparser.ConfigParser()
            parser.optionxform = str  # keep flag case (floatX)
            parser.read(rc)
            for section in parser.sections():
                prefix = "" if section == "global" else section + "__"
                for k, v in parser.items(section):
                    pending[prefix + k] = (v, rc)
        env = os.environ.get("OPCORE_FLAGS", "")
        for k, v in _parse_pairs(env, "OPCORE_FLAGS").items():
            pending[k] = (v, "OPCORE_FLAGS")
        self._pending.update(pending)
        for k in list(self._pending):
            if k in self._flags:
                text, source = self._pending.pop(k)
                flag = self._flags[k]
                flag.value = flag.check(text)
                flag.source = source

    def unknown_flags(self) -> dict[str, str]:
        """Flags set in OPCORE_FLAGS/.opcorerc that nobody declared (after plugins load)."""
        return {k: src for k, (_, src) in self._pending.items()}

    def check_unknown(self) -> None:
        """Raise for a flag set in the environment that no loaded component declares."""
        unknown = self.unknown_flags()
        if unknown:
            name, src = next(iter(unknown.items()))
            raise ConfigError(
                f"unknown config flag {name!r} (set in {src}){unknown_flag_hint(name)}; "
                "known flags: " + ", ".join(sorted(self._flags))
            )

    # -- access ------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        try:
            return self._flags[name].value
        except KeyError:
            pass
        if not name.startswith("_") and any(k.startswith(name + "__") for k in self._flags):
            return _Section(self, name)  # config.gpuarray.sync reads gpuarray__sync
        raise AttributeError(f"opcore.config has no flag {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            flag = self._flags[name]
        except KeyError:
            raise ConfigError(
                f"unknown config flag {name!r}{unknown_flag_hint(name)}; known flags: "
                f"{', '.join(sorted(self._flags))}"
            ) from None
        flag.value = flag.check(value)
        flag.source = "assignment"

    def flags(self) -> dict[str, Flag]:
        return dict(self._flags)

    def __dir__(self):
        return list(self._flags) + ["add", "change_flags", "flags"]

    def __repr__(self) -> str:
        return "\n".join(f"{f.name} = {f.value!r}  ({f.owner}, {f.source})" for f in self._flags.values())

    def change_flags(self, **kwargs: Any) -> "_ChangeFlags":
        """Context manager (also a decorator) that sets flags and restores them on exit."""
        return _ChangeFlags(self, kwargs)


class _Section:
    """``config.gpuarray``: the flags named ``gpuarray__*``, read and set as attributes."""

    def __init__(self, config: Config, prefix: str) -> None:
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix + "__")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, self._prefix + name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._config, self._prefix + name, value)

    def __dir__(self):
        n = len(self._prefix)
        return [k[n:] for k in self._config._flags if k.startswith(self._prefix)]


class _ChangeFlags(contextlib.ContextDecorator):
    def __init__(self, config: Config, values: dict[str, Any]) -> None:
        self.config = config
        self.values = {k.replace(".", "__"): v for k, v in values.items()}
        self.saved: list[dict[str, Any]] = []

    def __enter__(self):
        flags = self.config._flags
        for k in self.values:
            if k not in flags:
                raise ConfigError(f"unknown config flag {k!r}{unknown_flag_hint(k)}; known flags: "
                                  f"{', '.join(sorted(flags))}")
        self.saved.append({k: flags[k].value for k in self.values})
        for k, v in self.values.items():
            flags[k].value = flags[k].check(v)
        return self.config

    def __exit__(self, *exc):
        for k, v in self.saved.pop().items():
            self.config._flags[k].value = v
        return False


config = Config()
change_flags = config.change_flags

_DTYPES = ("float16", "float32", "float64")
config.add("floatX", "Default float dtype of T.scalar(), T.matrix(), ...", "float64",
           choices=_DTYPES)
config.add("device", "Where graphs run: cpu, cuda, cudaN, openclP:D", "cpu",
           validate=lambda v: v == "cpu" or v.startswith(("cuda", "opencl")))
config.add("mode", "Default compile mode ('Mode' = Mode(linker=config.linker, "
           "optimizer=config.optimizer), Theano's default)", "FAST_RUN",
           choices=("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "Mode",
                    "NanGuardMode"))
config.add("optimizer", "Rewrites of mode 'Mode': fast_run, fast_compile, merge or None",
           "fast_run", choices=("fast_run", "fast_compile", "merge", "None", "o1", "o4"))
config.add("optimizer_including", "Rewrite tags the default mode adds (':'-separated)", "")
config.add("optimizer_excluding", "Rewrite tags the default mode leaves out (':'-separated)", "")
config.add("optimizer_requiring", "Rewrite tags the default mode requires (':'-separated)", "")
config.add("linker", "Default linker name ('auto' = best healthy backend)", "auto")
config.add("backend", "Backend to use ('' = best healthy backend by priority)", "")
config.add("compiledir", "Directory of the compile cache (absolute; see docs/cache.md)",
           os.path.join(os.path.expanduser("~"), ".cache", "opcore"),
           validate=lambda v: os.path.isabs(os.path.expanduser(str(v))),
           accepts="an absolute directory path (or ~/...), owned by you and not writable by others")
config.add("cxx", "C compiler command ('' = no C)", "cc")
config.add("openmp", "Build C with OpenMP: large reductions (and sparse kernels) on several "
           "threads; elementwise loops use the C backend's own pool (cpu_c__threads) either way",
           False, convert=_bool)
config.add("openmp_elemwise_minsize", "Smallest elementwise loop (in elements) run on several "
           "threads, and smallest OpenMP reduction", 200000,
           convert=int, bounds=(1, None))
config.add("on_unused_input", "What function() does with an unused input", "raise",
           choices=("raise", "warn", "ignore"))
config.add("rewrite_trace", "Print which rewrites fired and their time", False, convert=_bool)
config.add("rewrite_raise", "Raise (instead of reporting and skipping) when a rewrite fails",
           False, convert=_bool)
config.add("compute_test_value", "Run each op on its inputs' tag.test_value as the graph is built "
           "(off|ignore|warn|raise; pdb acts as raise)", "off",
           choices=("off", "ignore", "warn", "raise", "pdb"))
config.add("exception_verbosity", "How much a run-time error says", "low", choices=("low", "high"))
config.add("on_opt_error", "Theano spelling of rewrite_raise", "warn",
           choices=("warn", "raise", "pdb", "ignore"))
config.add("allow_gc", "Free intermediate results during a call", False, convert=_bool)
config.add("gpuarray__sync", "Synchronise after each GPU kernel launch", False, convert=_bool)
config.add("profile", "Profile every compiled function", False, convert=_bool)
config.add("compile_progress_delay", "Seconds a compile may take before a progress line is "
           "shown on a terminal (negative: never)", 2.0, convert=float)
config.add("print_placement", "debugprint of a compiled function marks where each node runs "
           "([c], [c: python fallback], [py])", True, convert=_bool)
config.add("warn_float64", "What to do when a float64 variable is created",
           "ignore", choices=("ignore", "warn", "raise"))
