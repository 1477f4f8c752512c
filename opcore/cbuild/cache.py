"""The one compile cache: every C-family module or library opcore builds, under ``config.compiledir``.

Layout (``ROOT`` = ``config.compiledir``)::

    ROOT/<key[:2]>/<key>/        one entry: mod.c, mod.so, meta.json (checksums, ops, kind)
    ROOT/<key[:2]>/<key>.lock    the entry's build lock (flock, held by the building process)
    ROOT/pch-<hash>/             the precompiled Python/NumPy header (with its own meta.json)
    ROOT/<key[:2]>/tmp-*, ROOT/failed-*   builds in progress (or killed) / kept failed sources

Guarantees (tested in ``tests/cbuild/test_cache.py``):

- **Trust**: nothing is loaded from a directory another user could write (:mod:`.trust`); an
  untrusted root gives one warning and a private temporary cache.
- **Crash safety**: an entry is built in a temporary directory, every file fsync'ed, then published
  by one ``rename``; a process killed at any point leaves no half entry.  A lost rename race uses
  the winner's entry.  Every artefact (module, library, precompiled header) has a sha256 in the
  entry's ``meta.json``, checked before use; a broken entry is moved aside and rebuilt.
- **Locks** are kernel ``flock`` locks (the ``filelock`` library): they die with their process, so
  there is no stale lock to break and a live owner's lock is never taken.  A lock waited on longer
  than ``lock_timeout`` gives a warning naming its owner and the build goes ahead unlocked (the
  publishing rename keeps the entry whole).  There is no global lock.
- **Degrade, never fail**: a read-only, full or untrusted cache gives one :class:`CacheWarning` and
  the process compiles into a private temporary cache (removed at exit); the compiler's own message
  is kept in :class:`~opcore.cbuild.driver.CompileError` when a build really fails.  A purge by
  another process during a build makes this process rebuild, not fail.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from opcore._lazy import LazyModule
from opcore.cbuild import trust
from opcore.cbuild.driver import (
    INCLUDE_DIR,
    CompileError,
    base_flags,
    compiler_command,
    resolve_native,
    run_compiler,
)
from opcore.config import ConfigError, config

__all__ = ["CacheWarning", "build_library", "cache_key", "cache_root", "compile_linked_module",
           "compile_module"]

#: the build locks (and ``filelock``): imported by the first build, not by a cache hit
_locks = LazyModule("opcore.cbuild.locks")
#: the thread pool compiling a linked module's missing parts: imported by such a build only
_futures = LazyModule("concurrent.futures")

_ENV_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
_ENV_TEXTS = ("No space left on device", "Read-only file system", "Permission denied",
              "Disk quota exceeded")
_PCH_HEADER = """#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_math.h>
#include <math.h>
#include <tgmath.h>
#include <string.h>
"""


class CacheWarning(UserWarning):
    """The compile cache cannot be used as configured; opcore carries on without it."""


class _Retry(Exception):
    """The cache changed under a build (purged, entry vanished): do it again."""


class _EnvFailure(Exception):
    """The build failed because of the cache directory (full, read-only), not the source."""


# "private": this process's private temporary cache, used for the configured roots in
# "private_for" (those that cannot be used); another root (compiledir changed) is tried afresh
_state: dict[str, Any] = {"private": None, "private_for": set(), "warned": set(),
                          "trusted": set(), "pch": {}}
_loaded: dict[str, Any] = {}
_digests: dict[str, str] = {}


# -- where ----------------------------------------------------------------------------------------
def cache_root() -> str:
    """``config.compiledir``, ``~`` expanded; :class:`ConfigError` when empty or relative."""
    d = os.path.expanduser(str(config.compiledir or ""))
    if not d or not os.path.isabs(d):
        raise ConfigError(f"config flag 'compiledir': {config.compiledir!r} is not an absolute "
                          "path; accepted values: an absolute directory path (or ~/...)")
    return d


def _private_root(reason: str, root: str) -> str:
    if _state["private"] is None:
        d = tempfile.mkdtemp(prefix=f"opcore-private-{os.getpid()}-")
        atexit.register(shutil.rmtree, d, True)
        _state["private"] = d
    if root not in _state["private_for"]:
        _state["private_for"].add(root)
        warnings.warn(f"opcore: the compile cache {root} cannot be used ({reason}); compiling "
                      f"into a private temporary cache {_state['private']} for this process",
                      CacheWarning, stacklevel=4)
    return _state["private"]


def _usable_root() -> str:
    """The trusted root to build in (the configured one, else this process's private one)."""
    root = cache_root()
    if _state["private"] is not None and root in _state["private_for"]:
        return _state["private"]
    if root in _state["trusted"] and os.path.isdir(root):
        return root
    try:
        trust.make_private_dirs(root)
        trust.check_path(root)
    except trust.UntrustedCacheError as exc:
        return _private_root(str(exc), root)
    except OSError as exc:
        return _private_root(f"{type(exc).__name__}: {exc}", root)
    _state["trusted"].add(root)
    return root


def _is_env_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _ENV_ERRNOS


# -- keys and checksums ---------------------------------------------------------------------------
def _dir_digest(d: str) -> str:
    if d not in _digests:
        h = hashlib.sha256()
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                p = os.path.join(d, name)
                if os.path.isfile(p):
                    h.update(name.encode() + b"\0" + _sha_bytes(p).encode())
        _digests[d] = h.hexdigest()
    return _digests[d]


#: the interpreter's extension-module suffix (sysconfig's EXT_SUFFIX, ``.cpython-311-x86_64-linux-
#: gnu.so``: the first suffix the import system tries), read without loading sysconfig
_EXT_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def cache_key(source: str, versions: Sequence[Any] = (), cflags: Sequence[str] = (),
              ldflags: Sequence[str] = (), include_dirs: Sequence[str] = ()) -> str:
    """sha256 of everything a build depends on: source, op versions, compiler and flags, the
    headers of the include directories, the NumPy C-API version and the Python ABI."""
    h = hashlib.sha256()
    for part in (source, repr(tuple(versions)), " ".join(compiler_command()), repr(base_flags()),
                 repr(list(cflags)), repr(list(ldflags)), str(np.lib.NumpyVersion(np.__version__)),
                 hex(getattr(np, "_get_ndarray_c_version", lambda: 0)()),
                 _EXT_SUFFIX, sys.version,
                 *(_dir_digest(d) for d in (INCLUDE_DIR, *include_dirs))):
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def _sha_bytes(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_meta(entry: str) -> dict[str, Any] | None:
    """The entry's ``meta.json`` when the entry is trusted and every file matches its checksum,
    else ``None`` (missing, truncated, corrupted, or writable by others)."""
    try:
        trust.check_owned(entry)
        with open(os.path.join(entry, "meta.json")) as f:
            meta = json.load(f)
        for name, want in meta["files"].items():
            p = os.path.join(entry, name)
            trust.check_owned(p)
            if _sha_bytes(p) != want:
                return None
        return meta
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _seal(d: str, files: Sequence[str], meta: dict[str, Any]) -> None:
    """Write ``meta.json`` with the sha256 of ``files``; make them user-only (whatever the
    umask) and fsync them, it and ``d``."""
    meta = dict(meta, files={f: _sha_bytes(os.path.join(d, f)) for f in files},
                created=time.time())
    with open(os.path.join(d, "meta.json"), "w") as fh:
        json.dump(meta, fh)
    for f in (*files, "meta.json"):
        os.chmod(os.path.join(d, f), 0o600)  # the compiler's output follows the umask
        _fsync(os.path.join(d, f))
    _fsync(d)


def _publish(tmp: str, entry: str) -> None:
    """Rename the sealed ``tmp`` into ``entry``; a valid entry published meanwhile wins."""
    for _ in range(3):
        try:
            os.rename(tmp, entry)
            _fsync(os.path.dirname(entry))
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if read_meta(entry) is not None:
            return  # another process won the race: use its entry
        _discard(entry)
    raise _Retry(entry)


def _discard(path: str) -> None:
    """Move a broken entry aside (atomic) and delete it."""
    aside = f"{path}.bad-{os.getpid()}-{time.monotonic_ns()}"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    shutil.rmtree(aside, ignore_errors=True)


# -- building -------------------------------------------------------------------------------------
def _pch_flags(root: str, cflags: Sequence[str], timeout: float) -> list[str]:
    """``-include`` flags of a verified precompiled Python+NumPy header for these flags (GCC),
    built once into the cache; ``[]`` when it cannot be had (compiles still work without)."""
    flags = [f for f in base_flags() if f != "-shared"] + list(cflags)
    h = hashlib.sha256(repr((compiler_command(), flags, _PCH_HEADER, sys.version)).encode())
    d = os.path.join(root, "pch-" + h.hexdigest()[:16])
    header = os.path.join(d, "oc_pre.h")
    known = _state["pch"].get(d)
    if known == "failed":
        return []  # this compiler cannot precompile it: not tried again in this process
    if known and os.path.isfile(header + ".gch"):
        return ["-include", header]
    try:
        if read_meta(d) is None:
            with _locks.entry_lock(d + ".lock", timeout):
                if read_meta(d) is None:
                    tmp = tempfile.mkdtemp(prefix="tmp-pch-", dir=root)
                    try:
                        with open(os.path.join(tmp, "oc_pre.h"), "w") as f:
                            f.write(_PCH_HEADER)
                        rc, _ = run_compiler(["-x", "c-header", *flags,
                                              os.path.join(tmp, "oc_pre.h"), "-o",
                                              os.path.join(tmp, "oc_pre.h.gch")])
                        if rc != 0:
                            _state["pch"][d] = "failed"
                            return []
                        _seal(tmp, ["oc_pre.h", "oc_pre.h.gch"], {"kind": "pch", "ops": []})
                        _publish(tmp, d)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
        if read_meta(d) is None:
            return []
    except (OSError, _Retry):
        return []
    _state["pch"][d] = True
    return ["-include", header]


def _keep_failed(root: str, cpath: str) -> str:
    try:
        keep = tempfile.mkdtemp(prefix="failed-", dir=root)
    except OSError:
        keep = tempfile.mkdtemp(prefix="opcore-failed-")
    kept = os.path.join(keep, os.path.basename(cpath))
    shutil.copy(cpath, kept)
    return kept


def _build(root: str, tmp: str, src: str, name: str, kind: str, cflags: Sequence[str],
           ldflags: Sequence[str], pch: bool, timeout: float, meta: dict[str, Any],
           objects: Callable[[], list[str]] | None = None) -> None:
    """Compile ``src`` into ``tmp/mod.so`` (``tmp/mod.o`` for kind ``"object"``), linked with
    the object files ``objects()`` returns, and seal the directory."""
    cpath = os.path.join(tmp, "mod.c")
    with open(cpath, "w") as f:
        f.write(src)
    out_name = "mod.o" if kind == "object" else "mod.so"
    so = os.path.join(tmp, out_name)
    objs = objects() if objects is not None else []
    pch_flags = _pch_flags(root, cflags, timeout) if pch else []
    flags = base_flags(shared=kind != "object") + (["-c"] if kind == "object" else [])
    cmd = [*flags, *cflags, *pch_flags, cpath, *objs, "-o", so, *ldflags]
    rc, out = run_compiler(cmd)
    if rc != 0 and pch_flags and read_meta(os.path.dirname(pch_flags[1])) is None:
        # the precompiled header vanished (purge) or broke under us: build without it
        _state["pch"].clear()
        cmd = [*flags, *cflags, cpath, *objs, "-o", so, *ldflags]
        rc, out = run_compiler(cmd)
    if rc != 0:
        if not os.path.isdir(tmp) or not all(os.path.isfile(o) for o in objs):
            raise _Retry(tmp)  # purged while compiling
        if any(t in out for t in _ENV_TEXTS):
            raise _EnvFailure(out)
        kept = _keep_failed(root, cpath)
        raise CompileError(f"C compilation of {name} failed (source kept at {kept}):\n"
                           f"{out[-4000:]}\ncommand: {' '.join([*compiler_command(), *cmd])}",
                           [*compiler_command(), *cmd], out, kept)
    _seal(tmp, ["mod.c", out_name], meta)


def _obtain(root: str, key: str, src: str, name: str, kind: str, cflags: Sequence[str],
            ldflags: Sequence[str], pch: bool, timeout: float, ops: Sequence[str],
            objects: Callable[[], list[str]] | None = None) -> str:
    parent = os.path.join(root, key[:2])
    entry = os.path.join(parent, key)
    if read_meta(entry) is not None:
        return entry
    trust.make_private_dirs(parent)
    trust.check_owned(parent)
    with _locks.entry_lock(entry + ".lock", timeout):
        if read_meta(entry) is not None:
            return entry
        if os.path.lexists(entry):
            _discard(entry)  # broken, or not ours: never loaded, rebuilt
        tmp = tempfile.mkdtemp(prefix=f"tmp-{key[:8]}-", dir=parent)
        try:
            _build(root, tmp, src, name, kind, cflags, ldflags, pch, timeout,
                   {"kind": kind, "name": name, "ops": sorted(set(ops))}, objects)
            _publish(tmp, entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if read_meta(entry) is None:
        raise _Retry(entry)
    return entry


def _entry_for(key: str, src: str, name: str, kind: str, cflags: Sequence[str],
               ldflags: Sequence[str], pch: bool, timeout: float, ops: Sequence[str],
               objects: Callable[[], list[str]] | None = None) -> str:
    """The verified entry directory of ``key``, built when missing, with retries and fallback."""
    last: BaseException | None = None
    for _ in range(4):
        root = _usable_root()
        try:
            return _obtain(root, key, src, name, kind, cflags, ldflags, pch, timeout, ops,
                           objects)
        except (_Retry, FileNotFoundError) as exc:
            last = exc
            _state["trusted"].discard(root)
            continue
        except trust.UntrustedCacheError as exc:
            last = exc
            if root == _state["private"]:
                raise
            _private_root(str(exc), root)
        except _EnvFailure as exc:
            last = exc
            if root == _state["private"]:
                raise CompileError(f"C compilation of {name} failed:\n{exc}", (), str(exc)) from None
            lines = [ln for ln in str(exc).splitlines() if any(t in ln for t in _ENV_TEXTS)]
            _private_root((lines or [str(exc)])[0].strip()[:300], root)
        except OSError as exc:
            if not _is_env_error(exc) or root == _state["private"]:
                raise
            last = exc
            _private_root(f"{type(exc).__name__}: {exc}", root)
    raise CompileError(f"could not build {name}: the compile cache kept changing ({last})")


def _touch(entry: str) -> None:
    try:
        os.utime(entry)
    except OSError:
        pass  # read-only cache: last use is not recorded


def _load(path: str, modname: str) -> Any:
    loader = importlib.machinery.ExtensionFileLoader(modname, path)
    spec = importlib.util.spec_from_file_location(modname, path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def _build_uncached(src: str, modname: str, cflags: Sequence[str], ldflags: Sequence[str],
                    pch: bool, timeout: float) -> Any:
    """Build and import a module in a throw-away directory (a node without a cache version)."""
    for _ in range(2):
        root = _usable_root()
        try:
            tmp = tempfile.mkdtemp(prefix="nocache-", dir=root)
            try:
                _build(root, tmp, src, modname, "module", cflags, ldflags, pch, timeout, {})
                return _load(os.path.join(tmp, "mod.so"), modname)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except (_EnvFailure, OSError) as exc:
            if root == _state["private"] or not (isinstance(exc, _EnvFailure)
                                                  or _is_env_error(exc)):
                if isinstance(exc, _EnvFailure):
                    raise CompileError(f"C compilation of {modname} failed:\n{exc}", (),
                                       str(exc)) from None
                raise
            _private_root(f"{type(exc).__name__}: {str(exc).strip()[-300:]}", root)
        except _Retry:
            continue
    raise CompileError(f"could not build {modname}: the compile cache kept changing")


def compile_module(source: str, name: str, versions: Sequence[Any] = (), *,
                   cflags: Sequence[str] = (), ldflags: Sequence[str] = (),
                   include_dirs: Sequence[str] = (), pch: bool = False, cached: bool = True,
                   ops: Sequence[str] = (), lock_timeout: float = 120.0) -> Any:
    """Compile a CPython extension and import it (from the cache when already built).

    ``source`` defines ``PyInit_@MODNAME@``; ``@MODNAME@`` is replaced by ``<name>_<key>``.
    ``versions`` (hashable) and the flags join the cache key; ``include_dirs`` are added with
    ``-I`` and their headers hashed into the key; ``pch`` precompiles Python.h/NumPy (GCC);
    ``ops`` names what the module holds (``opcore cache list``); ``cached=False`` builds in a
    throw-away directory.  Raises :class:`CompileError` with the compiler's message.
    """
    cflags = [*resolve_native(cflags), *("-I" + d for d in include_dirs)]
    key = cache_key(source, versions, cflags, ldflags, include_dirs)
    if key in _loaded:
        return _loaded[key]
    modname = f"{name}_{key[:20]}"
    src = source.replace("@MODNAME@", modname)
    if not cached:
        return _build_uncached(src, modname, cflags, ldflags, pch, lock_timeout)
    entry = _entry_for(key, src, modname, "module", cflags, ldflags, pch, lock_timeout, ops)
    mod = _load(os.path.join(entry, "mod.so"), modname)
    _touch(entry)
    _loaded[key] = mod
    return mod


def _jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def compile_linked_module(source: str, name: str, parts: Sequence[str],
                          versions: Sequence[Any] = (), *, cflags: Sequence[str] = (),
                          ldflags: Sequence[str] = (), include_dirs: Sequence[str] = (),
                          pch: bool = False, ops: Sequence[str] = (),
                          part_ops: Sequence[Sequence[str]] = (),
                          part_cflags: Sequence[Sequence[str]] = (),
                          lock_timeout: float = 120.0) -> Any:
    """A CPython extension linked from ``source`` and one object file per source in ``parts``;
    each part is compiled once into the cache (kind ``"object"``, keyed by its own text and the
    flags) and reused by every module that contains it, so a module made of parts already built
    costs one small compile and a link.  Missing parts compile in parallel, one compiler per
    available core.

    ``source`` defines ``PyInit_@MODNAME@`` and is compiled without the precompiled header (keep
    it free of includes to make it cheap); the parts get ``cflags`` and, with ``pch``, the
    precompiled Python/NumPy header; ``part_cflags[i]`` are more flags for part ``i`` alone, and
    ``part_ops[i]`` names what it holds (``opcore cache list``).  Raises :class:`CompileError`
    with the compiler's message."""
    cflags = [*cflags, *("-I" + d for d in include_dirs)]
    flags_of = [[*cflags, *(part_cflags[i] if i < len(part_cflags) else ())]
                for i in range(len(parts))]
    part_keys = [cache_key(p, ("object",), f, (), include_dirs) for p, f in zip(parts, flags_of)]
    key = cache_key(source, (*versions, *part_keys), cflags, ldflags, include_dirs)
    if key in _loaded:
        return _loaded[key]
    modname = f"{name}_{key[:20]}"
    src = source.replace("@MODNAME@", modname)

    def obtain(i: int) -> str:
        entry = _entry_for(part_keys[i], parts[i], f"{name}_part", "object", flags_of[i], (),
                           pch, lock_timeout, part_ops[i] if i < len(part_ops) else ())
        _touch(entry)
        return os.path.join(entry, "mod.o")

    def objects() -> list[str]:
        if pch:  # built once per set of flags, before the parallel compiles use it
            for f in {tuple(f) for f in flags_of}:
                _pch_flags(_usable_root(), f, lock_timeout)
        jobs = min(_jobs(), len(parts))
        if jobs <= 1:
            return [obtain(i) for i in range(len(parts))]
        with _futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(obtain, range(len(parts))))

    entry = _entry_for(key, src, modname, "module", cflags, ldflags, False, lock_timeout, ops,
                       objects)
    mod = _load(os.path.join(entry, "mod.so"), modname)
    _touch(entry)
    _loaded[key] = mod
    return mod


def build_library(source: str, name: str, *, cflags: Sequence[str] = (),
                  ldflags: Sequence[str] = (), ops: Sequence[str] = (),
                  lock_timeout: float = 120.0) -> str:
    """Compile ``source`` into a plain shared library (for :mod:`ctypes`) in the cache; returns
    the verified path of the ``.so``.  Raises :class:`CompileError` with the compiler's message."""
    cflags = resolve_native(cflags)
    key = cache_key(source, ("library", name), cflags, ldflags)
    entry = _entry_for(key, source, name, "library", cflags, ldflags, False, lock_timeout, ops)
    _touch(entry)
    return os.path.join(entry, "mod.so")


def __getattr__(name: str) -> Any:
    # the lock helpers live in opcore.cbuild.locks (imported only when a build needs a lock)
    if name in ("entry_lock", "lock_owner"):
        return getattr(_locks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
