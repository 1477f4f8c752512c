"""The ``core`` plugin: opcore's own backend, rewrites and CLI commands, registered like any
plugin's (a third-party plugin can do everything the core does).

This module is the top of the core's layers: it wires the layers below (the compile layer's
Python linker, the tensor and scan rewrites, the commands) into the plugin host, which loads
it by name (``importlib``) when plugins load, so nothing below imports it.
"""

from __future__ import annotations

from typing import Any

from opcore.compile.linker import PyLinker
from opcore.plugins.hookspecs import hookimpl
from opcore.plugins.manager import get_host
from opcore.plugins.registries import (
    Backend,
    BackendRegistry,
    CommandRegistry,
    RewriteRegistry,
)
from opcore.scan.rewriting import register_control_flow
from opcore.tensor.rewriting import register_all


def _py_linker(mode: Any) -> Any:
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
    register_all(rewrites)
    register_control_flow(rewrites)  # ifelse and scan rewrites


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
