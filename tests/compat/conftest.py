"""Run small Theano-style programs through ``python -m opcore.compat.theano`` in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def run_theano(tmp_path):
    """``run_theano(source, *args, env=..., runner_args=...)`` -> CompletedProcess (text)."""

    def run(source: str, *args: str, env: dict | None = None, runner_args=(), cwd=None,
            check: bool = True):
        script = tmp_path / "prog.py"
        script.write_text(textwrap.dedent(source))
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("THEANO_FLAGS", "THEANORC", "OPCORE_SHADOW_THEANO")}
        full_env["THEANORC"] = str(tmp_path / "no-theanorc")
        full_env.setdefault("OPCORE_FLAGS", f"compiledir={tmp_path / 'cache'}")
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "opcore.compat.theano", *runner_args,
                               str(script), *args], capture_output=True, text=True,
                              env=full_env, cwd=cwd or tmp_path, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                 f"stderr:\n{proc.stderr}")
        return proc

    return run
