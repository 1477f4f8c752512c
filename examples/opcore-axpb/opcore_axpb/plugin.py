"""The entry point of opcore-axpb (``[project.entry-points.opcore]`` in
pyproject.toml).  opcore calls these hooks once per process; keep this module cheap to import and
import the op modules inside the hooks.
"""

from __future__ import annotations

from typing import Any

from opcore.plugins import hookimpl


@hookimpl
def opcore_register_ops(namespaces: Any) -> None:
    """``import opcore.axpb`` resolves (lazily) to ``opcore_axpb.api``."""
    namespaces.add("opcore.axpb", "opcore_axpb.api",
                   ops=("AXPBOp",))


def _gpu_plugin_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("opcore_gpu_cuda") is not None


def _lift(fgraph: Any, node: Any) -> Any:
    from opcore_axpb.gpu import lift_axpb

    return lift_axpb(fgraph, node)


@hookimpl
def opcore_register_rewrites(rewrites: Any) -> None:
    """Move AXPBOp nodes to the device when compiling for the ``gpu`` backend."""
    if _gpu_plugin_installed():
        rewrites.register("axpb_gpu_lift", _lift, "gpu", phase="gpu_lift")
