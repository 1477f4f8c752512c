"""The entry point of {{ cookiecutter.project_slug }} (``[project.entry-points.opcore]`` in
pyproject.toml).  opcore calls these hooks once per process; keep this module cheap to import and
import the op modules inside the hooks.
"""

from __future__ import annotations

from typing import Any

from opcore.plugins import hookimpl


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    """``import opcore.{{ cookiecutter.op_name }}`` resolves (lazily) to ``{{ cookiecutter.package_name }}.api``."""
    namespaces.add("opcore.{{ cookiecutter.op_name }}", "{{ cookiecutter.package_name }}.api",
                   ops=("{{ cookiecutter.op_class }}",))
{%- if cookiecutter.with_gpu == "yes" %}


def _gpu_plugin_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("opcore_gpu_cuda") is not None


def _lift(fgraph: Any, node: Any) -> Any:
    from {{ cookiecutter.package_name }}.gpu import lift_{{ cookiecutter.op_name }}

    return lift_{{ cookiecutter.op_name }}(fgraph, node)


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    """Move {{ cookiecutter.op_class }} nodes to the device when compiling for the ``gpu`` backend."""
    if _gpu_plugin_installed():
        rewrites.register("{{ cookiecutter.op_name }}_gpu_lift", _lift, "gpu", phase="gpu_lift")
{%- endif %}
