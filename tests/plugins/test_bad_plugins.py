"""Plugins that fail: each failure is isolated, reported with a hint, and fatal only when strict."""

from __future__ import annotations

import json

import pytest
from plugin_dists import by_name, opcore_cli, plugins_json, run_python, write_distribution

RAISING = '''
raise RuntimeError("boom at import")
'''

MISSING_DEP = '''
import opcore_no_such_dependency
'''

MISSPELT = '''
from opcore.plugins import Backend

def opcore_register_backend(backends):          # missing the final "s"
    backends.register(Backend("misspelt"))

def opcore_register_rewrites(rewrites):
    rewrites.register("misspelt_rw", lambda fgraph, node: None)
'''

CLASH = '''
from opcore.plugins import Backend, hookimpl

@hookimpl
def opcore_register_backends(backends):
    backends.register(Backend("shared_name", priority=1, doc="from {me}"))

@hookimpl
def opcore_register_rewrites(rewrites):
    rewrites.register("same_rewrite", lambda fgraph, node: None, "fast_run")
'''

HOOK_RAISES = '''
from opcore.plugins import Backend, hookimpl

@hookimpl
def opcore_register_rewrites(rewrites):
    rewrites.register("half_done", lambda fgraph, node: None)

@hookimpl
def opcore_register_backends(backends):
    raise ValueError("cannot register today")
'''

BAD_SIGNATURE = '''
from opcore.plugins import hookimpl

@hookimpl
def opcore_register_backends(registry):
    pass
'''


def _plugin(site, name, source):
    write_distribution(site, f"opcore-{name}", "0.1", {f"opcore_{name}.py": source},
                       {name: f"opcore_{name}"})


@pytest.fixture
def broken_site(site, good_plugin):
    _plugin(site, "raising", RAISING)
    _plugin(site, "missingdep", MISSING_DEP)
    return site


def test_import_error_is_recorded_with_distribution_and_hint(broken_site):
    plugins = by_name(plugins_json(broken_site))
    raising = plugins["raising"]
    assert raising["status"] == "failed"
    assert raising["distribution"] == "opcore-raising" and raising["version"] == "0.1"
    assert "RuntimeError: boom at import" in raising["error"]
    assert "OPCORE_DISABLE_PLUGINS=raising" in raising["hint"]
    assert raising["health"]["ok"] is False
    missing = plugins["missingdep"]
    assert "opcore_no_such_dependency" in missing["error"]
    assert "pip install --force-reinstall opcore-missingdep" in missing["hint"]
    assert plugins["good"]["status"] == "loaded"  # the others are unaffected


