"""The C compiler driver: which compiler, which flags, and running it.

One place decides how C is compiled for every plugin: the compiler is ``config.cxx`` (``''``
switches C off), the include paths and ABI come from :mod:`sysconfig` and NumPy, and OpenMP is
switched on by the one flag ``config.openmp`` (``-fopenmp`` on the command line, so sources test
``_OPENMP``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from functools import lru_cache
from typing import Sequence

import numpy as np

from opcore._lazy import LazyModule
from opcore.cbuild.trust import read_private_json, write_private_json
from opcore.config import config

#: a process finding its modules in the cache (and its compiler in the memo) starts no process
subprocess = LazyModule("subprocess")
#: and does not expand the build configuration (see :func:`python_include`)
sysconfig = LazyModule("sysconfig")

__all__ = ["CompileError", "INCLUDE_DIR", "NATIVE", "base_flags", "compiler_command",
           "compiler_ok", "native_flags", "openmp_enabled", "resolve_native", "run_compiler"]

#: Directory of the shared C headers (``opcore_helpers.h``); on the include path of every build.
INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")

#: Optimisation flags used when the caller gives none.
DEFAULT_OPTIMIZATION = ("-O2",)


class CompileError(Exception):
    """The C compiler failed.

    ``.command`` (argv list), ``.output`` (the compiler's own message, unchanged) and
    ``.source_path`` (a kept copy of the source) say how and where.
    """

    def __init__(self, message: str, command: Sequence[str] = (), output: str = "",
                 source_path: str = "") -> None:
        super().__init__(message)
        self.command = list(command)
        self.output = output
        self.source_path = source_path


@lru_cache(maxsize=1)
def python_include() -> str:
    """The directory of ``Python.h`` (sysconfig's ``include`` path), computed once per
    interpreter: ``sysconfig.get_paths()`` loads and expands the build configuration (a
    millisecond or two in every process), so the answer is remembered in
    ``compiledir/compilers/python-<h>.json``, named by the interpreter (executable, version,
    prefixes and ``_PYTHON_SYSCONFIGDATA_NAME``, which select its configuration)."""
    memo = _python_memo()
    known = read_private_json(memo) if memo else None
    if isinstance(known, dict) and isinstance(known.get("include"), str):
        return known["include"]
    include = sysconfig.get_paths()["include"]
    if memo:
        write_private_json(memo, {"executable": sys.executable, "include": include})
    return include


def _python_memo() -> str | None:
    root = os.path.expanduser(str(config.compiledir or ""))
    if not os.path.isabs(root):
        return None
    h = hashlib.sha256(repr(("python", sys.executable, sys.version, sys.prefix, sys.base_prefix,
                             os.environ.get("_PYTHON_SYSCONFIGDATA_NAME"))).encode(
                                 "utf-8", "surrogateescape"))
    return os.path.join(root, "compilers", "python-" + h.hexdigest()[:20] + ".json")


def compiler_command() -> list[str]:
    """``config.cxx`` split into argv words (``[]`` when C compilation is switched off)."""
    return str(config.cxx or "").split()


@lru_cache(maxsize=8)
def _compiler_ok(cxx: str) -> tuple[bool, str]:
    if not cxx:
        return False, "config.cxx is '' (C compilation switched off)"
    exe = shutil.which(cxx.split()[0])
    if exe is None:
        return False, f"no C compiler found (config.cxx={cxx!r}): install gcc or set config.cxx"
    inc = np.get_include()
    if not os.path.isfile(os.path.join(inc, "numpy", "arrayobject.h")):
        return False, f"NumPy C headers missing under {inc}"
    pyinc = python_include()
    if not os.path.isfile(os.path.join(pyinc, "Python.h")):
        return False, f"Python.h missing under {pyinc}: install the python3-dev package"
    memo = _version_memo(cxx, exe)
    known = read_private_json(memo) if memo else None
    if isinstance(known, dict) and isinstance(known.get("version"), str):
        return True, known["version"]  # this very compiler ran before: no process started
    try:
        r = subprocess.run([*cxx.split(), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"C compiler {cxx!r} does not run: {exc}"
    if r.returncode != 0:
        return False, f"C compiler {cxx!r} --version failed: {r.stderr.strip()[:200]}"
    line = r.stdout.splitlines()[0] if r.stdout else cxx
    if memo:
        write_private_json(memo, {"cxx": cxx, "exe": exe, "version": line})
    return True, line


def _version_memo(cxx: str, exe: str) -> str | None:
    """Where the outcome of ``cxx --version`` is remembered (see :func:`_memo_path`)."""
    return _memo_path("version", cxx, exe)


def _memo_path(kind: str, cxx: str, exe: str, *extra: str) -> str | None:
    """A file in ``compiledir/compilers/`` named by ``kind``, the command, the executable's real
    path, size and time, the interpreter and ``extra`` (a new or replaced compiler gets a new
    name, so it is asked again).  ``None`` when the cache is not usable."""
    try:
        real = os.path.realpath(exe)
        st = os.stat(real)
        root = os.path.expanduser(str(config.compiledir or ""))
    except (OSError, ValueError):
        return None
    if not os.path.isabs(root):
        return None
    h = hashlib.sha256(repr((kind, cxx, real, st.st_size, st.st_mtime_ns, sys.executable,
                             np.get_include(), *extra)).encode("utf-8", "surrogateescape"))
    prefix = "" if kind == "version" else kind + "-"
    return os.path.join(root, "compilers", prefix + h.hexdigest()[:20] + ".json")


#: the flag meaning "this machine's instruction set"; see :func:`resolve_native`
NATIVE = "-march=native"


def resolve_native(cflags: Sequence[str]) -> list[str]:
    """``cflags`` with ``-march=native`` replaced by the explicit flags it stands for on this
    machine (``-march=cooperlake -mavx2 ... -mtune=...``), as PyTensor does: the flags, hence
    the cache key, then name the instruction set, so a compile cache shared between machines
    never hands a module built for one CPU to another.  When they cannot be had (no GCC-style
    ``-v`` output, no CPU description), ``-march=native`` is dropped: a baseline build."""
    if NATIVE not in cflags:
        return list(cflags)
    explicit = native_flags(str(config.cxx or ""))
    out: list[str] = []
    for flag in cflags:
        out.extend(explicit if flag == NATIVE else (flag,))
    return out


def _cpu_identity() -> str | None:
    """A digest of this CPU's model and feature flags (Linux ``/proc/cpuinfo``), or None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    lines = [ln for ln in head.splitlines() if ln.startswith(("model name", "flags"))][:2]
    if len(lines) < 2:
        return None
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def parse_native_flags(verbose: str) -> tuple[str, ...]:
    """The ``-march=``/``-mtune=``/``-m...`` flags GCC's compiler proper (``cc1``) was given in
    the ``-v`` output of ``cc -march=native -E -v -``; ``()`` when there is no such line or it
    still says ``native``."""
    for line in verbose.splitlines():
        words = line.split()
        if not words or not os.path.basename(words[0]).startswith("cc1"):
            continue
        flags = tuple(w for w in words[1:] if w.startswith("-m"))
        if any(w.startswith("-march=") for w in flags) and not any(
                w.endswith("=native") for w in flags):
            return flags
    return ()


@lru_cache(maxsize=8)
def native_flags(cxx: str) -> tuple[str, ...]:
    """What ``-march=native`` stands for with compiler ``cxx`` on this CPU (see
    :func:`resolve_native`); asked once per compiler and CPU, then remembered in the cache."""
    exe = shutil.which(cxx.split()[0]) if cxx else None
    cpu = _cpu_identity()
    if exe is None or cpu is None:
        return ()
    memo = _memo_path("native", cxx, exe, cpu)
    known = read_private_json(memo) if memo else None
    if isinstance(known, dict) and isinstance(known.get("flags"), list) and all(
            isinstance(f, str) and f.startswith("-m") for f in known["flags"]):
        return tuple(known["flags"])
    try:
        r = subprocess.run([*cxx.split(), NATIVE, "-E", "-v", "-"], input="",
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    flags = parse_native_flags(r.stderr) if r.returncode == 0 else ()
    if flags and memo:
        write_private_json(memo, {"cxx": cxx, "exe": exe, "cpu": cpu, "flags": list(flags)})
    return flags


def compiler_ok() -> tuple[bool, str]:
    """``(ok, reason)``: a working ``config.cxx`` and the Python and NumPy headers."""
    return _compiler_ok(str(config.cxx or ""))


def openmp_enabled() -> bool:
    """The one OpenMP switch, ``config.openmp``."""
    return bool(config.openmp)


def base_flags(shared: bool = True) -> list[str]:
    """Flags of every build: position-independent shared object, Python and NumPy includes,
    the shared header directory, and ``-fopenmp`` when :func:`openmp_enabled`."""
    flags = ["-shared", "-fPIC"] if shared else ["-fPIC"]
    flags += ["-fno-strict-aliasing", "-w", "-I" + python_include(),
              "-I" + np.get_include(), "-I" + INCLUDE_DIR]
    if openmp_enabled():
        flags.append("-fopenmp")
    return flags


def run_compiler(argv: Sequence[str], timeout: float | None = None) -> tuple[int, str]:
    """Run ``config.cxx argv...``; ``(returncode, the compiler's stderr or stdout)``.

    A compiler that cannot be started gives returncode 127 and the reason as output.
    """
    cmd = [*compiler_command(), *argv]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, f"cannot run the C compiler {config.cxx!r}: {exc}"
    return r.returncode, (r.stderr or r.stdout).strip()
