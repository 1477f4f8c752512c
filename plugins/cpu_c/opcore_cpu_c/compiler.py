"""Compiling C sources into CPython extension modules, and the shared on-disk cache.

Entries live in ``config.compiledir/cpu_c/<key[:2]>/<key>/`` with ``mod.c``, ``mod.so`` and
``checksum`` (sha256 of ``mod.so``).  An entry is built in a temporary directory beside it and
renamed into place, under a per-entry lock file that records the owner's pid and host, so
concurrent processes never see a half-written entry.  A stale lock (dead owner, or older than
``cpu_c__cache_timeout``) is broken.  A checksum mismatch (truncated or corrupted ``.so``) makes
the entry be rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from opcore.config import config

__all__ = ["CompileError", "compile_module", "cache_root", "compiler_ok", "base_flags"]


class CompileError(Exception):
    """The C compiler failed.  ``.command``, ``.output`` and ``.source_path`` say how and where."""

    def __init__(self, message: str, command: Sequence[str] = (), output: str = "",
                 source_path: str = "") -> None:
        super().__init__(message)
        self.command = list(command)
        self.output = output
        self.source_path = source_path


def _flag(name: str, default: Any) -> Any:
    try:
        return getattr(config, name)
    except Exception:  # flag not declared yet (plugin hooks not run)
        return default


def cache_root() -> str:
    """The cache directory for this plugin (created user-only, 0700)."""
    root = os.path.join(os.path.expanduser(_flag("compiledir", "~/.cache/opcore")), "cpu_c")
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root


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
    pyinc = sysconfig.get_paths()["include"]
    if not os.path.isfile(os.path.join(pyinc, "Python.h")):
        return False, f"Python.h missing under {pyinc}: install the python3-dev package"
    try:
        r = subprocess.run([*cxx.split(), "--version"], capture_output=True, text=True, timeout=20)
    except Exception as exc:  # pragma: no cover - broken compiler binary
        return False, f"C compiler {cxx!r} does not run: {exc}"
    if r.returncode != 0:
        return False, f"C compiler {cxx!r} --version failed: {r.stderr.strip()[:200]}"
    return True, r.stdout.splitlines()[0] if r.stdout else cxx


def compiler_ok() -> tuple[bool, str]:
    """``(ok, reason)``: a working C compiler and the Python/NumPy headers."""
    return _compiler_ok(_flag("cxx", "cc"))


def base_flags() -> list[str]:
    """Compiler flags from ``sysconfig`` plus the plugin's optimisation flags."""
    opt = _flag("cpu_c__optimization", "-O2 -ftree-vectorize -fno-math-errno")
    flags = ["-shared", "-fPIC", *opt.split(), "-fno-strict-aliasing", "-w",
             "-I" + sysconfig.get_paths()["include"], "-I" + np.get_include()]
    if _flag("openmp", False):
        flags.append("-fopenmp")
    return flags