def test_broken_plugin_never_breaks_import_or_compile_path(broken_site):
    proc = run_python("""
        import warnings
        import opcore
        from opcore.plugins import PluginWarning, get_host
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            backend = get_host().select_backend(None)
            get_host().select_backend(None)
        notes = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
        print(backend.name, len(notes), "boom at import" in " ".join(notes))
    """, broken_site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["good", "2", "True"]  # one warning per failed plugin, once


def test_strict_mode_raises_naming_every_failed_plugin(broken_site):
    proc = run_python("""
        from opcore.plugins import get_host
        get_host().ensure_loaded()
    """, broken_site, env={"OPCORE_STRICT_PLUGINS": "1"})
    assert proc.returncode != 0
    assert "PluginError" in proc.stderr
    assert "'raising' (opcore-raising 0.1)" in proc.stderr
    assert "'missingdep'" in proc.stderr and "'good'" not in proc.stderr
    # import opcore itself still works under strict mode: discovery is lazy
    assert run_python("import opcore", broken_site,
                      env={"OPCORE_STRICT_PLUGINS": "1"}).returncode == 0


def test_cli_still_works_with_broken_plugins(broken_site):
    proc = opcore_cli(broken_site, "plugins")
    assert proc.returncode == 0, proc.stderr
    assert "raising: import failed: RuntimeError: boom at import" in proc.stdout
    assert "fix: " in proc.stdout
    strict = opcore_cli(broken_site, "plugins", env={"OPCORE_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    doctor = opcore_cli(broken_site, "doctor")
    assert doctor.returncode == 1
    assert "PROBLEM  plugin raising" in doctor.stdout


def test_misspelt_hook_is_reported_against_its_plugin(site):
    _plugin(site, "misspelt", MISSPELT)
    plugin = by_name(plugins_json(site))["misspelt"]
    assert "unknown hook 'opcore_register_backend'" in plugin["error"]
    assert "did you mean 'opcore_register_backends'?" in plugin["error"]
    assert plugin["registers"]["rewrites"] == ["misspelt_rw"]  # its correct hooks still run
    proc = run_python("from opcore.plugins import get_host; get_host().ensure_loaded()", site,
                      env={"OPCORE_STRICT_PLUGINS": "1"})
    assert "unknown hook 'opcore_register_backend'" in proc.stderr and proc.returncode != 0


def test_wrong_hook_signature_is_reported(site):
    _plugin(site, "badsig", BAD_SIGNATURE)
    plugin = by_name(plugins_json(site))["badsig"]
    assert plugin["status"] == "failed"
    assert "invalid hook implementation" in plugin["error"] and "registry" in plugin["error"]


def test_clash_names_both_plugins(site):
    _plugin(site, "alpha", CLASH.replace("{me}", "alpha"))
    _plugin(site, "beta", CLASH.replace("{me}", "beta"))
    doc = plugins_json(site)
    plugins = by_name(doc)
    assert plugins["alpha"]["error"] is None
    error = plugins["beta"]["error"]
    assert "backend 'shared_name' is registered by both plugin 'alpha' and plugin 'beta'" in error
    assert "rewrite 'same_rewrite' is registered by both plugin 'alpha' and plugin 'beta'" in error
    # the first registration stays in force
    assert [b["plugin"] for b in doc["backends"] if b["name"] == "shared_name"] == ["alpha"]
    proc = run_python("from opcore.plugins import get_host; get_host().ensure_loaded()", site,
                      env={"OPCORE_STRICT_PLUGINS": "1"})
    assert proc.returncode != 0 and "registered by both plugin 'alpha'" in proc.stderr


def test_clash_with_the_core_names_the_core(site):
    _plugin(site, "usurper", CLASH.replace('"shared_name"', '"py"').replace("{me}", "u"))
    error = by_name(plugins_json(site))["usurper"]["error"]
    assert "backend 'py' is registered by both plugin 'core' and plugin 'usurper'" in error


def test_a_hook_that_raises_drops_everything_the_plugin_registered(site, good_plugin):
    _plugin(site, "halfway", HOOK_RAISES)
    doc = plugins_json(site)
    plugin = by_name(doc)["halfway"]
    assert plugin["status"] == "failed"
    assert "opcore_register_backends raised ValueError: cannot register today" in plugin["error"]
    assert plugin["registers"]["rewrites"] == []
    proc = run_python("""
        import json
        from opcore.plugins import get_host
        host = get_host().ensure_loaded()
        print(json.dumps(sorted(e.name for e in host.rewrites.entries)))
    """, site)
    assert "half_done" not in json.loads(proc.stdout)


WRONG_BACKEND_NAME = '''
from opcore.plugins import hookimpl

class Op:
    pass

@hookimpl
def opcore_register_impls(impls):
    impls.register("cpu_c", Op, object())
'''


def test_impl_for_an_unknown_backend_is_reported_with_the_known_ones(site):
    _plugin(site, "wrongname", WRONG_BACKEND_NAME)
    plugins = by_name(plugins_json(site))
    bad = plugins["wrongname"]
    assert bad["status"] == "failed"
    assert "unknown backend 'cpu_c'; known backends:" in bad["error"]
    assert "py" in bad["error"].rpartition("known backends:")[2]
