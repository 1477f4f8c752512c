"""Fixtures for the template's tests: baking the template, and ONE fresh virtual environment per
session into which the core, the repository's plugins and each baked package are pip-installed.

The venv is made with ``--system-site-packages`` (NumPy, SciPy, pytest and cookiecutter come from
the running interpreter) and ``--without-pip`` (the running interpreter's pip installs into it with
``pip --python``).  Installs use ``--no-deps`` and, when setuptools can build wheels offline,
``--no-build-isolation``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = ("cpu_c", "gpu_cuda", "nnet", "sparse")


def _can_build_offline() -> bool:
    """setuptools >= 70.1 has bdist_wheel; older ones need the ``wheel`` package."""
    try:
        import setuptools

        major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
        if (major, minor) >= (70, 1):
            return True
        import wheel  # noqa: F401
    except Exception:
        return False
    return True


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for subprocesses: no pytest or PYTHONPATH leaking in, strict plugins."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "PYTHONPATH", "OPCORE_PLUGINS",
                                "OPCORE_DISABLE_PLUGINS", "VIRTUAL_ENV"))}
    env["OPCORE_STRICT_PLUGINS"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


class Venv:
    """A virtual environment: ``run`` its Python, ``pip`` into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = str(path / "bin" / "python")
        self.build_flags = ["--no-build-isolation"] if _can_build_offline() else []

    @staticmethod
    def env(**extra: str) -> dict[str, str]:
        """:func:`clean_env` (test modules cannot import conftest under --import-mode=importlib)."""
        return clean_env(**extra)

    def run(self, *args: str, cwd: str | Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, *args], cwd=cwd, env=env or clean_env(),
                              capture_output=True, text=True, timeout=timeout)

    def pip(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "pip", "--python", self.python, "--no-input", *args]
        proc = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def install(self, *targets: str, editable: bool = False) -> None:
        args = ["install", "-q", "--no-deps", *self.build_flags]
        for t in targets:
            args += (["-e", t] if editable else [t])
        self.pip(*args)

    def plugins_json(self) -> dict:
        import json

        proc = self.run("-m", "opcore", "plugins", "--json")
        if proc.returncode != 0:
            raise AssertionError(f"opcore plugins --json failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def cookiecutter_available() -> None:
    pytest.importorskip("cookiecutter", reason="cookiecutter is not installed: "
                        "pip install 'opcore[templates]'")


@pytest.fixture(scope="session")
def venv(tmp_path_factory, cookiecutter_available) -> Venv:
    """One fresh venv per session with opcore and the repository's plugins pip-installed."""
    import venv as venv_mod

    path = tmp_path_factory.mktemp("venv") / "env"
    venv_mod.EnvBuilder(system_site_packages=True, with_pip=False).create(path)
    env = Venv(path)
    plugins = [str(REPO / "plugins" / p) for p in PLUGINS
               if (REPO / "plugins" / p / "pyproject.toml").is_file()]
    env.install(str(REPO), *plugins, editable=True)
    proc = env.run("-c", "import opcore, sys; print(opcore.__file__); print(sys.prefix)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1] == str(path), "the venv's interpreter must run in the venv"
    return env


@pytest.fixture
def bake(tmp_path, cookiecutter_available):
    """``bake(name, with_c=, with_gpu=)`` renders the template and returns the project dir."""
    from opcore.templates import render

    def _bake(name: str, with_c: bool = False, with_gpu: bool = False, **kw) -> Path:
        return render(name, tmp_path, with_c=with_c, with_gpu=with_gpu, **kw)

    return _bake
