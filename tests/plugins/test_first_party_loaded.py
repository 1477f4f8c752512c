"""The test command installs every first-party plugin: in that run each one must load, so that a
plugin broken by a change fails here instead of turning its own tests into skips."""

from __future__ import annotations

import os
import shutil

import pytest

import opcore

from opcore.plugins import get_host

FIRST_PARTY = ("cpu_c", "nnet", "sparse", "gpu_cuda")


@pytest.fixture
def required():
    if os.environ.get("OPCORE_REQUIRE_PLUGINS", "") != "1":
        pytest.skip("only in the full test command (scripts/test.sh sets OPCORE_REQUIRE_PLUGINS=1)")


@pytest.mark.parametrize("name", FIRST_PARTY)
def test_first_party_plugin_loads(required, name):
    host = get_host().ensure_loaded(strict=False, warn=False)
    record = host.records.get(name)
    assert record is not None, f"plugin {name!r} is not installed"
    assert record.status == "loaded", f"plugin {name!r} is {record.status}: {record.error}"


def test_c_backend_is_healthy_with_a_compiler(required):
    if shutil.which((str(opcore.config.cxx).split() or ["cc"])[0]) is None:
        pytest.skip("no C compiler on PATH")
    host = get_host().ensure_loaded(strict=False, warn=False)
    ok, why = host.health(host.backends["c"])
    assert ok, why
