"""A progress line on the terminal while a long compile runs.

Linking a large graph on a cold cache can take seconds (the C backend builds a module); a user
staring at a silent prompt cannot tell a compile from a hang. :func:`compile_progress` prints
``opcore: compiling <what> ... 3.1 s`` on stderr once the compile has taken longer than the
``compile_progress_delay`` flag (seconds, default 2), refreshes it every half second, and ends it
with the total. Short compiles print nothing, and nothing is printed when stderr is not a
terminal (logs, pipes, CI).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, Iterator

from opcore._lazy import LazyModule
from opcore.config import config

threading = LazyModule("threading")  # a progress thread starts only on a terminal


@contextlib.contextmanager
def compile_progress(what: str, stream: IO[str] | None = None) -> Iterator[None]:
    """Show a progress line for the compile of ``what`` while the block runs (see module doc)."""
    stream = sys.stderr if stream is None else stream
    delay = float(config.compile_progress_delay)
    isatty = getattr(stream, "isatty", None)
    if delay < 0 or not (isatty and isatty()):
        yield
        return
    start = time.perf_counter()
    done = threading.Event()
    shown = [False]

    def tick() -> None:
        if done.wait(delay):
            return
        while not done.is_set():
            shown[0] = True
            stream.write(f"\ropcore: compiling {what} ... {time.perf_counter() - start:.1f} s")
            stream.flush()
            done.wait(0.5)

    thread = threading.Thread(target=tick, name="opcore-compile-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown[0]:
            stream.write(f"\ropcore: compiled {what} in {time.perf_counter() - start:.1f} s\n")
            stream.flush()
