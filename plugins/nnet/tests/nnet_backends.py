"""Which backends the nnet tests can use."""

from __future__ import annotations


def c_backend_ok() -> tuple[bool, str]:
    """Whether the ``c`` backend (opcore-cpu-c) is installed and healthy, with the reason."""
    from opcore.plugins import get_host

    host = get_host().ensure_loaded()
    if "c" not in host.backends:
        return False, "the cpu_c plugin (opcore-cpu-c) is not installed"
    ok, reason = host.health(host.backends["c"])
    return ok, reason
