"""Who may write the directories compiled code is loaded from (the checks ssh and ccache make).

A compiled module runs with the rights of the process that loads it, so a module is loaded only
from a directory that no other local user can write:

- the cache root (``config.compiledir``) and every directory below it on the way to a module are
  owned by the current user and are not group- or world-writable;
- every directory above the root is owned by the current user or by root, and is not group- or
  world-writable unless its sticky bit is set (``/tmp``: others cannot rename our entries there);
- directories opcore creates are made mode 0700 whatever the umask.

See ``docs/cache.md`` for the threat model.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

__all__ = ["UntrustedCacheError", "check_owned", "check_path", "make_private_dirs",
           "read_private_json", "write_private_json"]


class UntrustedCacheError(OSError):
    """A cache directory or file fails the ownership/mode check; the message says how to fix it."""


def _describe(path: str, st: os.stat_result) -> str:
    return f"{path} (owner uid {st.st_uid}, mode {stat.filemode(st.st_mode)})"


def check_owned(path: str, st: os.stat_result | None = None) -> None:
    """Raise :class:`UntrustedCacheError` unless ``path`` is owned by us, not a symlink, and not
    group- or world-writable."""
    if st is None:
        st = os.lstat(path)
    uid = os.geteuid()
    if stat.S_ISLNK(st.st_mode):
        raise UntrustedCacheError(f"refusing to use the compile cache: {path} is a symbolic link; "
                                  "fix: point config.compiledir at a real directory")
    if st.st_uid != uid:
        raise UntrustedCacheError(
            f"refusing to use the compile cache: {_describe(path, st)} is not owned by you "
            f"(uid {uid}), so another user could plant code there; fix: remove it, or set "
            "config.compiledir (OPCORE_FLAGS=compiledir=/abs/path) to a directory of your own")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UntrustedCacheError(
            f"refusing to use the compile cache: {_describe(path, st)} is writable by other users; "
            f"fix: chmod go-w {path} (opcore creates its directories 0700)")


def _check_parent(path: str) -> None:
    st = os.stat(path)
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        raise UntrustedCacheError(
            f"refusing to use the compile cache below {_describe(path, st)}: the directory is "
            f"owned by neither you (uid {uid}) nor root; fix: set config.compiledir elsewhere")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        raise UntrustedCacheError(
            f"refusing to use the compile cache below {_describe(path, st)}: other users can "
            f"replace entries in it (writable, no sticky bit); fix: chmod go-w {path}, or set "
            "config.compiledir elsewhere")


def check_path(root: str, below: str = "") -> None:
    """Check ``root``'s parents (owned by us or root, not writable by others unless sticky), then
    ``root`` and each directory from it down to ``below`` (owned by us, not writable by others)."""
    root = os.path.abspath(root)
    parent = os.path.dirname(root)
    while True:
        _check_parent(parent)
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    check_owned(root)
    if below:
        rel = os.path.relpath(os.path.abspath(below), root)
        if rel.startswith(os.pardir):
            raise ValueError(f"{below} is not below {root}")
        cur = root
        for part in rel.split(os.sep):
            if part in ("", os.curdir):
                continue
            cur = os.path.join(cur, part)
            check_owned(cur)


def make_private_dirs(path: str) -> None:
    """Create ``path`` and missing parents with mode 0700 (chmod'ed, so the umask cannot widen
    it); existing directories are left as they are (the checks above judge them)."""
    path = os.path.abspath(path)
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:
            if not os.path.isdir(p):
                raise
            continue  # made by a concurrent process: judged by the checks, not chmod'ed
        os.chmod(p, 0o700)


def read_private_json(path: str) -> Any:
    """The JSON document in ``path`` when the file and its directory pass :func:`check_owned`
    (ours, not a link, not writable by others), else ``None`` (also when missing or unreadable).
    For small memos kept in the cache (the entry-point scan, the compiler check)."""
    try:
        check_owned(os.path.dirname(path))
        check_owned(path)
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def write_private_json(path: str, doc: Any) -> None:
    """Write ``doc`` to ``path`` atomically (a temporary file renamed over it), mode 0600, its
    directory made 0700 when missing; silently nothing when the directory is not ours or the
    write fails (a memo is an optimisation, never a reason to fail)."""
    folder = os.path.dirname(path)
    try:
        make_private_dirs(folder)
        check_owned(folder)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return
