"""The ``opcore_doctor_checks`` hook: plugin lines in ``opcore doctor``, statuses, failures."""

from __future__ import annotations

import json

import pytest
from plugin_dists import opcore_cli, write_distribution

from opcore.plugins.registries import DoctorReport

CHECKER = '''
from opcore.plugins import hookimpl

@hookimpl
def opcore_doctor_checks(report):
    report.add("widget driver", "ok", "v3 found")
    report.add("widget cache", "note", "no cache yet", "run widget --warm")
'''

BROKEN_CHECKER = '''
def opcore_doctor_checks(report):
    raise OSError("probe failed")
'''

PROBLEM_CHECKER = '''
def opcore_doctor_checks(report):
    report.add("gizmo", "problem", "gizmo device missing", "plug it in")
'''


def _plugin(site, name, source):
    write_distribution(site, f"opcore-{name}", "0.1", {f"opcore_{name}.py": source},
                       {name: f"opcore_{name}"})


def test_doctor_report_validates_status_and_records_owner():
    report = DoctorReport()
    with report.owned_by("mine"):
        report.add("thing", "ok", "fine")
    assert report.checks == [{"topic": "thing", "status": "ok", "detail": "fine", "fix": "",
                              "plugin": "mine"}]
    assert report.by_plugin == {"mine": ["thing"]}
    with pytest.raises(ValueError, match="status must be one of"):
        report.add("thing", "warning", "?")


def test_plugin_lines_appear_in_doctor(site):
    _plugin(site, "checker", CHECKER)
    proc = opcore_cli(site, "doctor", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = {c["topic"]: c for c in json.loads(proc.stdout)}
    assert checks["widget driver"]["status"] == "ok"
    assert checks["widget cache"] == {"topic": "widget cache", "status": "note",
                                      "detail": "no cache yet", "fix": "run widget --warm",
                                      "plugin": "checker"}
    text = opcore_cli(site, "doctor").stdout
    assert "fix: run widget --warm" in text and "no problems found" in text


def test_failing_or_problem_checks_make_doctor_fail(site):
    _plugin(site, "broken", BROKEN_CHECKER)
    _plugin(site, "problem", PROBLEM_CHECKER)
    _plugin(site, "checker", CHECKER)
    proc = opcore_cli(site, "doctor", "--json")
    assert proc.returncode == 1
    checks = json.loads(proc.stdout)
    bad = {c["topic"]: c["detail"] for c in checks if c["status"] == "problem"}
    assert bad["plugin broken"] == "opcore_doctor_checks raised OSError: probe failed"
    assert bad["gizmo"] == "gizmo device missing"
    # the other plugins' lines are still there
    assert any(c["topic"] == "widget driver" for c in checks)
