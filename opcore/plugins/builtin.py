"""The ``core`` plugin: opcore's own backend and CLI commands, registered like any plugin's.

The core's rewrites and impls join here as the rewrite engine and the tensor ops land; keeping them
behind the same hooks means a third-party plugin can do everything the core does.
"""

from __future__ import annotations

from typing import Any

from opcore.plugins.hookspecs import hookimpl
from opcore.plugins.registries import (
    Backend,
    BackendRegistry,
    CommandRegistry,
    RewriteRegistry,
)


def _py_linker(mode: Any) -> Any:
    from opcore.compile.linker import PyLinker  # lazy: the compile layer imports the host
    from opcore.plugins.manager import get_host

    # plugins may give the Python backend faster implementations of some ops
    return PyLinker(get_host().impls.lookup)


PY_BACKEND = Backend(
    name="py",
    priority=0,
    linker_factory=_py_linker,
    doc="pure Python / NumPy: runs every op's perform(); always available",
)


@hookimpl
def opcore_register_backends(backends: BackendRegistry) -> None:
    backends.register(PY_BACKEND)


@hookimpl
def opcore_register_rewrites(rewrites: RewriteRegistry) -> None:
    from opcore.tensor.rewriting import register_all  # lazy: the tensor layer imports the host

    register_all(rewrites)
    from opcore.scan.rewriting import register_control_flow  # ifelse and scan rewrites

    register_control_flow(rewrites)


@hookimpl
def opcore_register_commands(commands: CommandRegistry) -> None:
    # named as "module:function": a command's module is imported only when the command runs
    commands.add("plugins", "list plugins, what they register and their health",
                 "opcore.cli:run_plugins", "opcore.cli:configure_plugins")
    commands.add("doctor", "check Python, NumPy, compilers, BLAS, GPU drivers and the cache",
                 "opcore.cli:run_doctor", "opcore.cli:configure_doctor")
    commands.add("cache", "list, clear or purge the compile cache (config.compiledir) of every "
                 "plugin that compiles C", "opcore.cbuild.cli:run", "opcore.cbuild.cli:configure")
    commands.add("new-op", "render the Op template into a new plugin package",
                 "opcore.templates.cli:run", "opcore.templates.cli:configure")
