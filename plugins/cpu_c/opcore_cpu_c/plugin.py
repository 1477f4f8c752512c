"""The ``cpu_c`` plugin's hooks: the ``c`` backend, its flags and ``opcore cache``."""

from __future__ import annotations

from typing import Any

from opcore.plugins.hookspecs import hookimpl
from opcore.plugins.registries import Backend


def _linker(mode: Any) -> Any:
    from opcore_cpu_c.linker import CLinker

    return CLinker()


def _available() -> tuple[bool, str]:
    from opcore_cpu_c.compiler import compiler_ok

    return compiler_ok()


def _supports(op: Any) -> tuple[bool, str]:
    return True, ""  # every op runs: C where it has C, else its Python thunk in the schedule


@hookimpl
def opcore_register_config(config: Any) -> None:
    config.add("cpu_c__optimization", "C compiler optimisation flags",
               "-O2 -ftree-vectorize -fno-math-errno")
    config.add("cpu_c__blas", "BLAS for 2-d Dot: 'numpy' (NumPy's, sharing its thread pool) or "
               "'scipy' (scipy.linalg.cython_blas function pointers)", "numpy",
               choices=("numpy", "scipy"))
    config.add("cpu_c__pch", "Precompile the Python/NumPy headers once (GCC)", True,
               convert=lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true"))
    config.add("cpu_c__cache_timeout", "Seconds after which a cache lock is stale", 120.0,
               convert=float)


@hookimpl
def opcore_register_impls(impls: Any) -> None:
    from opcore_cpu_c.impls import register_all

    register_all(impls)


@hookimpl
def opcore_register_backends(backends: Any) -> None:
    backends.register(Backend(
        name="c", priority=10, available=_available, linker_factory=_linker,
        doc="C: one compiled CPython extension per function (system C compiler + NumPy C-API)",
        supports=_supports))


def _cache_configure(parser: Any) -> None:
    parser.add_argument("action", choices=("list", "clear", "purge"),
                        help="list entries, clear them (--older-than DAYS) or purge the directory")
    parser.add_argument("--older-than", type=float, default=None, metavar="DAYS")


def _cache_run(args: Any) -> int:
    from opcore_cpu_c import compiler

    if args.action == "list":
        entries = compiler.list_entries()
        for key, size, mtime in entries:
            import time

            print(f"{key[:16]}  {size / 1024:8.1f} KiB  "
                  f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(mtime))}")
        print(f"{len(entries)} entries in {compiler.cache_root()}")
    elif args.action == "clear":
        n = compiler.clear(args.older_than)
        print(f"removed {n} entries from {compiler.cache_root()}")
    else:
        root = compiler.cache_root()
        compiler.purge()
        print(f"purged {root}")
    return 0


@hookimpl
def opcore_register_commands(commands: Any) -> None:
    commands.add("cache", "list, clear or purge the C backend's compiled-module cache",
                 _cache_run, _cache_configure)


@hookimpl
def opcore_doctor_checks(report: Any) -> None:
    from opcore.config import config

    from opcore_cpu_c.doctor import add_checks

    add_checks(report, config)
