"""Entry-point discovery, cached on disk between processes.

Scanning entry points through :mod:`importlib.metadata` reads the metadata of every installed
distribution (and imports the ``email`` parser for it): tens of milliseconds in each new process,
most of a warm-cache first compile.  The result depends only on the installed distributions, so
it is kept in ``config.compiledir`` under a key made of what they are on disk, the way stevedore
caches its entry points:

- the interpreter (``sys.executable``, ``sys.prefix``, ``sys.version``), each ``sys.path`` entry
  and the names of the ``*.dist-info`` / ``*.egg-info`` / ``*.egg`` found in it: installing or
  removing a distribution adds or removes one;
- the modification time (or absence) of each one's ``entry_points.txt``: an edited or newly
  written file changes the key even when the names do not.

Any change gives a new key, hence a scan.  A scan whose key includes a time less than
:data:`RACY_SECONDS` old is not stored (a change in the same clock tick could leave the time
unchanged; git calls this the racy-clean problem).  The cache file must be owned by the user and not
writable by others, or it is ignored; every error reading or writing it falls back to the scan.
``OPCORE_PLUGIN_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from importlib import import_module
from typing import Any, NamedTuple

from opcore.cbuild.trust import read_private_json, write_private_json
from opcore.config import config

#: Bumped when the file's layout changes.
FORMAT = 1
#: A key holding a modification time younger than this (seconds) is not stored.
RACY_SECONDS = 2.0
_DIST_SUFFIXES = (".dist-info", ".egg-info", ".egg")


class FoundEntryPoint(NamedTuple):
    """One entry point of the ``opcore`` group, as the host needs it (no metadata objects).

    The records of this module are named tuples, not dataclasses: every process that compiles
    creates these classes, and a frozen dataclass costs ten times as much to create."""

    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """Import ``module[:attr.attr]`` (the entry point's object), like ``EntryPoint.load``."""
        target = self.value.split("[", 1)[0].strip()  # "mod:attr [extra]"
        module_name, _, attrs = target.partition(":")
        obj: Any = import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


class Discovery(NamedTuple):
    """What a scan found: the group's entry points and the version of the ``opcore`` distribution."""

    entry_points: tuple[FoundEntryPoint, ...]
    core_version: str | None
    from_cache: bool = False


def discover(group: str) -> Discovery:
    """The entry points of ``group`` (cached; see the module docstring)."""
    if os.environ.get("OPCORE_PLUGIN_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return scan(group)
    try:
        key, youngest = environment_key(group)
        path = _cache_file(group)
    except (OSError, ValueError):
        return scan(group)
    found = _read(path, key)
    if found is not None:
        return found
    result = scan(group)
    if time.time() - youngest > RACY_SECONDS:
        _write(path, key, result)
    return result


def scan(group: str) -> Discovery:
    """Read every installed distribution's metadata (slow: :mod:`importlib.metadata`)."""
    metadata = import_module("importlib.metadata")
    eps = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        eps.append(FoundEntryPoint(ep.name, ep.value,
                                   dist.metadata["Name"] if dist is not None else None,
                                   dist.version if dist is not None else None))
    try:
        core = metadata.version("opcore")
    except metadata.PackageNotFoundError:
        core = None
    return Discovery(tuple(eps), core)


def environment_key(group: str) -> tuple[str, float]:
    """``(key, youngest)``: the sha256 of the interpreter, ``sys.path``, the distributions found in
    its directories and the modification times of their ``entry_points.txt``; the newest of those
    times.  A directory's own time is left out: the script's folder or ``/tmp`` on ``sys.path``
    changes all the time without changing what is installed there."""
    h = hashlib.sha256()
    youngest = 0.0
    for part in (str(FORMAT), group, sys.executable, sys.prefix, sys.version):
        h.update(part.encode() + b"\0")
    for entry in sys.path:
        where = os.path.abspath(entry or os.curdir) if isinstance(entry, str) else repr(entry)
        h.update(where.encode("utf-8", "surrogateescape") + b"\0")
        try:
            names = sorted(n for n in os.listdir(where) if n.endswith(_DIST_SUFFIXES))
        except NotADirectoryError:  # a zip file: its own time covers its content
            st = os.stat(where)
            h.update(f"zip\0{st.st_mtime_ns}\0".encode())
            youngest = max(youngest, st.st_mtime)
            continue
        except (OSError, ValueError):
            h.update(b"-\0")
            continue
        prefix = where + os.sep
        for name in names:
            # an egg keeps its metadata in EGG-INFO/; the others directly
            where_ep = ("/EGG-INFO/entry_points.txt" if name.endswith(".egg")
                        else "/entry_points.txt")
            try:
                mtime_ns = os.stat(prefix + name + where_ep).st_mtime_ns
            except OSError:
                mtime_ns = -1
            h.update(f"{name}\0{mtime_ns}\0".encode("utf-8", "surrogateescape"))
            youngest = max(youngest, mtime_ns / 1e9)
    return h.hexdigest(), youngest


def _cache_file(group: str) -> str:
    """One file per interpreter and ``sys.path`` (the key inside says which state it holds)."""
    root = os.path.expanduser(str(config.compiledir or ""))
    if not os.path.isabs(root):
        raise ValueError(f"compiledir {root!r} is not absolute")
    where = hashlib.sha256(repr((sys.executable, sys.prefix, group, sys.path)).encode(
        "utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(root, "plugins", f"entry-points-{where}.json")


def _read(path: str, key: str) -> Discovery | None:
    doc = read_private_json(path)
    try:
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        eps = tuple(FoundEntryPoint(str(e["name"]), str(e["value"]), e["distribution"],
                                    e["version"]) for e in doc["entry_points"])
        return Discovery(eps, doc["core_version"], from_cache=True)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _write(path: str, key: str, found: Discovery) -> None:
    write_private_json(path, {
        "format": FORMAT, "key": key, "core_version": found.core_version,
        "entry_points": [{"name": e.name, "value": e.value, "distribution": e.distribution,
                          "version": e.version} for e in found.entry_points]})
