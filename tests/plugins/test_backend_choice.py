"""Which backend compiles: priority, health, notices and explicit names."""

from __future__ import annotations

import json

import pytest
from plugin_dists import by_name, opcore_cli, plugins_json, run_python, write_distribution

SICK = '''
from opcore.plugins import Backend, hookimpl

def _no_widget():
    return False, "no widget driver found: install widget-runtime"

def _explodes():
    raise OSError("driver crashed")

@hookimpl
def opcore_register_backends(backends):
    backends.register(Backend("sick", priority=100, available=_no_widget))
    backends.register(Backend("crashy", priority=50, available=_explodes))
'''


@pytest.fixture
def sick_site(site, good_plugin):
    write_distribution(site, "opcore-sick", "2.0", {"opcore_sick.py": SICK},
                       {"sick": "opcore_sick"})
    return site


def test_best_healthy_backend_with_one_notice_per_skipped_backend(sick_site):
    proc = run_python("""
        from opcore.plugins import get_host
        host = get_host()
        print(host.select_backend(None).name, host.select_backend(None).name)
    """, sick_site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["good", "good"]
    notices = [ln for ln in proc.stderr.splitlines() if "PluginWarning" in ln]
    assert len(notices) == 2  # once per process each, although selected twice
    assert ("backend 'sick' (plugin 'sick') is installed but unavailable, skipped: "
            "no widget driver found: install widget-runtime") in notices[0]
    assert "backend 'crashy'" in notices[1] and "OSError: driver crashed" in notices[1]


def test_named_backend_errors_say_why(sick_site):
    proc = run_python("""
        from opcore.plugins import BackendError, get_host
        host = get_host()
        for name in ("sick", "nope", "good"):
            try:
                print(host.select_backend(name).name)
            except BackendError as exc:
                print(exc)
    """, sick_site)
    assert proc.stdout.splitlines() == [
        "backend 'sick' is unavailable: no widget driver found: install widget-runtime",
        "unknown backend 'nope'; known backends: crashy, good, py, sick",
        "good",
    ], proc.stderr


def test_named_backend_of_a_failed_plugin_mentions_the_failure(site):
    write_distribution(site, "opcore-gone", "1.0", {"opcore_gone.py": "import nothing_here\n"},
                       {"gone": "opcore_gone"})
    proc = run_python("""
        from opcore.plugins import BackendError, get_host
        try:
            get_host().select_backend("gone")
        except BackendError as exc:
            print(exc)
    """, site)
    assert "unknown backend 'gone' (plugin 'gone' is failed: import failed: " in proc.stdout
    assert "nothing_here" in proc.stdout


def test_unhealthy_backend_shows_in_plugins_and_doctor(sick_site):
    doc = plugins_json(sick_site)
    sick = by_name(doc)["sick"]
    assert sick["status"] == "loaded" and sick["error"] is None
    assert sick["health"]["ok"] is False
    assert "sick: no widget driver found: install widget-runtime" in sick["health"]["reason"]
    health = {b["name"]: (b["ok"], b["plugin"]) for b in doc["backends"]}
    assert health == {"sick": (False, "sick"), "crashy": (False, "sick"),
                      "good": (True, "good"), "py": (True, "core")}
    doctor = opcore_cli(sick_site, "doctor", "--json")
    assert doctor.returncode == 1
    problems = [c for c in json.loads(doctor.stdout) if c["status"] == "problem"]
    assert [c["topic"] for c in problems] == ["plugin sick"]


def test_without_plugins_the_python_backend_is_chosen(site):
    proc = run_python("from opcore.plugins import get_host; print(get_host().select_backend().doc)",
                      site)
    assert proc.returncode == 0, proc.stderr
    assert "pure Python" in proc.stdout and proc.stderr == ""
