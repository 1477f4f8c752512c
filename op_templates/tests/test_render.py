"""Rendering the template (in-process, fast): files per option, valid Python/TOML/YAML-ish output,
name checks before anything is written, and the ``opcore new-op`` command's messages."""

from __future__ import annotations

import py_compile
import sys
import tomllib
from pathlib import Path

import pytest

from opcore.templates import BadOpName, check_op_name, template_dir
from opcore.templates.names import check_class_name

COMMON = ["pyproject.toml", "README.md", ".github/workflows/test.yml", "tests/test_op.py"]
PKG = ["__init__.py", "api.py", "op.py", "plugin.py"]


@pytest.mark.parametrize("with_c", [False, True])
@pytest.mark.parametrize("with_gpu", [False, True])
def test_each_option_renders_the_right_files(bake, with_c, with_gpu):
    root = bake("tplrender", with_c=with_c, with_gpu=with_gpu)
    assert root.name == "opcore-tplrender"
    for f in COMMON + [f"opcore_tplrender/{p}" for p in PKG]:
        assert (root / f).is_file(), f
    assert (root / "tests" / "test_c.py").exists() == with_c
    assert (root / "tests" / "test_gpu.py").exists() == with_gpu
    assert (root / "opcore_tplrender" / "gpu.py").exists() == with_gpu
    for py in root.rglob("*.py"):
        py_compile.compile(str(py), doraise=True)
        assert "{{" not in py.read_text() and "{%" not in py.read_text(), py
    op = (root / "opcore_tplrender" / "op.py").read_text()
    assert ("def c_code(" in op) == with_c
    assert "class Tplrender(Op)" in op and '__props__ = ("a", "b")' in op
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "opcore-tplrender"
    assert meta["project"]["entry-points"]["opcore"] == {"tplrender": "opcore_tplrender.plugin"}
    extras = meta["project"]["optional-dependencies"]
    assert ("c" in extras) == with_c and ("gpu" in extras) == with_gpu
    workflow = (root / ".github/workflows/test.yml").read_text()
    assert "${{ matrix.python-version }}" in workflow
    assert ("pocl-opencl-icd" in workflow) == with_gpu
    plugin = (root / "opcore_tplrender" / "plugin.py").read_text()
    assert 'namespaces.add("opcore.tplrender", "opcore_tplrender.api"' in plugin
    assert ("gpu_lift" in plugin) == with_gpu


def test_class_name_option(bake):
    root = bake("my_thing", class_name="MyAXPB")
    assert root.name == "opcore-my-thing"
    assert "class MyAXPB(Op)" in (root / "opcore_my_thing" / "op.py").read_text()
    root2 = bake("other_thing")
    assert "class OtherThing(Op)" in (root2 / "opcore_other_thing" / "op.py").read_text()


@pytest.mark.parametrize("name, why", [
    ("1abc", "not a Python identifier"), ("my-op", "not a Python identifier"),
    ("MyOp", "must be lowercase"), ("class", "keyword"), ("", "empty"),
    ("nnet", "clashes with opcore's own"), ("cpu_c", "clashes"), ("sparse", "clashes"),
    ("tensor", "clashes"),
])
def test_bad_names_are_refused_before_writing(bake, tmp_path, name, why):
    with pytest.raises(BadOpName, match=why):
        bake(name)
    assert list(tmp_path.iterdir()) == []


