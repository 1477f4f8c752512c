"""Plugin loading: namespace claims, opcore's own registrations first, slow imports named,
flag values rejected when a plugin declares them.  Every check runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from plugin_dists import write_distribution

CLAIM = '''
from opcore.plugins import hookimpl

@hookimpl
def opcore_register_ops(namespaces):
    namespaces.add({namespace!r}, "{module}.api")
'''


def _claimant(site: Path, dist: str, namespace: str) -> None:
    module = dist.replace("-", "_")
    write_distribution(site, dist, "1.0", {
        f"{module}/__init__.py": "", f"{module}/plugin.py": CLAIM.format(namespace=namespace,
                                                                        module=module),
        f"{module}/api.py": f"WHO = {module!r}\n"}, {module: f"{module}.plugin"})


def _run(site: Path, code: str, disable: str = "cpu_c,gpu_cuda,sparse,nnet",
         **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OPCORE_")}
    full.update(OPCORE_RC=os.devnull, PYTHONPATH=str(site), OPCORE_DISABLE_PLUGINS=disable)
    if "OPCORE_FLAGS" in os.environ:  # keep the run's private compile cache
        full["OPCORE_FLAGS"] = os.environ["OPCORE_FLAGS"]
    if "OPCORE_FLAGS" in env:
        full["OPCORE_FLAGS"] = ",".join(filter(None, [full.get("OPCORE_FLAGS"),
                                                       env.pop("OPCORE_FLAGS")]))
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          timeout=120)


REPORT = ("import json, opcore.plugins as p\n"
          "h = p.get_host().ensure_loaded(strict=False, warn=False)\n"
          "print(json.dumps({r.name: r.errors for r in h.plugins}))\n")


def test_namespace_claimed_by_two_plugins_is_an_error_naming_both(site):
    _claimant(site, "aaa-claims", "opcore.shared_ns")
    _claimant(site, "bbb-claims", "opcore.shared_ns")
    r = _run(site, REPORT + "import opcore.shared_ns as m; print(m.WHO)")
    assert r.returncode == 0, r.stderr
    errors = json.loads(r.stdout.splitlines()[0])
    assert errors["aaa_claims"] == []
    (msg,) = errors["bbb_claims"]
    assert "'opcore.shared_ns'" in msg and "'aaa_claims'" in msg and "'bbb_claims'" in msg, msg
    assert r.stdout.splitlines()[1] == "aaa_claims"
    strict = _run(site, "import opcore.plugins as p; p.get_host().ensure_loaded()",
                  OPCORE_STRICT_PLUGINS="1")
    assert strict.returncode != 0 and "bbb_claims" in strict.stderr, strict.stderr


def test_opcores_own_plugin_keeps_its_namespace_against_a_third_party(site):
    try:
        distribution("opcore-nnet")
    except PackageNotFoundError:
        pytest.skip("the nnet plugin (opcore-nnet) is not installed here")
    _claimant(site, "aaa", "opcore.tensor.nnet")  # sorts before 'nnet'
    r = _run(site, REPORT + "import opcore.tensor as T\n"
             "print(T.nnet.__name__, hasattr(T.nnet, 'softmax'))", disable="cpu_c,gpu_cuda,sparse")
    assert r.returncode == 0, r.stderr
    errors = json.loads(r.stdout.splitlines()[0])
    assert errors["nnet"] == [], errors
    (msg,) = errors["aaa"]
    assert "'opcore.tensor.nnet'" in msg and "'nnet'" in msg and "'aaa'" in msg, msg
    assert r.stdout.splitlines()[1].endswith("True") and "aaa" not in r.stdout.splitlines()[1]


def test_slow_plugin_import_is_named_in_trace_and_doctor(site):
    write_distribution(site, "opcore-slow", "1.0", {
        "opcore_slow/__init__.py": "", "opcore_slow/plugin.py": "import time\ntime.sleep(3.5)\n"},
        {"slow": "opcore_slow.plugin"})
    code = ("import json\nfrom opcore.cli import doctor_checks\n"
            "print(json.dumps([c.__dict__ for c in doctor_checks()]))")
    r = _run(site, code, OPCORE_PLUGIN_TRACE="1")
    assert r.returncode == 0, r.stderr
    assert "importing plugin 'slow'" in r.stderr and "has taken more than" in r.stderr, r.stderr
    assert "plugin 'slow' imported in 3." in r.stderr, r.stderr
    (line,) = [c for c in json.loads(r.stdout) if c["topic"] == "plugin slow"]
    assert "slow import" in line["detail"] and "OPCORE_DISABLE_PLUGINS=slow" in line["fix"]


def test_plugin_that_hangs_at_import_is_abandoned_and_named(site):
    write_distribution(site, "opcore-hang", "1.0", {
        "opcore_hang/__init__.py": "", "opcore_hang/plugin.py": "while True:\n    pass\n"},
        {"hang": "opcore_hang.plugin"})
    code = ("import numpy as np, opcore, opcore.tensor as T\nx = T.dvector('x')\n"
            "print(opcore.function([x], x * 2)(np.ones(2)))\n" + REPORT)
    r = _run(site, code, OPCORE_PLUGIN_IMPORT_TIMEOUT="1.5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "[2. 2.]"
    (msg,) = json.loads(r.stdout.splitlines()[1])["hang"]
    assert "PluginImportTimeout" in msg and "opcore_hang.plugin" in msg and "1.5 s" in msg, msg


@pytest.mark.parametrize("value, why", [("-1", "out of range"), ("nan", "not finite"),
                                        ("abc", "cannot be read")])
def test_bad_plugin_flag_value_is_an_error_naming_flag_and_accepted_values(site, value, why):
    try:
        distribution("opcore-cpu-c")
    except PackageNotFoundError:
        pytest.skip("the C backend plugin (opcore-cpu-c) is not installed here")
    code = ("import opcore, opcore.tensor as T\nx = T.dvector('x')\n"
            "opcore.function([x], x * 2, mode=opcore.compile.Mode(backend='c'))")
    r = _run(site, code, disable="", OPCORE_FLAGS=f"cpu_c__cache_timeout={value}")
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert "config flag 'cpu_c__cache_timeout'" in last and why in last, r.stderr[-2000:]
    assert "accepted values: a finite number >= 0" in last
