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
import subprocess
import sys
import sysconfig
from functools import lru_cache
from typing import Sequence

import numpy as np

from opcore.cbuild.trust import read_private_json, write_private_json
from opcore.config import config

__all__ = ["CompileError", "INCLUDE_DIR", "base_flags", "compiler_command", "compiler_ok",
           "openmp_enabled", "run_compiler"]

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
    """The directory of ``Python.h`` (sysconfig's ``include`` path), computed once per process:
    ``sysconfig.get_paths()`` expands the build configuration again at every call."""
    return sysconfig.get_paths()["include"]


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
    """Where the outcome of ``cxx --version`` is remembered: a file in the compile cache named by
    the command, the executable's real path, size and time, and the interpreter (a new or
    replaced compiler gets a new name, so it is run again).  ``None`` when the cache is not
    usable."""
    try:
        real = os.path.realpath(exe)
        st = os.stat(real)
        root = os.path.expanduser(str(config.compiledir or ""))
    except (OSError, ValueError):
        return None
    if not os.path.isabs(root):
        return None
    h = hashlib.sha256(repr((cxx, real, st.st_size, st.st_mtime_ns, sys.executable,
                             np.get_include())).encode("utf-8", "surrogateescape"))
    return os.path.join(root, "compilers", h.hexdigest()[:20] + ".json")


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
