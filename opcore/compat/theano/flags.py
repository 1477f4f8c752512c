"""``THEANO_FLAGS`` and ``~/.theanorc`` read and mapped onto opcore's flags.

Theano read its flags from the files named by ``THEANORC`` (``os.pathsep``-separated, later files
win; default ``~/.theanorc``) and then from ``THEANO_FLAGS`` (``name=value`` pairs separated by
commas; dotted names such as ``gpuarray.sync`` address a section).  :func:`theano_flags` reads
them the same way; :func:`apply` sets the opcore flags they mean.  A flag set explicitly for
opcore (``OPCORE_FLAGS``, assignment) wins.  A Theano flag opcore has no meaning for gets one
:class:`TheanoFlagWarning` naming it, never an error.

>>> sorted(translate({'floatX': 'float32', 'base_compiledir': '/tmp/x'})[0].items())
[('compiledir', '/tmp/x'), ('floatX', 'float32')]
"""

from __future__ import annotations

import configparser
import os
import shlex
import warnings
from typing import Any, Callable


class TheanoFlagWarning(UserWarning):
    """A Theano flag that opcore cannot honour (ignored) or honours differently."""


def _same(name: str) -> Callable[[str], list[tuple[str, str]]]:
    return lambda v: [(name, v)]


def _device(value: str) -> list[tuple[str, str]]:
    v = value.strip()
    if v.startswith("gpu"):
        # Theano 0.x's old backend name; Theano 1.0 refuses it, opcore runs the new backend
        new = "cuda" + v[3:]
        _warn_once(f"device={v}", f"THEANO_FLAGS device={v} names Theano's removed old CUDA "
                   f"backend; opcore uses device={new}")
        return [("device", new)]
    return [("device", v)]


def _mode(value: str) -> list[tuple[str, str]]:
    v = value.strip()
    if v in ("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "Mode"):
        return [("mode", v)]
    _warn_once(f"mode={v}", f"THEANO_FLAGS mode={v} has no opcore equivalent; using FAST_RUN")
    return []


def _optimizer(value: str) -> list[tuple[str, str]]:
    return [("optimizer", value.strip())]


def _compute_test_value(value: str) -> list[tuple[str, str]]:
    return [("compute_test_value", value.strip())]


#: Theano flag -> function(value) returning opcore (flag, value) pairs
FLAG_MAP: dict[str, Callable[[str], list[tuple[str, str]]]] = {
    "floatX": _same("floatX"),
    "device": _device,
    "mode": _mode,
    "optimizer": _optimizer,
    "linker": _same("linker"),
    "optimizer_including": _same("optimizer_including"),
    "optimizer_excluding": _same("optimizer_excluding"),
    "optimizer_requiring": _same("optimizer_requiring"),
    "compiledir": _same("compiledir"),
    "base_compiledir": _same("compiledir"),
    "cxx": _same("cxx"),
    "exception_verbosity": _same("exception_verbosity"),
    "compute_test_value": _compute_test_value,
    "openmp": _same("openmp"),
    "openmp_elemwise_minsize": _same("openmp_elemwise_minsize"),
    "on_unused_input": _same("on_unused_input"),
    "allow_gc": _same("allow_gc"),
    "warn_float64": _same("warn_float64"),
    "profile": _same("profile"),
    "on_opt_error": _same("on_opt_error"),
    "gpuarray__sync": _same("gpuarray__sync"),
}

#: Theano flags with no opcore meaning that Theano code reads or sets (``config.warn.round``...):
#: declared under the runner with Theano's defaults so that reading and assigning them works;
#: they change nothing
THEANO_ONLY_FLAGS: dict[str, Any] = {
    "print_test_value": False, "cast_policy": "custom", "int_division": "int",
    "deterministic": "default", "cycle_detection": "regular", "check_stack_trace": "off",
    "optimizer_verbose": False, "reoptimize_unpickled_function": False, "traceback__limit": 8,
    "traceback__compile_limit": 0, "warn__round": False, "warn__subtensor_merge_bug": False,
    "warn__gpusum_01_011_0111_bug": False, "warn__sum_sum_bug": False,
    "warn__sum_div_dimshuffle_bug": False, "warn__vm_gc_bug": False,
    "warn__signal_conv2d_interface": False, "warn__reduce_join": False,
    "warn__inc_set_subtensor1": False, "warn__argmax_pushdown_bug": False,
    "warn__ignore_bug_before": "0.8", "blas__ldflags": "", "gcc__cxxflags": "",
    "nvcc__fastmath": False, "lib__cnmem": 0.0, "dnn__enabled": "auto",
    "gpuarray__preallocate": 0.0, "scan__allow_gc": False, "scan__allow_output_prealloc": True,
    "unittests__rseed": "666", "numpy__seterr_all": "ignore", "tensor__cmp_sloppy": 0,
    "DebugMode__check_c": True, "DebugMode__check_py": True, "DebugMode__check_finite": True,
    "NanGuardMode__nan_is_error": True, "NanGuardMode__inf_is_error": True,
    "NanGuardMode__big_is_error": True, "device_init": "", "init_gpu_device": "",
    "contexts": "", "print_active_device": True, "experimental__local_alloc_elemwise": True,
    "compute_test_value_opt": "off", "on_shape_error": "warn", "pycuda__init": False,
    "cuda__root": "", "dnn__conv__algo_fwd": "small", "base_compiledir": "",
}

_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, TheanoFlagWarning, stacklevel=3)


