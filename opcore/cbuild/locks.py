"""Build locks of the compile cache: kernel ``flock`` locks (the ``filelock`` library) that die
with their process, so there is no stale lock to break and a live owner's lock is never taken.

Only a build of a missing entry takes a lock: :mod:`opcore.cbuild.cache` imports this module (and
``filelock``) at the first such build, not when it finds a module in the cache.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from contextlib import contextmanager
from typing import Iterator

from filelock import FileLock, Timeout

from opcore.cbuild.cache import CacheWarning

__all__ = ["entry_lock", "lock_owner"]

def _owner_record(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {time.time():.0f}".encode(), 0)


def lock_owner(lock_path: str) -> str:
    """Who holds (or last held) a lock: ``"pid P on host H since T"``, or ``"unknown"``."""
    try:
        with open(lock_path) as f:
            pid, host, t = f.read().split()
        return f"pid {pid} on host {host} since {time.strftime('%H:%M:%S', time.localtime(int(t)))}"
    except (OSError, ValueError):
        return "unknown"


@contextmanager
def entry_lock(lock_path: str, timeout: float) -> Iterator[bool]:
    """Hold the build lock of one entry; yields ``False`` when it was not had within ``timeout``
    (after a :class:`CacheWarning` naming the owner), and the caller builds unlocked."""
    lock = FileLock(lock_path, timeout=timeout, mode=0o600, on_acquired=_owner_record)
    try:
        lock.acquire()
    except Timeout:
        warnings.warn(f"opcore: the compile cache lock {lock_path} is held by "
                      f"{lock_owner(lock_path)} for more than {timeout:g} s; building this "
                      "entry without it (the publishing rename keeps the cache whole)",
                      CacheWarning, stacklevel=4)
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
