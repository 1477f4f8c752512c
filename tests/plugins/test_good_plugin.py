"""A well-behaved plugin: lazy discovery, what it registers, namespaces, backend choice."""

from __future__ import annotations

import json

from plugin_dists import AMBIENT, by_name, needs_import_hook, opcore_cli, plugins_json, run_python


def test_import_opcore_loads_no_plugin_and_no_entry_point_scan(good_plugin, site):
    proc = run_python("""
        import json, sys
        import opcore, opcore.plugins
        bad = sorted(m for m in sys.modules
                     if m.startswith(("opcore_good", "pluggy", "importlib.metadata"))
                     or m in ("opcore.plugins.manager", "opcore.core_plugin"))
        print(json.dumps(bad))
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_plugins_json_lists_what_the_plugin_registers(good_plugin, site):
    doc = plugins_json(site)
    assert doc["schema_version"] == 1
    plugins = by_name(doc)
    assert list(plugins) == ["core", "good"]  # the core first, then entry points by name
    good = plugins["good"]
    assert good["distribution"] == "opcore-good"
    assert good["version"] == "1.2.0"
    assert good["status"] == "loaded"
    assert good["error"] is None
    assert good["health"] == {"ok": True, "reason": ""}
    assert good["registers"] == {
        "ops": ["Twice"],
        "namespaces": ["opcore.tensor.nnet", "opcore.goodstuff"],
        "rewrites": ["good_fold_twice"],
        "backends": ["good"],
        "impls": ["good:int"],
        "flags": ["good__level"],
        "commands": ["good-hello"],
    }
    assert plugins["core"]["registers"]["backends"] == ["py"]
    assert [b["name"] for b in doc["backends"]] == ["good", "py"]


def test_plugins_table_mentions_the_plugin(good_plugin, site):
    proc = opcore_cli(site, "plugins")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("good "))
    assert "opcore-good" in line and "1.2.0" in line and "backends: good" in line


def test_host_registries_after_loading(good_plugin, site):
    proc = run_python("""
        import json
        from opcore.plugins import get_host
        from opcore.config import config
        host = get_host().ensure_loaded()
        entry = [e for e in host.rewrites.entries if e.name == "good_fold_twice"][0]
        impl = host.impls.lookup("good", True)      # bool -> int through the MRO
        print(json.dumps({
            "best": host.select_backend(None).name,
            "named": host.select_backend("py").name,
            "rewrite": [entry.plugin, entry.phase, list(entry.tags)],
            "impl": impl.__name__,
            "no_impl": host.impls.lookup("py", True),
            "flag": [config.good__level, config.flags()["good__level"].owner],
            "linker": type(host.backends.get("good").linker_factory(None)).__name__,
        }))
    """, site, env={"OPCORE_FLAGS": "good__level=7"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "best": "good", "named": "py", "rewrite": ["good", "specialize", ["fast_run", "good"]],
        "impl": "GoodImpl", "no_impl": None, "flag": [7, "good"], "linker": "GoodLinker",
    }


@needs_import_hook
def test_namespaces_resolve_lazily_to_the_plugin_module(good_plugin, site):
    proc = run_python("""
        import sys
        import opcore
        assert "opcore_good.api" not in sys.modules
        import opcore.tensor.nnet as nnet
        from opcore.tensor.nnet import twice
        import opcore_good.api
        assert nnet is opcore_good.api and twice(4) == 8
        assert opcore_good.api.__spec__.name == "opcore_good.api"   # not renamed
        # a third-party namespace, imported before anything loaded the plugins elsewhere,
        # and a submodule of it, which must be the plugin's own module object
        from opcore.goodstuff.sub import VALUE
        import opcore_good.sub
        assert sys.modules["opcore.goodstuff.sub"] is opcore_good.sub and VALUE == 42
        print("ok")
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@needs_import_hook
def test_third_party_namespace_found_on_first_import(good_plugin, site):
    proc = run_python("import opcore.goodstuff.sub as s; print(s.VALUE)", site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"


def test_plugin_command_runs_through_the_cli(good_plugin, site):
    proc = opcore_cli(site, "good-hello", "world")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.strip() == "hello from good world"
    helptext = opcore_cli(site, "--help").stdout
    assert "good-hello" in helptext and "[good]" in helptext


def test_allow_list_and_block_list(good_plugin, site):
    none = by_name(plugins_json(site, env={"OPCORE_PLUGINS": ""}))
    assert none["good"]["status"] == "disabled"
    assert none["good"]["registers"]["backends"] == []
    assert "OPCORE_PLUGINS" in none["good"]["health"]["reason"]
    assert none["core"]["status"] == "loaded"  # the core always loads
    allowed = by_name(plugins_json(site, env={"OPCORE_PLUGINS": "other, good"}))
    assert allowed["good"]["status"] == "loaded"
    blocked = by_name(plugins_json(site, env={"OPCORE_DISABLE_PLUGINS": "good"}))
    assert blocked["good"]["status"] == "disabled"
    proc = run_python("""
        from opcore.plugins import get_host
        print(get_host().select_backend().name)
    """, site, env={"OPCORE_PLUGINS": ""})
    assert proc.stdout.strip() == "py", proc.stderr


def test_attribute_access_to_a_namespace(good_plugin, site):
    proc = run_python("import opcore.tensor as T; print(T.nnet.twice(21))", site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"


def test_removing_the_plugin_leaves_no_trace(good_plugin, site):
    assert "good" in by_name(plugins_json(site))
    for path in sorted(site.rglob("*"), reverse=True):  # what `pip uninstall` removes
        path.unlink() if path.is_file() else path.rmdir()
    doc = plugins_json(site)
    assert list(by_name(doc)) == ["core"]
    assert [b["name"] for b in doc["backends"]] == ["py"]
    proc = run_python("""
        import opcore, opcore.tensor as T
        from opcore.plugins import resolve_namespace
        for get in (lambda: T.nnet, lambda: resolve_namespace("opcore.sparse")):
            try:
                get()
            except ModuleNotFoundError as exc:   # what users already catch for optional deps
                print(exc)
    """, site)
    assert proc.stdout.splitlines() == [_missing("opcore.tensor.nnet", "nnet", "opcore-nnet"),
                                        _missing("opcore.sparse", "sparse", "opcore-sparse")
                                        ], proc.stderr


def _missing(namespace: str, plugin: str, dist: str) -> str:
    """The error for ``namespace`` when ``dist`` provides nothing in these subprocesses: the
    developer's own install of the plugin is switched off there (AMBIENT), else it is absent."""
    if plugin in AMBIENT:
        return (f"{namespace} is provided by the plugin package {dist}, and plugin {plugin!r} "
                f"({dist}) is installed but disabled: listed in OPCORE_DISABLE_PLUGINS")
    path = {"opcore-nnet": "plugins/nnet", "opcore-sparse": "plugins/sparse"}[dist]
    return (f"{namespace} is provided by a plugin: {dist} is not installed: pip install {dist} "
            f"(in a checkout of opcore: pip install -e {path})")


@needs_import_hook
def test_import_statement_for_a_missing_namespace_says_what_to_install(site):
    proc = run_python("""
        try:
            import opcore.tensor.nnet
        except ModuleNotFoundError as exc:
            print(exc)
    """, site)
    assert proc.stdout.strip() == _missing("opcore.tensor.nnet", "nnet", "opcore-nnet"), proc.stderr
