"""End to end: bake each option combination, pip-install it into the session's fresh venv, run the
baked package's own tests there, see it in ``opcore plugins --json``, uninstall it, see it gone;
and prove the generated tests catch a wrong ``perform``.

The slow steps run once for all combinations (one ``pip install``, the test suites in parallel,
one ``pip uninstall``) in the module fixture ``lifecycle``; each test then checks one combination.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: how many tests each part of the generated suite has
N_TESTS = {"op": 19, "c": 4, "gpu": 4}

COMBOS = {  # name: (with_c, with_gpu)
    "tplplain": (False, False),
    "tplc": (True, False),
    "tplgpu": (False, True),
    "tplboth": (True, True),
}
BROKEN = ("tplplain", "tplc")  # perform is broken in a copy of these
#: the Op guide's AXPB, made from the template with these options
EXAMPLE = REPO / "examples" / "opcore-axpb"
EXAMPLE_OPTIONS = dict(with_c=True, with_gpu=True, class_name="AXPBOp", opcore_source="", extra={
    "description": "The Op guide's AXPB op (a * x + b) for opcore, in Python, C and on the GPU",
    "author": "opcore developers"})


def _summary(out: str) -> dict[str, int]:
    """Counts from pytest's last line ('3 passed, 1 skipped in 2.0s')."""
    tail = (out.strip().splitlines() or [""])[-1]
    return {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail)}


def _break_perform(root: Path, package: str, dest: Path) -> Path:
    """A copy of the package whose perform computes a * x - b instead of a * x + b."""
    target = dest / package
    shutil.copytree(root / package, target)
    op = target / "op.py"
    src = op.read_text()
    good = "np.asarray(self.a * x + self.b, dtype=dtype)"
    assert good in src, "the template's perform changed: update this test"
    op.write_text(src.replace(good, "np.asarray(self.a * x - self.b, dtype=dtype)"))
    return dest


