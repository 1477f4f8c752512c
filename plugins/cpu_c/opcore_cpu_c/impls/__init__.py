"""The C backend's implementations of the core's ops, one module per op family.

The modules mirror ``opcore/tensor/`` (``elemwise``, ``reduce``, ``basic``, ``shape``,
``subtensor``, ``blas``, ...).  Each defines ``register(impls)``, which gives backend ``c`` its
implementations through the host's :class:`~opcore.plugins.registries.ImplRegistry`; the plugin's
``opcore_register_impls`` hook calls :func:`register_all`.  There is no other table: the linker
finds every implementation with ``impls.lookup("c", node)``.

An implementation is an object with the C protocol methods taking the node (``c_code(node, name,
inputs, outputs, sub)``, ``c_support_code(node)``, ``c_code_cache_version(node)``, ...) and,
optionally, ``c_supports(node) -> bool`` for the nodes it declines.  A new module in this package
is picked up by :func:`register_all` without further wiring.
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def family_modules() -> list[str]:
    """The names of this package's op-family modules, sorted (``["basic", "blas", ...]``).

    A directory listing, not :mod:`pkgutil` (whose import costs more than the listing)."""
    return sorted({name[:-3] for folder in __path__ for name in os.listdir(folder)
                   if name.endswith(".py") and not name.startswith("_")})


def own_c_code(op: Any) -> Any:
    """The adapter of ops carrying Theano's ``c_code``: the op is its own C implementation."""
    return op if callable(getattr(op, "c_code", None)) else None


def register_all(impls: Any) -> None:
    """Make ops with their own ``c_code`` their implementation, then import every op-family module
    and call its ``register(impls)``."""
    impls.register_adapter("c", "c_code", own_c_code)
    for name in family_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(impls)