def parse_flags_string(text: str) -> dict[str, str]:
    """``THEANO_FLAGS`` as Theano splits it: commas separate, quotes group, ``.`` -> ``__``."""
    out: dict[str, str] = {}
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    for item in lexer:
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            # Theano accepts a bare name as name=True; so do we
            out[item.replace(".", "__")] = "True"
            continue
        k, v = item.split("=", 1)
        out[k.strip().replace(".", "__")] = v.strip()
    return out


def theanorc_files(environ: Any = None) -> list[str]:
    """The files Theano reads, in increasing priority (``THEANORC`` or ``~/.theanorc``)."""
    env = os.environ if environ is None else environ
    spec = env.get("THEANORC", "~/.theanorc")
    return [os.path.expanduser(p) for p in spec.split(os.pathsep) if p]


def theano_flags(environ: dict | None = None) -> dict[str, tuple[str, str]]:
    """Every Theano flag set in the rc files and ``THEANO_FLAGS``: name -> (value, source)."""
    env = os.environ if environ is None else environ
    out: dict[str, tuple[str, str]] = {}
    for path in theanorc_files(env):
        if not os.path.isfile(path):
            continue
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # Theano's flag names are case-sensitive (floatX)
        parser.read(path)
        for section in parser.sections():
            prefix = "" if section == "global" else section + "__"
            for k, v in parser.items(section):
                out[prefix + k] = (v, path)
    for k, v in parse_flags_string(env.get("THEANO_FLAGS", "")).items():
        out[k] = (v, "THEANO_FLAGS")
    return out


def translate(flags: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Map Theano flag values to opcore ones: ``(opcore flags, Theano names with no meaning)``."""
    mapped: dict[str, str] = {}
    ignored: list[str] = []
    for name, value in flags.items():
        conv = FLAG_MAP.get(name)
        if conv is None:
            ignored.append(name)
            continue
        for k, v in conv(value):
            if name == "base_compiledir" and "compiledir" in flags:
                continue  # an explicit compiledir wins over the base directory
            mapped[k] = v
    # Theano's default mode is 'Mode' (config.linker + config.optimizer): honour optimizer= and
    # linker= as Theano does when no mode is given
    if ("optimizer" in mapped or "linker" in mapped) and "mode" not in mapped:
        mapped["mode"] = "Mode"
    return mapped, ignored


def _convert_like(default: Any) -> Callable[[str], Any]:
    if isinstance(default, bool):
        return lambda v: v if isinstance(v, bool) else str(v).strip().lower() in (
            "1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        return type(default)
    return str


def declare_theano_only_flags(config: Any) -> None:
    """Declare :data:`THEANO_ONLY_FLAGS` (owner ``theano-compat``) where opcore has no such flag."""
    declared = config.flags()
    for name, default in THEANO_ONLY_FLAGS.items():
        if name not in declared:
            config.add(name, "Theano flag accepted for compatibility; no effect in opcore",
                       default, convert=_convert_like(default), owner="theano-compat")


#: (flag, previous value, previous source) for every flag :func:`apply` changed
_CHANGED: list[tuple[Any, Any, str]] = []


def _set(flag: Any, value: Any, source: str) -> None:
    _CHANGED.append((flag, flag.value, flag.source))
    flag.value = value
    flag.source = source


def restore() -> None:
    """Undo what :func:`apply` set (``uninstall()`` calls it)."""
    while _CHANGED:
        flag, value, source = _CHANGED.pop()
        flag.value = value
        flag.source = source


def apply(config: Any, environ: dict | None = None) -> dict[str, str]:
    """Read Theano's flags and set the opcore flags they mean; returns what was set.

    A flag the user set for opcore itself (``OPCORE_FLAGS``, ``~/.opcorerc``, assignment) keeps its
    value.  Unknown Theano flags warn once each (:class:`TheanoFlagWarning`).
    """
    raw = theano_flags(environ)
    declare_theano_only_flags(config)
    mapped, ignored = translate({k: v for k, (v, _) in raw.items()})
    declared = config.flags()
    for name in ignored:
        _warn_once(name, f"Theano flag {name.replace('__', '.')!r} (set in {raw[name][1]}) has "
                   "no meaning in opcore and is ignored")
        flag = declared.get(name)
        if flag is not None and flag.owner == "theano-compat":
            try:  # kept so that code reading it back sees the value it set
                _set(flag, flag.check(raw[name][0]), "THEANO_FLAGS")
            except ValueError:
                pass
    done: dict[str, str] = {}
    for k, v in mapped.items():
        flag = declared.get(k)
        if flag is None:
            _warn_once(k, f"Theano flag {k!r} maps to opcore flag {k!r}, which this opcore does "
                       "not declare; ignored")
            continue
        if flag.source not in ("default",):
            continue
        _set(flag, flag.check(v), "THEANO_FLAGS")
        done[k] = v
    # Theano's debugprint has no placement marks; users' tests compare its text
    flag = declared.get("print_placement")
    if flag is not None and flag.source == "default":
        _set(flag, False, "theano-compat")
    return done
