"""The entry-point cache (opcore/plugins/discovery.py): a new process finds the plugins without
scanning every distribution's metadata, and still notices a plugin installed, removed or edited
since.  Each check runs in a fresh interpreter on a temporary site directory and compile cache."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from opcore.plugins.discovery import FoundEntryPoint
from plugin_dists import AMBIENT, run_python, write_distribution

PROBE = """
import json, sys
from opcore.plugins import get_host
host = get_host().ensure_loaded(strict=False, warn=False)
print(json.dumps({"plugins": sorted(r.name for r in host.plugins if r.status == "loaded"),
                  "scanned": "importlib.metadata" in sys.modules}))
"""

PLUGIN = "from opcore.plugins import hookimpl\n"


def _age(path: Path, seconds: float) -> None:
    """Set the modification time of ``path`` and everything below it to ``seconds`` ago."""
    when = time.time() - seconds
    for p in [path, *path.rglob("*")]:
        os.utime(p, (when, when))


def _install(site: Path, dist: str, entry: str, age: float = 100.0) -> Path:
    module = dist.replace("-", "_")
    info = write_distribution(site, dist, "1.0", {f"{module}/__init__.py": "",
                                                  f"{module}/plugin.py": PLUGIN},
                              {entry: f"{module}.plugin"})
    if age:
        _age(site, age)
    return info


def _probe(site: Path, cache: Path, **env: str) -> dict:
    proc = run_python(PROBE, site, env={"OPCORE_FLAGS": f"compiledir={cache}", **env})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    doc["plugins"] = [p for p in doc["plugins"] if p not in AMBIENT and p != "core"]
    return doc


def test_second_process_uses_the_cache_and_sees_installs_and_removals(site, tmp_path):
    cache = tmp_path / "cache"
    _install(site, "opcore-alpha", "alpha")
    assert _probe(site, cache) == {"plugins": ["alpha"], "scanned": True}
    assert _probe(site, cache) == {"plugins": ["alpha"], "scanned": False}  # from the cache
    assert list((cache / "plugins").glob("entry-points-*.json"))

    # installed since: a new *.dist-info (times in the past, so no "recent change" shortcut)
    _install(site, "opcore-beta", "beta", age=50.0)
    assert _probe(site, cache) == {"plugins": ["alpha", "beta"], "scanned": True}
    assert _probe(site, cache) == {"plugins": ["alpha", "beta"], "scanned": False}

    # removed since
    shutil.rmtree(site / "opcore_alpha-1.0.dist-info")
    shutil.rmtree(site / "opcore_alpha")
    assert _probe(site, cache) == {"plugins": ["beta"], "scanned": True}


def test_an_edited_entry_points_file_is_noticed(site, tmp_path):
    cache = tmp_path / "cache"
    info = _install(site, "opcore-beta", "beta")
    assert _probe(site, cache)["plugins"] == ["beta"]
    assert _probe(site, cache) == {"plugins": ["beta"], "scanned": False}
    (info / "entry_points.txt").write_text("[opcore]\nrenamed = opcore_beta.plugin\n")
    _age(info / "entry_points.txt", 30.0)  # an older time than the cache's: still a change
    assert _probe(site, cache) == {"plugins": ["renamed"], "scanned": True}


def test_a_just_written_distribution_is_never_cached_stale(site, tmp_path):
    cache = tmp_path / "cache"
    _install(site, "opcore-alpha", "alpha")
    assert _probe(site, cache)["plugins"] == ["alpha"]
    _install(site, "opcore-beta", "beta", age=0)  # times of now: a racy state is not stored
    assert _probe(site, cache)["plugins"] == ["alpha", "beta"]
    assert _probe(site, cache)["plugins"] == ["alpha", "beta"]


def test_a_cache_file_others_can_write_is_ignored(site, tmp_path):
    cache = tmp_path / "cache"
    _install(site, "opcore-alpha", "alpha")
    _probe(site, cache)
    assert _probe(site, cache)["scanned"] is False
    (path,) = (cache / "plugins").glob("entry-points-*.json")
    doc = json.loads(path.read_text())
    doc["entry_points"] = [dict(doc["entry_points"][0], name="planted")]
    path.write_text(json.dumps(doc))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IWOTH)
    assert _probe(site, cache) == {"plugins": ["alpha"], "scanned": True}


def test_the_cache_can_be_switched_off(site, tmp_path):
    cache = tmp_path / "cache"
    _install(site, "opcore-alpha", "alpha")
    _probe(site, cache)
    assert _probe(site, cache, OPCORE_PLUGIN_CACHE="0") == {"plugins": ["alpha"], "scanned": True}


@pytest.mark.parametrize("value", ["os.path:join", "os.path: join [extra]", "os:path.join"])
def test_a_cached_entry_point_loads_like_importlib_metadata(value):
    ep = FoundEntryPoint("x", value, "dist", "1.0")
    assert ep.load() is os.path.join
    assert FoundEntryPoint("x", "os.path", None, None).load() is os.path
