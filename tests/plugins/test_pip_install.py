"""The full path a user takes: ``pip install`` a plugin wheel into a venv, then uninstall it."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from plugin_dists import by_name, plugins_json, run_python

PLUGIN = '''
from opcore.plugins import Backend, hookimpl

@hookimpl
def opcore_register_backends(backends):
    backends.register(Backend("wheelbackend", priority=-5, doc="installed by pip"))
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(outdir: Path) -> Path:
    """A real, minimal wheel (what `pip wheel` makes), written without setuptools or wheel."""
    info = "opcore_wheeldemo-0.3.0.dist-info"
    files = {
        "opcore_wheeldemo/__init__.py": b"",
        "opcore_wheeldemo/plugin.py": PLUGIN.encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: opcore-wheeldemo\nVersion: 0.3.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: opcore-tests\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{info}/entry_points.txt": b"[opcore]\nwheeldemo = opcore_wheeldemo.plugin\n",
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = outdir / "opcore_wheeldemo-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_pip_install_then_uninstall(tmp_path):
    pytest.importorskip("pip")
    wheel = build_wheel(tmp_path)
    env_dir = tmp_path / "venv"
    # system site-packages give the venv NumPy, pluggy and pip without any download
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = str(env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["install", "--no-deps", "--no-index", str(wheel)], check=True,
                   timeout=120)

    plugin = by_name(plugins_json(None, python=python))["wheeldemo"]
    assert plugin["distribution"] == "opcore-wheeldemo" and plugin["version"] == "0.3.0"
    assert plugin["registers"]["backends"] == ["wheelbackend"]
    proc = run_python("from opcore.plugins import get_host; "
                      "print(get_host().select_backend('wheelbackend').doc)", python=python)
    assert proc.stdout.strip() == "installed by pip", proc.stderr

    subprocess.run(pip + ["uninstall", "-y", "opcore-wheeldemo"], check=True, timeout=120)
    doc = plugins_json(None, python=python)
    assert "wheeldemo" not in by_name(doc)
    assert "wheelbackend" not in [b["name"] for b in doc["backends"]]
    site = Path(run_python("import sysconfig; print(sysconfig.get_path('purelib'))",
                           python=python).stdout.strip())
    assert not list(site.glob("opcore_wheeldemo*")), "pip uninstall left files behind"
