"""When a plugin is missing or switched off, every error says which package and what to do.

The "installed but disabled" cases switch the real first-party plugins off with
OPCORE_DISABLE_PLUGINS in a subprocess; "not installed" uses a host that has no record of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from opcore.plugins import flag_install_hint, install_hint


def _run(code: str, disable: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPCORE_DISABLE_PLUGINS=disable)
    env.pop("OPCORE_STRICT_PLUGINS", None)
    return subprocess.run([sys.executable, *args] if not code else [sys.executable, "-c", code],
                          capture_output=True, text=True, env=env, timeout=120)


def _installed(dist: str) -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution(dist)
    except PackageNotFoundError:
        return False
    return True


def test_not_installed_names_the_pip_command():
    empty = SimpleNamespace(records={})
    hint = install_hint("opcore-cpu-c", empty)
    assert hint == ("opcore-cpu-c is not installed: pip install opcore-cpu-c "
                    "(in a checkout of opcore: pip install -e plugins/cpu_c)")
    assert "pip install opcore-nnet" in flag_install_hint("nnet__foo", empty)
    assert flag_install_hint("no_such_flag", empty) == ""


def test_disabled_plugin_is_reported_as_disabled_not_missing():
    record = SimpleNamespace(distribution="opcore_nnet", status="disabled", name="nnet",
                             hints=["listed in OPCORE_DISABLE_PLUGINS"], error=None)
    hint = install_hint("opcore-nnet", SimpleNamespace(records={"nnet": record}))
    assert "installed but disabled" in hint and "OPCORE_DISABLE_PLUGINS" in hint
    assert "pip install" not in hint


@pytest.fixture
def cpu_c_installed():
    if not _installed("opcore-cpu-c"):
        pytest.skip("the C backend plugin (opcore-cpu-c) is not installed here")


def test_backend_command_and_flag_of_a_disabled_plugin(cpu_c_installed):
    code = ("import opcore, opcore.tensor as T\n"
            "for f in (lambda: opcore.function([], T.constant(1.0),"
            " mode=opcore.compile.Mode(backend='c')),"
            " lambda: setattr(opcore.config, 'cpu_c__blas', 'scipy')):\n"
            "    try: f()\n"
            "    except Exception as e: print(type(e).__name__, '|', e)\n")
    r = _run(code, "cpu_c")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("BackendError | unknown backend 'c'"), r.stdout + r.stderr
    assert "opcore-cpu-c" in lines[0] and "disabled" in lines[0]
    assert lines[1].startswith("ConfigError | unknown config flag 'cpu_c__blas'")
    assert "belongs to opcore-cpu-c" in lines[1]
    # the compile cache belongs to the core (opcore.cbuild): its command works without the plugin
    r = _run("", "cpu_c", "-m", "opcore", "cache", "list")
    assert r.returncode == 0 and "entries" in r.stdout, r.stderr


def test_namespace_of_a_disabled_plugin_says_disabled():
    if not _installed("opcore-nnet"):
        pytest.skip("the nnet plugin (opcore-nnet) is not installed here")
    r = _run("import opcore.tensor as T; T.nnet", "nnet")
    assert r.returncode != 0
    assert "none is installed" not in r.stderr
    assert "opcore-nnet" in r.stderr and "installed but disabled" in r.stderr


def test_doctor_lines_belong_to_their_plugin_and_survive_a_closed_pipe(cpu_c_installed):
    r = _run("", "", "-m", "opcore", "doctor", "--json")
    checks = json.loads(r.stdout)
    by_topic = {c["topic"]: c for c in checks}
    assert by_topic["C compiler"]["plugin"] == "cpu_c"
    r = _run("", "cpu_c", "-m", "opcore", "doctor", "--json")
    topics = {c["topic"]: c for c in json.loads(r.stdout)}
    assert "C compiler" not in topics  # no C plugin, no C compiler line
    assert "disabled" in topics["C backend"]["detail"]
    # `opcore doctor --json | head -1`: the reader closes the pipe early; no traceback
    env = dict(os.environ)
    env.pop("OPCORE_STRICT_PLUGINS", None)
    p = subprocess.run(f"'{sys.executable}' -m opcore doctor --json | head -c 1",
                       shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout == "[" and "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr
