"""Install opcore and the plugins this package needs, from OPCORE_SOURCE or the package index.

    python install_opcore.py                       # OPCORE_SOURCE, else the value baked in below
    python install_opcore.py --source ../opcore    # a checkout of the opcore repository
    python install_opcore.py --source "git+https://example.org/you/opcore@main"
    python install_opcore.py --extras c,gpu --dry-run

The source is a path to a checkout of the opcore repository (installed editable), a pip VCS URL
(``git+https://...``; each plugin is its ``plugins/<name>`` subdirectory), or empty for the package
index (once opcore is published there). Run it before ``pip install -e ".[test,...]"``: pip then
finds opcore already installed and does not look for it on the index.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_SOURCE = "{{ cookiecutter.opcore_source }}"
PLUGINS = {"c": ("opcore-cpu-c", "plugins/cpu_c", ""),
           "gpu": ("opcore-gpu-cuda", "plugins/gpu_cuda", "[opencl]")}


def requirements(source: str, extras: list[str]) -> list[str]:
    """The ``pip install`` arguments for the core and the plugins named by ``extras``."""
    unknown = sorted(set(extras) - set(PLUGINS))
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; choose from {sorted(PLUGINS)}")
    wanted = [PLUGINS[e] for e in extras]
    if not source:
        return ["opcore", *(dist + opt for dist, _, opt in wanted)]
    if "://" in source or source.startswith("git+"):
        base = source.split("#", 1)[0]
        return [f"opcore @ {base}",
                *(f"{dist}{opt} @ {base}#subdirectory={sub}" for dist, sub, opt in wanted)]
    root = Path(source).expanduser().resolve()
    if not (root / "opcore" / "__init__.py").exists():
        raise SystemExit(f"{root} is not a checkout of the opcore repository "
                         "(no opcore/__init__.py there); give its path or a VCS URL")
    args = ["-e", str(root)]
    for dist, sub, opt in wanted:
        args += ["-e", f"{root / sub}{opt}"]
    return args


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=os.environ.get("OPCORE_SOURCE", DEFAULT_SOURCE),
                    help="checkout path, VCS URL, or '' for the package index "
                         "(default: $OPCORE_SOURCE, else the value given to opcore new-op)")
    ap.add_argument("--extras", default="", help="comma-separated: c (the C backend), gpu")
    ap.add_argument("--dry-run", action="store_true", help="print the pip command only")
    args = ap.parse_args(argv)
    extras = [e for e in args.extras.split(",") if e]
    cmd = [sys.executable, "-m", "pip", "install", *requirements(args.source, extras)]
    print(" ".join(cmd))
    if args.dry_run:
        return 0
    result = subprocess.run(cmd)
    if result.returncode and not args.source:
        print("opcore could not be installed from the package index; give a checkout path or a "
              "VCS URL with --source or OPCORE_SOURCE", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