def cache_key(source: str, versions: Sequence[Any], extra_flags: Sequence[str]) -> str:
    """sha256 of (source, op versions, compiler and flags, NumPy C-API version, Python ABI)."""
    h = hashlib.sha256()
    for part in (source, repr(tuple(versions)), _flag("cxx", "cc"), repr(base_flags()),
                 repr(list(extra_flags)), str(np.lib.NumpyVersion(np.__version__)),
                 hex(getattr(np, "_get_ndarray_c_version", lambda: 0)()),
                 sysconfig.get_config_var("EXT_SUFFIX") or "", sys.version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _sha_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_PCH_HEADER = """#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_math.h>
#include <math.h>
#include <tgmath.h>
#include <string.h>
"""
_pch: dict[tuple, list[str]] = {}


def _pch_flags() -> list[str]:
    """``-include`` flags for a precompiled Python+NumPy header (GCC only), built once per
    compiler and flags into the cache; ``[]`` when it cannot be built (compiles still work)."""
    cxx = _flag("cxx", "cc")
    flags = [f for f in base_flags() if f != "-shared"]
    key = (cxx, tuple(flags))
    if key in _pch:
        return _pch[key]
    _pch[key] = []
    h = hashlib.sha256(repr(key).encode() + _PCH_HEADER.encode() + sys.version.encode())
    d = os.path.join(cache_root(), "pch-" + h.hexdigest()[:16])
    header = os.path.join(d, "oc_pre.h")
    if not os.path.isfile(header + ".gch"):
        try:
            _acquire(d + ".lock", float(_flag("cpu_c__cache_timeout", 120.0)))
        except (OSError, TimeoutError):
            return []
        try:
            if not os.path.isfile(header + ".gch"):
                tmp = tempfile.mkdtemp(prefix="tmp-pch-", dir=cache_root())
                with open(os.path.join(tmp, "oc_pre.h"), "w") as f:
                    f.write(_PCH_HEADER)
                r = subprocess.run([*cxx.split(), "-x", "c-header", *flags,
                                    os.path.join(tmp, "oc_pre.h"), "-o",
                                    os.path.join(tmp, "oc_pre.h.gch")], capture_output=True)
                if r.returncode != 0:
                    shutil.rmtree(tmp, ignore_errors=True)
                    return []
                if os.path.exists(d):  # a half-made directory from a killed process
                    shutil.rmtree(d, ignore_errors=True)
                os.rename(tmp, d)
        except OSError:
            return []
        finally:
            _release(d + ".lock")
    if os.path.isfile(header + ".gch"):
        _pch[key] = ["-include", header]
    return _pch[key]


def _build(src: str, modname: str, workdir: str, extra: Sequence[str]) -> str:
    cpath = os.path.join(workdir, "mod.c")
    with open(cpath, "w") as f:
        f.write(src)
    so = os.path.join(workdir, "mod.so")
    pch = _pch_flags() if _flag("cpu_c__pch", True) else []
    cmd = [*_flag("cxx", "cc").split(), *base_flags(), *pch, cpath, "-o", so, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        keep = tempfile.mkdtemp(prefix="failed-", dir=cache_root())
        kept = os.path.join(keep, "mod.c")
        shutil.copy(cpath, kept)
        out = (r.stderr or r.stdout).strip()
        raise CompileError(
            f"C compilation of {modname} failed (source kept at {kept}):\n{out[-4000:]}\n"
            f"command: {' '.join(cmd)}", cmd, out, kept)
    with open(os.path.join(workdir, "checksum"), "w") as f:
        f.write(_sha_file(so))
    return so


def _load(path: str, modname: str) -> Any:
    loader = importlib.machinery.ExtensionFileLoader(modname, path)
    spec = importlib.util.spec_from_file_location(modname, path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


# -- locks -------------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _acquire(lock: str, timeout: float) -> None:
    me = f"{os.getpid()} {socket.gethostname()} {time.time()}"
    delay = 0.005
    start = time.time()
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            try:
                with open(lock) as f:
                    pid_s, host, t = f.read().split()
                stale = (host == socket.gethostname() and not _pid_alive(int(pid_s))) or (
                    time.time() - float(t) > timeout)
            except (OSError, ValueError):
                # unreadable or half-written lock: stale only when old
                try:
                    stale = time.time() - os.path.getmtime(lock) > min(timeout, 10.0)
                except OSError:
                    stale = False
            if stale:
                try:
                    os.unlink(lock)  # break the stale lock; O_EXCL arbitrates who wins next
                except OSError:
                    pass
                continue
            if time.time() - start > 2 * timeout:
                raise TimeoutError(f"timed out waiting for the cache lock {lock}")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me)
        return


def _release(lock: str) -> None:
    try:
        os.unlink(lock)
    except OSError:
        pass


_loaded: dict[str, Any] = {}


def _entry_ok(entry: str) -> bool:
    so = os.path.join(entry, "mod.so")
    try:
        with open(os.path.join(entry, "checksum")) as f:
            want = f.read().strip()
        return _sha_file(so) == want
    except OSError:
        return False


def compile_module(src: str, modname_prefix: str, versions: Sequence[Any], cached: bool = True,
                   extra: Sequence[str] = ()) -> Any:
    """Compile ``src`` (which must define ``PyInit_<modname>`` via the ``@MODNAME@`` marker) and
    return the imported module.  ``cached=False`` builds it in a throw-away directory."""
    key = cache_key(src, versions, extra)
    if key in _loaded:
        return _loaded[key]
    modname = f"{modname_prefix}_{key[:20]}"
    src = src.replace("@MODNAME@", modname)
    root = cache_root()
    if not cached:
        tmp = tempfile.mkdtemp(prefix="nocache-", dir=root)
        try:
            mod = _load(_build(src, modname, tmp, extra), modname)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return mod
    parent = os.path.join(root, key[:2])
    os.makedirs(parent, mode=0o700, exist_ok=True)
    entry = os.path.join(parent, key)
    if not _entry_ok(entry):
        lock = entry + ".lock"
        _acquire(lock, float(_flag("cpu_c__cache_timeout", 120.0)))
        try:
            if not _entry_ok(entry):
                if os.path.exists(entry):
                    bad = entry + f".bad-{os.getpid()}"
                    os.rename(entry, bad)
                    shutil.rmtree(bad, ignore_errors=True)
                tmp = tempfile.mkdtemp(prefix=f"tmp-{key[:8]}-", dir=parent)
                try:
                    _build(src, modname, tmp, extra)
                    os.rename(tmp, entry)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
        finally:
            _release(lock)
    mod = _load(os.path.join(entry, "mod.so"), modname)
    _loaded[key] = mod
    return mod


# -- CLI helpers -------------------------------------------------------------------------------
def list_entries() -> list[tuple[str, int, float]]:
    """``(key, size in bytes, mtime)`` of every cache entry."""
    root = cache_root()
    out = []
    for sub in sorted(os.listdir(root)):
        d = os.path.join(root, sub)
        if len(sub) != 2 or not os.path.isdir(d):
            continue
        for key in sorted(os.listdir(d)):
            e = os.path.join(d, key)
            if os.path.isdir(e) and len(key) == 64:
                size = sum(os.path.getsize(os.path.join(e, f)) for f in os.listdir(e))
                out.append((key, size, os.path.getmtime(e)))
    return out


def clear(older_than_days: float | None = None) -> int:
    """Remove entries (all, or those unused for ``older_than_days``); returns how many."""
    n = 0
    now = time.time()
    for key, _, mtime in list_entries():
        if older_than_days is not None and now - mtime < older_than_days * 86400:
            continue
        shutil.rmtree(os.path.join(cache_root(), key[:2], key), ignore_errors=True)
        n += 1
    return n


def purge() -> None:
    """Remove the whole cache directory, including failed sources and temporary directories."""
    shutil.rmtree(cache_root(), ignore_errors=True)
