"""The compile progress line: shown on a terminal once a compile takes longer than the delay,
never for short compiles or when stderr is not a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time

import opcore
from opcore.compile.progress import compile_progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_long_compile_on_a_terminal_shows_progress_and_the_total():
    out = _Tty()
    with opcore.config.change_flags(compile_progress_delay=0.05):
        with compile_progress("f (12 nodes, backend c)", stream=out):
            time.sleep(0.7)
    text = out.getvalue()
    assert "opcore: compiling f (12 nodes, backend c) ... " in text
    assert text.endswith("s\n") and "\ropcore: compiled f (12 nodes, backend c) in 0." in text


def test_short_compile_and_non_terminal_print_nothing():
    out = _Tty()
    with opcore.config.change_flags(compile_progress_delay=5.0):
        with compile_progress("f", stream=out):
            time.sleep(0.05)
    assert out.getvalue() == ""
    plain = io.StringIO()  # not a terminal: a log file, a pipe, CI
    with opcore.config.change_flags(compile_progress_delay=0.0):
        with compile_progress("f", stream=plain):
            time.sleep(0.2)
    assert plain.getvalue() == ""


def test_function_compile_in_a_real_terminal():
    """opcore.function under a pseudo-terminal prints the line; piped stderr does not."""
    code = ("import time, numpy as np, opcore, opcore.tensor as T\n"
            "from opcore.compile import linker\n"
            "orig = linker.Linker.make_program\n"
            "def slow(self, *a):\n"
            "    time.sleep(0.6)\n"
            "    return orig(self, *a)\n"
            "linker.Linker.make_program = slow\n"
            "x = T.dvector('x')\n"
            "f = opcore.function([x], x * 2, mode=opcore.compile.Mode(backend='py'), name='dbl')\n"
            "print('value', f(np.ones(2)).tolist())\n")
    env = dict(os.environ, OPCORE_FLAGS="compile_progress_delay=0.1")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert "value [2.0, 2.0]" in text
    assert "opcore: compiling dbl (1 nodes, backend py)" in text, text
    assert "opcore: compiled dbl (1 nodes, backend py) in " in text
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           timeout=120)
    assert "value [2.0, 2.0]" in piped.stdout and "compiling" not in piped.stderr
