"""The ``opcore`` command: ``opcore plugins``, ``opcore doctor`` and plugin-provided commands.

Subcommands come from the ``opcore_register_commands`` hook (the core's own included), so
``opcore cache ...`` appears when the C plugin is installed.  ``opcore --version`` loads no plugin.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import numpy

from opcore.cbuild.trust import check_path
from opcore.graph.op import Op
from opcore.plugins import WELL_KNOWN_COMMANDS, flag_install_hint, install_hint
from opcore.plugins.manager import SLOW_IMPORT_SECONDS, _core_version
from opcore.plugins import get_host

# The first-party plugins `opcore doctor` mentions when they are not loaded, with what they add.
FIRST_PARTY = {"opcore-cpu-c": "C backend", "opcore-nnet": "nnet ops",
               "opcore-sparse": "sparse ops", "opcore-gpu-cuda": "GPU backend"}

#: Version of the ``opcore plugins --json`` document; bumped only on incompatible changes.
PLUGINS_JSON_SCHEMA_VERSION = 1


def _version() -> str:
    return _core_version()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``opcore`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        print(f"opcore {_version()}")
        return 0

    host = get_host().ensure_loaded(strict=False, warn=False)
    parser = argparse.ArgumentParser(prog="opcore", description="opcore command line tools")
    parser.add_argument("-V", "--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in sorted(host.commands.commands.items()):
        command = command.resolved()
        helptext = command.help
        if command.plugin != "core":
            helptext += f" [{command.plugin}]"
        p = sub.add_parser(name, help=helptext, description=command.help)
        if command.configure is not None:
            command.configure(p)
        p.set_defaults(_command=command)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in WELL_KNOWN_COMMANDS and first not in host.commands.commands:
        dist = WELL_KNOWN_COMMANDS[first]
        print(f"opcore: the command {first!r} comes with {dist}; "
              f"{install_hint(dist, host)}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.version:
        print(f"opcore {_version()}")
        return 0
    command = getattr(args, "_command", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        status = command.run(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`opcore doctor --json | head`): stop quietly, as Unix tools do;
        # point stdout at devnull so the interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return int(status or 0)


# -- opcore plugins ------------------------------------------------------------------------------
def configure_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="machine-readable output (schema in docs/plugins.md)")


def plugins_document() -> dict[str, Any]:
    """The ``opcore plugins --json`` document (a public, versioned schema)."""

    host = get_host()
    plugins = host.report()
    impls = host.impls.by_backend()
    own = _ops_defining({d["adapter"] for d in impls.values() if d.get("adapter")}, host)
    return {
        "schema_version": PLUGINS_JSON_SCHEMA_VERSION,
        "opcore_version": _version(),
        "plugins": plugins,
        "backends": [
            {"name": b.name, "priority": b.priority, "plugin": host.backends.plugin_of(b.name),
             "ok": host.health(b)[0], "reason": host.health(b)[1],
             "impls": impls.get(b.name, {}).get("ops", []),
             "adapter": impls.get(b.name, {}).get("adapter"),
             "own_impls": own.get(impls.get(b.name, {}).get("adapter") or "", [])}
            for b in host.backends.by_priority()
        ],
    }


def _ops_defining(methods: set[str], host: Any) -> dict[str, list[str]]:
    """Per adapter method (``c_code``), the op classes of the core and of the plugins'
    namespaces that define it themselves (their own implementation for that backend)."""
    for namespace in host.namespaces.names():
        try:
            host.namespaces.resolve(namespace)
        except Exception:  # a broken plugin namespace is reported by the plugin's own line
            continue
    # and the public names of each loaded plugin's package (imported lazily by the packages)
    for record in host.plugins:
        if record.status != "loaded" or not record.module or record.name == "core":
            continue
        try:
            package = importlib.import_module(record.module.split(".")[0].split(":")[0])
            for name in getattr(package, "__all__", ()):
                getattr(package, name, None)
        except Exception:  # a broken plugin is reported by its own line
            continue
    out: dict[str, list[str]] = {m: [] for m in methods}
    seen: set[type] = set()
    todo = list(Op.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if "<locals>" in cls.__qualname__ or cls.__module__.startswith(("test", "__main__")):
            continue
        for method in methods:
            if method in vars(cls):
                out[method].append(f"{cls.__module__}.{cls.__qualname__}")
    return {m: sorted(names) for m, names in out.items()}


def _summary(registers: dict[str, list[str]]) -> str:
    parts = []
    for key in ("backends", "namespaces", "ops", "rewrites", "impls", "flags", "commands"):
        items = registers.get(key) or []
        if not items:
            continue
        if key in ("backends", "namespaces", "commands") or len(items) <= 2:
            parts.append(f"{key}: {', '.join(items)}")
        else:
            parts.append(f"{len(items)} {key}")
    return "; ".join(parts) or "-"


def run_plugins(args: argparse.Namespace) -> int:
    doc = plugins_document()
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        rows = [("NAME", "DISTRIBUTION", "VERSION", "STATUS", "HEALTH", "REGISTERS")]
        for p in doc["plugins"]:
            health = "ok" if p["health"]["ok"] else "PROBLEM"
            rows.append((p["name"], p["distribution"] or "-", p["version"] or "-", p["status"],
                         health, _summary(p["registers"])))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[5])
        print("\nIMPLEMENTATIONS (by backend; an op's own method named by the adapter comes first)")
        for b in doc["backends"]:
            names = ", ".join(name.rpartition(".")[2] for name in b["impls"]) or "-"
            print(f"  {b['name']} ({len(b['impls'])} registered): {names}")
            if b["own_impls"]:
                own = ", ".join(name.rpartition(".")[2] for name in b["own_impls"])
                print(f"    + {len(b['own_impls'])} ops defining {b['adapter']}: {own}")
        for p in doc["plugins"]:
            if p["error"]:
                print(f"\n{p['name']}: {p['error']}")
                if p["hint"]:
                    print(f"  fix: {p['hint']}")
            elif not p["health"]["ok"]:
                print(f"\n{p['name']}: {p['health']['reason']}")
    strict = os.environ.get("OPCORE_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")
    failed = any(p["error"] for p in doc["plugins"])
    return 1 if strict and failed else 0


# -- opcore doctor -------------------------------------------------------------------------------
@dataclass
class Check:
    """One line of ``opcore doctor``: ``status`` is ``ok``, ``note`` (optional part absent) or
    ``problem`` (something is broken; the exit status is then non-zero)."""

    topic: str
    status: str
    detail: str
    fix: str = ""
    plugin: str = "core"


def configure_doctor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _check_python() -> Check:
    version = platform.python_version()
    if sys.version_info < (3, 10):
        return Check("Python", "problem", version, "opcore needs Python >= 3.10")
    return Check("Python", "ok", f"{version} ({sys.executable})")


def _check_numpy() -> Check:
    # opcore.graph imports NumPy, so reaching this line means it imported
    return Check("NumPy", "ok", numpy.__version__)


def _check_cache(config: Any) -> Check:
    path = os.path.expanduser(str(getattr(config, "compiledir", "") or ""))
    if not path or not os.path.isabs(path):
        return Check("cache dir", "problem", f"config.compiledir={path!r} is not an absolute path",
                     "set OPCORE_FLAGS=compiledir=/an/absolute/dir")
    if os.path.isdir(path):
        try:
            check_path(path)
        except OSError as exc:
            return Check("cache dir", "problem", str(exc),
                         "see docs/cache.md (opcore compiles into a private temporary cache "
                         "meanwhile)")
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK):
        state = "exists" if probe == path else "will be created"
        return Check("cache dir", "ok", f"{path} (writable, {state})")
    return Check("cache dir", "problem", f"{path} is not writable",
                 "fix its permissions or set OPCORE_FLAGS=compiledir=/a/writable/dir")


def _check_plugins(host: Any) -> list[Check]:
    checks = []
    for p in host.report():
        if p["status"] == "disabled":
            checks.append(Check(f"plugin {p['name']}", "note", p["health"]["reason"]))
        elif p["error"]:
            checks.append(Check(f"plugin {p['name']}", "problem", p["error"], p["hint"] or ""))
        elif (p.get("import_seconds") or 0) > SLOW_IMPORT_SECONDS:
            checks.append(Check(f"plugin {p['name']}", "note",
                                f"slow import: {p['import_seconds']:.1f} s (every process that "
                                "compiles pays it)", "report it to its maintainers; "
                                f"OPCORE_DISABLE_PLUGINS={p['name']} if you do not need it"))
        elif not p["health"]["ok"]:
            checks.append(Check(f"plugin {p['name']}", "problem", p["health"]["reason"],
                                "see the reason, or uninstall the plugin"))
        else:
            checks.append(Check(f"plugin {p['name']}", "ok", p["version"] or ""))
    loaded = {(p["distribution"] or "").replace("_", "-").lower() for p in host.report()
              if p["status"] == "loaded"}
    for dist, what in FIRST_PARTY.items():
        if dist not in loaded:
            checks.append(Check(what, "note", install_hint(dist, host), "", dist))
    unknown = host.config.config.unknown_flags()
    for name, source in unknown.items():
        hint = flag_install_hint(name, host).lstrip("; ")
        checks.append(Check("config", "problem", f"unknown flag {name!r} set in {source}",
                            hint or "fix the spelling, or install the plugin that declares it"))
    return checks


def doctor_checks() -> list[Check]:
    """Every ``opcore doctor`` check, in display order."""

    host = get_host().ensure_loaded(strict=False, warn=False)
    config = host.config.config
    checks = [_check_python(), _check_numpy(), _check_cache(config)]
    checks += [Check(c["topic"], c["status"], c["detail"], c["fix"], c.get("plugin") or "core")
               for c in host.doctor_checks()]
    checks += _check_plugins(host)
    return checks


def run_doctor(args: argparse.Namespace) -> int:
    checks = doctor_checks()
    problems = [c for c in checks if c.status == "problem"]
    if getattr(args, "json", False):
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        topics = [c.topic if c.plugin == "core" else f"{c.topic} [{c.plugin}]" for c in checks]
        width = max(len(t) for t in topics)
        for c, topic in zip(checks, topics):
            label = {"ok": "OK", "note": "note", "problem": "PROBLEM"}[c.status]
            print(f"{label:<8} {topic.ljust(width)}  {c.detail}")
            if c.fix and c.status != "ok":
                print(f"{'':<8} {'':<{width}}  fix: {c.fix}")
        print(f"\n{len(problems)} problem(s)" if problems else "\nno problems found")
    return 1 if problems else 0