def _start(venv, args: list[str], cwd: Path | None = None, **env: str) -> subprocess.Popen:
    return subprocess.Popen([venv.python, *args], cwd=cwd, env=venv.env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _tests(venv, root: Path, pythonpath: Path | None = None) -> subprocess.Popen:
    # run from tests/ so that `python -m` puts tests/, not the source tree, first on sys.path:
    # the installed package (or the PYTHONPATH copy) is what gets tested
    extra = {"PYTHONPATH": str(pythonpath)} if pythonpath else {}
    return _start(venv, ["-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "."],
                  cwd=root / "tests", **extra)


def _finish(procs: dict[str, subprocess.Popen], timeout: float = 400) -> dict[str, tuple]:
    return {k: (p.wait(timeout=timeout), *p.communicate()) for k, p in procs.items()}


@pytest.fixture(scope="module")
def lifecycle(venv, tmp_path_factory):
    from opcore.templates import render

    base = tmp_path_factory.mktemp("baked")
    roots = {name: render(name, base, with_c=c, with_gpu=g) for name, (c, g) in COMBOS.items()}
    broken = {name: _break_perform(roots[name], f"opcore_{name}", base / f"broken-{name}")
              for name in BROKEN}
    example = base / "opcore-axpb"  # a copy: building in place would litter the repository
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    venv.install(*(str(r) for r in roots.values()), str(example))

    procs = {f"tests:{n}": _tests(venv, r) for n, r in roots.items()}
    procs.update({f"broken:{n}": _tests(venv, roots[n], broken[n]) for n in BROKEN})
    procs["tests:axpb"] = _tests(venv, example)
    procs["json"] = _start(venv, ["-m", "opcore", "plugins", "--json"])
    procs["clash"] = _start(venv, ["-m", "opcore", "new-op", "tplplain", "-o",
                                   str(base / "again"), "--no-input"])
    installed = _finish(procs)

    venv.pip("uninstall", "-y", *(f"opcore-{n}" for n in COMBOS), "opcore-axpb")
    after = {"json": _start(venv, ["-m", "opcore", "plugins", "--json"]),
             "import:axpb": _start(venv, ["-c", "import opcore_axpb"])}
    after.update({f"import:{n}": _start(venv, ["-c", f"import opcore_{n}"]) for n in COMBOS})
    after.update({f"ns:{n}": _start(venv, ["-c", f"import opcore.{n}"]) for n in COMBOS})
    return roots, installed, _finish(after)


def _plugin(doc_run: tuple, name: str) -> dict | None:
    rc, out, err = doc_run
    assert rc == 0, f"opcore plugins --json failed ({rc}):\n{out}\n{err}"
    doc = json.loads(out)
    return next((p for p in doc["plugins"] if p["name"] == name), None)


@pytest.mark.parametrize("name", list(COMBOS))
def test_baked_package_installs_passes_is_listed_and_uninstalls(lifecycle, name):
    roots, installed, after = lifecycle
    with_c, with_gpu = COMBOS[name]

    # its own tests pass in the venv, on every installed healthy backend
    rc, out, err = installed[f"tests:{name}"]
    counts = _summary(out)
    expected = N_TESTS["op"] + N_TESTS["c"] * with_c + N_TESTS["gpu"] * with_gpu
    assert rc == 0, out + err
    assert counts.get("passed", 0) + counts.get("skipped", 0) == expected, out
    # a skip must say why (no C compiler, no GPU/OpenCL device, plugin not installed)
    for line in out.splitlines():
        if line.startswith("SKIPPED"):
            assert re.search(r"not installed|unavailable|no healthy", line), line

    # discovered, with what it registers
    entry = _plugin(installed["json"], name)
    assert entry is not None, installed["json"][1]
    assert entry["status"] == "loaded" and entry["error"] is None, entry
    assert entry["distribution"] == f"opcore-{name}" and entry["version"] == "0.1.0"
    assert entry["module"] == f"opcore_{name}.plugin"
    regs = entry["registers"]
    assert regs["ops"] == [name.title()] and regs["namespaces"] == [f"opcore.{name}"]
    assert (f"{name}_gpu_lift" in regs.get("rewrites", [])) == with_gpu

    # uninstalled: gone from the listing and from the interpreter
    assert _plugin(after["json"], name) is None
    rc, _, err = after[f"import:{name}"]
    assert rc != 0 and "ModuleNotFoundError" in err
    rc, _, err = after[f"ns:{name}"]
    assert rc != 0 and f"opcore.{name}" in err


@pytest.mark.parametrize("name", BROKEN)
def test_generated_tests_fail_when_perform_is_wrong(lifecycle, name):
    _, installed, _ = lifecycle
    rc, out, err = installed[f"broken:{name}"]
    assert rc == 1, out + err
    summary = out.split("short test summary")[-1]
    if COMBOS[name][0]:  # the C backend (the default) is right: the contract sees C != perform
        assert "FAILED test_op.py::test_op_keeps_the_op_contract" in summary, out
    else:  # perform is what runs: the independent NumPy reference disagrees
        assert "FAILED test_op.py::test_matches_numpy" in summary, out
        assert "FAILED test_op.py::test_strided_and_reversed_views" in summary, out
    # the failures come from the op, not from the install: the namespace test still passes
    assert "test_reachable_through_the_plugin_namespace" not in summary
    assert "ModuleNotFoundError" not in out


def test_an_installed_name_is_refused_by_new_op(lifecycle):
    _, installed, _ = lifecycle
    rc, out, err = installed["clash"]
    assert rc == 2, out + err
    assert "installed distribution 'opcore-tplplain'" in err


def test_the_axpb_example_installs_passes_and_uninstalls(lifecycle):
    _, installed, after = lifecycle
    rc, out, err = installed["tests:axpb"]
    assert rc == 0, out + err
    counts = _summary(out)
    assert counts.get("passed", 0) + counts.get("skipped", 0) == sum(N_TESTS.values()), out
    entry = _plugin(installed["json"], "axpb")
    assert entry is not None and entry["status"] == "loaded", entry
    assert entry["registers"]["ops"] == ["AXPBOp"]
    assert entry["registers"]["namespaces"] == ["opcore.axpb"]
    assert "axpb_gpu_lift" in entry["registers"]["rewrites"]
    assert _plugin(after["json"], "axpb") is None
    assert after["import:axpb"][0] != 0


def test_the_axpb_example_is_the_rendered_template(tmp_path):
    """examples/opcore-axpb is the template's output; only its README gains a section."""
    from opcore.templates import render

    fresh = render("axpb", tmp_path, check_installed=False, **EXAMPLE_OPTIONS)
    rendered = sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file())
    shipped = sorted(str(p.relative_to(EXAMPLE)) for p in EXAMPLE.rglob("*") if p.is_file()
                     and "__pycache__" not in p.parts and "build" not in p.parts
                     and ".egg-info" not in str(p))
    assert rendered == shipped
    for rel in rendered:
        new, old = (fresh / rel).read_text(), (EXAMPLE / rel).read_text()
        if rel == "README.md":
            assert old.startswith(new) and "the Op guide's AXPB" in old[len(new):]
        else:
            assert new == old, f"examples/opcore-axpb/{rel} differs from the template's output"