def test_name_clashing_with_an_importable_module(tmp_path, monkeypatch):
    (tmp_path / "opcore_zzclash.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(BadOpName, match="importable module 'opcore_zzclash'"):
        check_op_name("zzclash")
    assert check_op_name("zzclash", check_installed=False) == "zzclash"


def test_name_clashing_with_an_installed_distribution(monkeypatch):
    import opcore.templates.names as names

    monkeypatch.setattr(names, "installed_distributions", lambda: {"opcore-fancy"})
    with pytest.raises(BadOpName, match="installed distribution 'opcore-fancy'"):
        check_op_name("fancy")


def test_bad_class_name():
    with pytest.raises(BadOpName, match="uppercase"):
        check_class_name("lower")
    with pytest.raises(BadOpName):
        check_class_name("Not-An-Identifier")


def test_hook_refuses_a_bad_name_even_without_the_cli(tmp_path, cookiecutter_available):
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    with pytest.raises(FailedHookException):
        cookiecutter(str(template_dir()), no_input=True, output_dir=str(tmp_path),
                     extra_context={"op_name": "Bad-Name"})
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> int:
    from opcore.cli import main

    return main(["new-op", *args])


def test_cli_renders(tmp_path, capsys, cookiecutter_available):
    assert _cli("tplcli", "--with-c", "-o", str(tmp_path), "--no-input") == 0
    assert (tmp_path / "opcore-tplcli" / "tests" / "test_c.py").is_file()
    assert "created" in capsys.readouterr().out
    # a second render into the same place is refused, not overwritten
    assert _cli("tplcli", "-o", str(tmp_path), "--no-input") == 1
    assert "already exists" in capsys.readouterr().err


def test_cli_bad_name_message_and_nothing_written(tmp_path, capsys):
    assert _cli("9lives", "-o", str(tmp_path / "out"), "--no-input") == 2
    err = capsys.readouterr().err
    assert "opcore new-op: op name '9lives' is not a Python identifier" in err
    assert not (tmp_path / "out").exists()
    assert _cli("nnet", "-o", str(tmp_path / "out"), "--no-input") == 2
    assert "clashes" in capsys.readouterr().err


def test_cli_without_cookiecutter_gives_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cookiecutter", None)
    monkeypatch.setitem(sys.modules, "cookiecutter.main", None)
    assert _cli("tplnocc", "-o", str(tmp_path), "--no-input") == 1
    err = capsys.readouterr().err
    assert "needs cookiecutter" in err and "pip install 'cookiecutter>=2.1'" in err
    assert list(tmp_path.iterdir()) == []


def test_new_op_is_a_registered_command():
    from opcore.plugins import get_host

    host = get_host().ensure_loaded(strict=False, warn=False)
    assert "new-op" in host.commands.commands


def test_template_found_from_the_checkout():
    assert template_dir() == Path(__file__).resolve().parents[1]


def _install_cmd(root, *args, env=None):
    import os
    import subprocess
    import sys

    full_env = dict(os.environ)
    full_env.pop("OPCORE_SOURCE", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(root / "install_opcore.py"), "--dry-run", *args],
                          capture_output=True, text=True, env=full_env, timeout=60)


def test_generated_package_installs_opcore_from_a_configurable_source(tmp_path):
    """install_opcore.py installs the core and the needed plugins from a checkout path (editable),
    a VCS URL (plugins as subdirectories) or the package index; OPCORE_SOURCE overrides."""
    import pathlib

    from opcore.templates import render

    checkout = pathlib.Path(__file__).resolve().parents[2]
    root = render("srcdemo", tmp_path, with_c=True, check_installed=False,
                  opcore_source=str(checkout))
    r = _install_cmd(root, "--extras", "c")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split(" install ", 1)[1].split() == [
        "-e", str(checkout), "-e", str(checkout / "plugins" / "cpu_c")]
    url = "git+https://example.org/team/opcore@v1"
    r = _install_cmd(root, "--extras", "c,gpu", env={"OPCORE_SOURCE": url})
    assert r.returncode == 0, r.stderr
    assert f"opcore @ {url} " in r.stdout
    assert f"opcore-cpu-c @ {url}#subdirectory=plugins/cpu_c" in r.stdout
    assert f"opcore-gpu-cuda[opencl] @ {url}#subdirectory=plugins/gpu_cuda" in r.stdout
    r = _install_cmd(root, "--source", "")
    assert r.stdout.split(" install ", 1)[1].split() == ["opcore"]
    r = _install_cmd(root, "--source", str(tmp_path))
    assert r.returncode != 0 and "not a checkout of the opcore repository" in r.stderr
    readme = (root / "README.md").read_text()
    assert "python install_opcore.py --extras c" in readme and str(checkout) in readme
    workflow = (root / ".github" / "workflows" / "test.yml").read_text()
    assert "OPCORE_SOURCE: ${{ vars.OPCORE_SOURCE }}" in workflow
    assert "python install_opcore.py --extras c" in workflow
