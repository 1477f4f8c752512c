"""``opcore cache list|clear|purge``: the whole compile cache under ``config.compiledir``."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from typing import Any

from filelock import FileLock, Timeout

from opcore.cbuild.cache import cache_root, read_meta

__all__ = ["clear", "configure", "list_entries", "purge", "run"]

_KEY = re.compile(r"^[0-9a-f]{64}$")
_LEFTOVER = re.compile(r"^(tmp-|nocache-|failed-).*|.*\.bad-\d+-\d+$")
_LEGACY = ("cpu_c", "gpu_cuda")  # per-plugin caches of earlier versions


def _size(path: str) -> int:
    total = 0
    for dp, _, fs in os.walk(path):
        for f in fs:
            try:
                total += os.lstat(os.path.join(dp, f)).st_size
            except OSError:
                pass
    return total


def list_entries(root: str | None = None) -> list[dict[str, Any]]:
    """One dict per cache entry: ``key``, ``path``, ``kind``, ``name``, ``ops``, ``size`` (bytes),
    ``last_use`` (epoch seconds) and ``ok`` (checksums and ownership hold)."""
    root = root or cache_root()
    out = []
    if not os.path.isdir(root):
        return out
    for sub in sorted(os.listdir(root)):
        d = os.path.join(root, sub)
        if len(sub) != 2 or not os.path.isdir(d):
            continue
        for key in sorted(os.listdir(d)):
            e = os.path.join(d, key)
            if not _KEY.match(key) or not os.path.isdir(e):
                continue
            meta = read_meta(e)
            out.append({"key": key, "path": e, "ok": meta is not None,
                        "kind": (meta or {}).get("kind", "?"), "name": (meta or {}).get("name", ""),
                        "ops": list((meta or {}).get("ops", [])), "size": _size(e),
                        "last_use": os.path.getmtime(e)})
    return out


def _unheld(lock_path: str) -> bool:
    """Remove a lock file nobody holds (a killed process's); ``True`` when removed."""
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return False
    try:
        os.unlink(lock_path)
    except OSError:
        pass
    finally:
        lock.release()
    return True


def _leftovers(root: str, everything: bool) -> int:
    """Remove temporary build dirs, moved-aside entries, unheld locks and private caches of dead
    processes; with ``everything`` also precompiled headers, kept failed sources, legacy dirs."""
    n = 0
    for dp in [root] + [os.path.join(root, s) for s in os.listdir(root) if len(s) == 2]:
        if not os.path.isdir(dp):
            continue
        for name in os.listdir(dp):
            p = os.path.join(dp, name)
            if name.endswith(".lock"):
                n += _unheld(p)
            elif (_LEFTOVER.match(name) and (everything or not name.startswith("failed-"))) or (
                    everything and dp == root and (name.startswith("pch-") or name in _LEGACY)):
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        m = re.match(r"^opcore-private-(\d+)-", name)
        p = os.path.join(tmp, name)
        if m and os.path.isdir(p) and os.lstat(p).st_uid == os.geteuid() and not _alive(int(m[1])):
            shutil.rmtree(p, ignore_errors=True)
            n += 1
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear(older_than_days: float | None = None, root: str | None = None) -> tuple[int, int]:
    """Remove entries (all, or those unused for ``older_than_days``) and leftovers (temporary
    build dirs of killed compiles, unheld locks); returns ``(entries, leftovers)`` removed."""
    root = root or cache_root()
    if not os.path.isdir(root):
        return 0, 0
    now = time.time()
    n = 0
    for e in list_entries(root):
        if older_than_days is not None and now - e["last_use"] < older_than_days * 86400:
            continue
        aside = f"{e['path']}.bad-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(e["path"], aside)  # atomic: a loader sees the whole entry or none
        except OSError:
            continue
        shutil.rmtree(aside, ignore_errors=True)
        n += 1
    return n, _leftovers(root, everything=False)


def purge(root: str | None = None) -> int:
    """Remove every entry and everything else opcore keeps in the cache directory."""
    root = root or cache_root()
    if not os.path.isdir(root):
        return 0
    n, m = clear(None, root)
    return n + m + _leftovers(root, everything=True)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "clear", "purge"),
                        help="list entries, clear them (--older-than DAYS) with leftovers of "
                             "killed compiles, or purge everything opcore keeps there")
    parser.add_argument("--older-than", type=float, default=None, metavar="DAYS")


def run(args: argparse.Namespace) -> int:
    root = cache_root()
    if args.action == "list":
        entries = list_entries(root)
        for e in entries:
            ops = ", ".join(e["ops"]) or "-"
            if len(ops) > 60:
                ops = ops[:57] + "..."
            state = "" if e["ok"] else "  (broken: rebuilt on next use)"
            print(f"{e['key'][:16]}  {e['kind']:7s}  {e['size'] / 1024:8.1f} KiB  "
                  f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(e['last_use']))}  {ops}{state}")
        total = sum(e["size"] for e in entries)
        other = _size(root) - total if os.path.isdir(root) else 0
        print(f"{len(entries)} entries, {total / 1024:.1f} KiB in {root} (plus "
              f"{other / 1024:.1f} KiB of precompiled headers, locks and leftovers)")
    elif args.action == "clear":
        n, m = clear(args.older_than, root)
        print(f"removed {n} entries and {m} leftovers from {root}")
    else:
        n = purge(root)
        print(f"purged {root} ({n} items removed)")
    return 0
